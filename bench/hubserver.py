"""The hub as the README starts it, for benchmarks: ``manage.py serve`` with two web workers
on a free port, run from a copy of the code, and session cookies for the people it measures as."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


class HubServer:
    """``manage.py serve`` with two web workers on a free port; a session cookie per person."""

    def __init__(self, scratch: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "HUB_PORT": str(self.port), "HUB_WEB_WORKERS": "2"}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log = open(scratch / "server.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "serve", "--no-tasks"], cwd=scratch / "code", env=env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start; see server.log") from None
                time.sleep(0.3)

    @staticmethod
    def cookie_for(person) -> str:
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore()
        session.update({SESSION_KEY: str(person.pk),
                        HASH_SESSION_KEY: person.get_session_auth_hash(),
                        BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0]})
        session.create()
        return f"sessionid={session.session_key}"

    def get(self, path, cookie=None) -> str:
        # http.client opens a new connection by itself when gunicorn's sync worker closes one.
        try:
            self.conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = self.conn.getresponse()
            body = response.read().decode()
        except OSError:
            self.conn.close()  # a request cut short must not leave its answer for the next one
            raise
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        return body

    def stop(self):
        self.conn.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
