"""Settings as a deployment sees them, checked in fresh processes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def run_manage(*args, env_extra: dict, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"HUB_DATA_DIR": str(data_dir), **env_extra})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_in_production_settings(tmp_path):
    """Django's deployment checklist finds nothing, warnings included."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path,
                        env_extra={"HUB_SECURE": "true", "HUB_ALLOWED_HOSTS": "hub.example.org",
                                   "HUB_EMAIL_BACKEND": SMTP,
                                   "HUB_SECRET_KEY": "k" * 20 + "Q7-x_vZ2pL9mN4bR8tY1wE6uI3oP0aS5"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_refuses_undelivered_mail(tmp_path):
    """Served over HTTPS with mail going only to the console, the checklist fails."""
    result = run_manage("check", "--deploy", data_dir=tmp_path, env_extra={
        "HUB_SECURE": "true", "HUB_ALLOWED_HOSTS": "hub.example.org",
        "HUB_SECRET_KEY": "k" * 20 + "Q7-x_vZ2pL9mN4bR8tY1wE6uI3oP0aS5"})
    assert result.returncode != 0 and "hub.E001" in result.stderr


def test_secret_key_required_when_secure(tmp_path):
    """Served over HTTPS without HUB_SECRET_KEY, the hub refuses to start."""
    result = run_manage("check", data_dir=tmp_path, env_extra={"HUB_SECURE": "true"})
    assert result.returncode != 0
    assert "HUB_SECRET_KEY must be set" in result.stderr


def test_local_secret_key_made_once(tmp_path):
    """On a laptop the key is generated once into the data directory and kept private."""
    assert run_manage("check", data_dir=tmp_path, env_extra={}).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert run_manage("check", data_dir=tmp_path, env_extra={}).returncode == 0
    assert key_file.read_text() == first and len(first) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_sqlite_runs_in_wal_with_full_sync(tmp_path):
    """Every SQLite connection uses WAL, synchronous FULL and a busy timeout."""
    code = ("from django.db import connection\n"
            "c = connection.cursor()\n"
            "print([c.execute(f'PRAGMA {p}').fetchone()[0] for p in "
            "('journal_mode', 'synchronous', 'busy_timeout')])")
    result = run_manage("shell", "-c", code, data_dir=tmp_path,
                        env_extra={"HUB_DB_ENGINE": "sqlite"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['wal', 2, 20000]"
