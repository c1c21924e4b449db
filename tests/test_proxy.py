"""Several web processes behind nginx, and several task workers on one queue.

Everything runs as real processes on loopback, as in tests/test_serve.py: two gunicorn web
processes behind Debian's nginx (started with deploy/nginx/test.conf.template), and two
`db_worker` processes sharing one database queue.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path("/usr/sbin/nginx")
TEMPLATE = ROOT / "deploy" / "nginx" / "test.conf.template"
HOST = "hub.test"
EMAIL = "proxy-member@example.org"
PASSWORD = "proxy-test-Pa55word!"
MESSAGES = 200


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(*args, env, timeout=120):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=True)


def _wait_for(condition, what, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory):
    """A migrated scratch data directory, and the environment every process here shares."""
    data = tmp_path_factory.mktemp("proxy-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({
        "HUB_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "hub.settings",
        "HUB_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    })
    _manage("migrate", "--noinput", env=env)
    _manage("createcachetable", env=env)
    _manage("collectstatic", "--noinput", "-v0", env=env)
    return env


class Client:
    """Just enough of a browser: sends the public host name to nginx and keeps cookies."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, *, headers=None, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content


def _web(port, env, log):
    """One web process, started as `manage.py serve` starts gunicorn, with one worker."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "hub.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "--logger-class", "hub.core.redaction.RedactingLogger",
         "--forwarded-allow-ips", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _answers(port) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _count(log: Path, text: str) -> int:
    return log.read_text().count(text) if log.exists() else 0


def _proxy_headers(text: str) -> list[str]:
    return sorted(" ".join(line.split()) for line in text.splitlines()
                  if line.strip().startswith("proxy_set_header"))


def test_proxy_config_matches_production_headers():
    """The test configuration forwards the same headers as the production one it stands for."""
    production = (ROOT / "deploy" / "nginx" / "hub.conf").read_text()
    assert _proxy_headers(TEMPLATE.read_text()) == _proxy_headers(production)
    assert "server_tokens off;" in production


@pytest.mark.skipif(not NGINX.exists(), reason="needs Debian's nginx: apt-get install nginx-light")
def test_proxy_shares_requests_and_sign_in_works_through_it(hub_env, tmp_path):
    """nginx spreads requests over two web processes, survives one stopping, and a signed-in
    session (CSRF origin, host and scheme checks) works through the forwarded headers."""
    _manage("shell", "-c",
            "from allauth.account.models import EmailAddress\n"
            "from hub.members.models import User\n"
            f"u = User.objects.create_user(email={EMAIL!r}, password={PASSWORD!r})\n"
            f"EmailAddress.objects.create(user=u, email={EMAIL!r}, verified=True, primary=True)",
            env=hub_env)
    env = {**hub_env, "HUB_BEHIND_PROXY": "true", "HUB_FORWARDED_ALLOW_IPS": "127.0.0.1",
           "HUB_ALLOWED_HOSTS": f"{HOST},127.0.0.1"}
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / "web-a.log", tmp_path / "web-b.log"]
    proxy_port = _free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(TEMPLATE.read_text().replace("@PREFIX@", str(prefix))
                    .replace("@PORT@", str(proxy_port))
                    .replace("@BACKEND_A@", str(ports[0])).replace("@BACKEND_B@", str(ports[1])))
    # As root, nginx's workers would otherwise switch to `nobody`, who cannot enter tmp_path.
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    webs = [_web(port, env, log) for port, log in zip(ports, logs, strict=True)]
    nginx = None
    try:
        for port in ports:
            _wait_for(lambda port=port: _answers(port), f"the web process on {port}")
        nginx = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(prefix),  # noqa: S603
                                  "-g", globals_],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: _answers(proxy_port), "nginx", seconds=10)
        client = Client(proxy_port)

        # Requests are shared between both processes, and pages and static files come through.
        for _ in range(20):
            response, body = client.request("GET", "/healthz")
            assert response.status == 200 and '"ok"' in body
            assert response.headers["Server"] == "nginx", "server_tokens off hides the version"
        _wait_for(lambda: all(_count(log, "GET /healthz") >= 5 for log in logs),
                  "both web processes to log their share")
        for _ in range(4):
            response, body = client.request("GET", "/")
            assert response.status == 200
        response, body = client.request("GET", "/static/hub/hub.css")
        assert response.status == 200 and "--focus" in body

        # A client's own X-Forwarded-Host never reaches Django: nginx replaces it. Sent
        # straight to a web process, the same header is refused (it is not an allowed host).
        response, _ = client.request("GET", "/healthz",
                                     headers={"X-Forwarded-Host": "evil.example"})
        assert response.status == 200
        direct = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=5)
        direct.request("GET", "/healthz", headers={"Host": HOST,
                                                   "X-Forwarded-Host": "evil.example"})
        assert direct.getresponse().status == 400
        direct.close()

        # Sign in through the proxy: the form's CSRF token and cookie, the browser's Origin
        # and the forwarded host and scheme must all agree for Django to accept the POST.
        response, body = client.request("GET", "/accounts/login/")
        assert response.status == 200 and "csrftoken" in client.cookies
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        # A client claiming HTTPS over plain HTTP is corrected by nginx; were it believed,
        # the http:// Origin below would fail Django's origin check.
        response, body = client.request(
            "POST", "/accounts/login/",
            headers={"Origin": f"http://{HOST}", "Referer": f"http://{HOST}/accounts/login/",
                     "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"},
            form={"login": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token})
        assert response.status == 302, body[:500]
        assert response.headers["Location"] == "/members/me/"
        assert "sessionid" in client.cookies
        # The session made by one process is honoured by the other: ask both.
        for _ in range(2):
            response, body = client.request("GET", "/members/me/")
            assert response.status == 200, "an anonymous visitor would be sent to sign in"
            assert "<h1>My profile</h1>" in body and "Sign out" in body
        _wait_for(lambda: all(_count(log, "GET /members/me/") == 1 for log in logs),
                  "each web process to serve the signed-in page once", seconds=5)

        # One process stops: nginx sends everything to the other, and nobody sees an error.
        _stop(webs[1])
        served_by_a = _count(logs[0], "GET /healthz")
        for _ in range(10):
            response, _ = client.request("GET", "/healthz")
            assert response.status == 200
        _wait_for(lambda: _count(logs[0], "GET /healthz") == served_by_a + 10,
                  "the remaining process to serve every request")

        # It comes back, and nginx gives it requests again.
        webs[1] = _web(ports[1], env, logs[1])
        _wait_for(lambda: _answers(ports[1]), "the restarted web process")
        before = _count(logs[1], "GET /healthz") + 1  # _answers' own request

        def back_in_rotation():
            assert client.request("GET", "/healthz")[0].status == 200
            return _count(logs[1], "GET /healthz") > before

        _wait_for(back_in_rotation, "nginx to use the restarted process", seconds=15)
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        for web in webs:
            _stop(web)
    assert nginx.returncode == 0, nginx.stderr.read()


def test_two_workers_share_one_queue_without_doing_a_task_twice(hub_env, tmp_path):
    """Two task workers on one database take turns: every queued message is sent exactly once,
    and each worker sends some."""
    outboxes = {name: tmp_path / f"outbox-{name}" for name in ("a", "b")}
    logs = {name: tmp_path / f"worker-{name}.log" for name in outboxes}
    workers = []
    try:
        for name, outbox in outboxes.items():
            env = {**hub_env, "HUB_EMAIL_FILE_PATH": str(outbox)}
            with logs[name].open("w") as log:
                workers.append(subprocess.Popen(  # noqa: S603
                    [sys.executable, "manage.py", "db_worker", "--no-reload", "--queue-name",
                     "*", "--worker-id", f"worker-{name}", "--interval", "0.1",
                     "--no-startup-delay"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        # Queue everything only once both are polling, so neither has a head start.
        _wait_for(lambda: all("Starting worker" in log.read_text() for log in logs.values()),
                  "both workers to start")
        _manage("shell", "-c",
                "from django.db import transaction\n"
                "from hub.core.services import email_queue\n"
                "with transaction.atomic():\n"
                f"    for n in range({MESSAGES}):\n"
                "        email_queue(subject=f'Queue check {n}', body='One queue.',"
                " to=['a@example.org'])",
                env=hub_env)

        def subjects():
            found = []
            for outbox in outboxes.values():
                for path in outbox.glob("*") if outbox.exists() else []:
                    found += re.findall(r"^Subject: (Queue check \d+)$", path.read_text(),
                                        flags=re.M)
            return found

        _wait_for(lambda: len(subjects()) >= MESSAGES, f"{MESSAGES} messages", seconds=45)
        # Anything run twice would show up as an extra message a moment later.
        time.sleep(0.5)
    finally:
        for worker in workers:
            _stop(worker)
    sent = subjects()
    assert len(sent) == MESSAGES
    assert set(sent) == {f"Queue check {n}" for n in range(MESSAGES)}
    result = json.loads(_manage(
        "shell", "-c",
        "import json\n"
        "from django_tasks_db.models import DBTaskResult\n"
        "from hub.core.models import OutgoingEmail\n"
        "print(json.dumps({'tasks': list(DBTaskResult.objects.values_list('status', 'worker_ids')),"
        " 'left': OutgoingEmail.objects.count()}))",
        env=hub_env).stdout.strip().splitlines()[-1])
    tasks = result["tasks"]
    assert len(tasks) == MESSAGES
    assert all(status == "SUCCESSFUL" for status, _ in tasks)
    # Each task was claimed once, by one worker, and both workers took a share.
    claims = Counter(tuple(worker_ids) for _, worker_ids in tasks)
    assert set(claims) == {("worker-a",), ("worker-b",)}, claims
    assert all(any(outbox.iterdir()) for outbox in outboxes.values())
    assert result["left"] == 0, "a sent message must not be kept"
