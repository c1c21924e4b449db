"""`manage.py serve` runs the whole hub: gunicorn and a task worker, side by side."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(*args, env, timeout=120):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=True)


def test_serve_answers_and_its_worker_sends_mail(tmp_path):
    """The web server answers, and the worker started beside it delivers a queued message."""
    port = _free_port()
    outbox = tmp_path / "outbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({
        "HUB_DATA_DIR": str(tmp_path), "HUB_PORT": str(port),
        "HUB_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "HUB_EMAIL_FILE_PATH": str(outbox), "HUB_WEB_WORKERS": "1",
    })
    _manage("migrate", "--noinput", env=env)
    _manage("createcachetable", env=env)
    _manage("collectstatic", "--noinput", "-v0", env=env)
    server = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the web server did not start"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/hub/hub.css") as r:
            assert r.status == 200 and b"--focus" in r.read()
        secret_path = "/invitations/secret-token-in-path/"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{secret_path}")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        # A stylesheet fetched from a confirmation page names that page as its referrer.
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz",
            headers={"Referer": f"http://127.0.0.1:{port}/accounts/confirm-email/refsecret/"}))
        _manage("shell", "-c", "from hub.core.services import email_queue; email_queue("
                "subject='Worker check', body='Sent by the worker.', to=['a@example.org'])",
                env=env)
        deadline = time.monotonic() + 30
        while not (outbox.exists() and any(outbox.iterdir())):
            assert time.monotonic() < deadline, "the task worker did not send the message"
            time.sleep(0.3)
        message = next(outbox.iterdir()).read_text()
        assert "Worker check" in message and "Sent by the worker." in message
        left = _manage("shell", "-c", "from hub.core.models import OutgoingEmail; "
                       "print(OutgoingEmail.objects.count())", env=env).stdout
        assert left.strip().splitlines()[-1] == "0", "a sent message must not be kept"
        # The recurring weekly digest has its next run waiting, once.
        waiting = _manage("shell", "-c", "from django_tasks_db.models import DBTaskResult; "
                          "print(DBTaskResult.objects.filter(status='READY', task_path="
                          "'hub.community.tasks.digest_weekly').count())", env=env).stdout
        assert waiting.strip().splitlines()[-1] == "1"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
    assert server.returncode == 0
    log = server.stdout.read()
    assert "GET /healthz" in log and "/invitations/[redacted]" in log
    assert "secret-token-in-path" not in log and "refsecret" not in log
