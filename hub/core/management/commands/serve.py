"""Start the whole hub: the web server and the background task workers, side by side."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Serve the hub with gunicorn and run background task workers beside it. "
            "Stops everything when interrupted or when any part stops.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
        parser.add_argument("--web-workers", type=int,
                            default=int(os.environ.get("HUB_WEB_WORKERS", "2")))
        parser.add_argument("--task-workers", type=int,
                            default=int(os.environ.get("HUB_TASK_WORKERS", "1")))
        parser.add_argument("--no-tasks", action="store_true",
                            help="Serve the web only; run task workers elsewhere.")

    def handle(self, *args, host, port, web_workers, task_workers, no_tasks, **options):
        if settings.SECURE:
            self._refuse_unsafe_deployment()
        python = sys.executable
        commands = [[
            python, "-m", "gunicorn", "hub.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(web_workers),
            "--access-logfile", "-", "--logger-class", "hub.core.redaction.RedactingLogger",
            "--forwarded-allow-ips", os.environ.get(
                "HUB_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]]
        if not no_tasks:
            commands += [[python, "-m", "django", "db_worker", "--no-reload",
                          "--queue-name", "*"] for _ in range(task_workers)]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings"}
        children = [subprocess.Popen(cmd, env=env) for cmd in commands]  # noqa: S603
        self.stdout.write(f"The hub is running at http://{host}:{port}/ "
                          f"({web_workers} web worker(s), "
                          f"{0 if no_tasks else task_workers} task worker(s)). "
                          "Press Ctrl+C to stop.", self.style.SUCCESS)
        if settings.DEBUG:
            self.stdout.write("Debug mode is on: never use it on a public server.")
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        if not no_tasks:
            self._schedule_recurring_tasks()
        recover_every, recovered_at = min(30.0, settings.TASK_STALE_SECONDS), 0.0
        try:
            while not stopping and all(child.poll() is None for child in children):
                if not no_tasks and time.monotonic() - recovered_at > recover_every:
                    self._requeue_stale_tasks()
                    recovered_at = time.monotonic()
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(1)

    def _schedule_recurring_tasks(self):
        """Each recurring task (the weekly digest) has its next run waiting in the queue."""
        from django.db import close_old_connections

        from hub.core.tasks import RECURRING

        for ensure in RECURRING:
            ensure()
        close_old_connections()

    def _requeue_stale_tasks(self):
        """Tasks whose worker died mid-way go back to the queue: checked at start, then every
        half minute (or as often as the stale limit, if that is shorter)."""
        from datetime import timedelta

        from django.db import close_old_connections

        from hub.core.services import tasks_requeue_stale

        count = tasks_requeue_stale(older_than=timedelta(seconds=settings.TASK_STALE_SECONDS))
        close_old_connections()
        if count:
            self.stdout.write(f"Handed {count} task(s) whose worker had stopped back to the "
                              "queue.")

    def _refuse_unsafe_deployment(self):
        """On a real deployment, start only if Django's deployment checklist passes and no
        demo account (whose password is published) exists."""
        from django.core.management import call_command

        from hub.members.demo import DEMO_DOMAIN
        from hub.members.models import User

        call_command("check", deploy=True, fail_level="ERROR")
        if User.objects.filter(email__iendswith="@" + DEMO_DOMAIN).exists():
            raise CommandError(f"Demo accounts (@{DEMO_DOMAIN}) exist in this database and "
                               "HUB_SECURE is on. Deactivate or remove them before serving.")
