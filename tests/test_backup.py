"""Backups taken while the hub writes, and restore drills (RELIABILITY.md E2, E3, E4).

A writer in another process commits audit events and prints each id once committed; backups
taken meanwhile must hold every acknowledged row and pass SQLite's integrity check. The drills
restore into empty targets and compare every table's row count and every stored file's
sha256 with the originals. SQLite tests skip on PostgreSQL runs and the other way round.
"""

import hashlib
import io
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection

from hub.core.backup import BackupError, make_backup, restore_backup, verify_archive
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.tests.factories import MembershipFactory, OrganisationFactory

ROOT = Path(__file__).resolve().parent.parent
ENGINE = settings.DATABASES["default"]["ENGINE"]
on_sqlite = pytest.mark.skipif("sqlite" not in ENGINE, reason="SQLite drill")
on_postgresql = pytest.mark.skipif("postgresql" not in ENGINE, reason="PostgreSQL drill")

WRITER = """
import time, django
django.setup()
from hub.core.models import AuditEvent
deadline = time.monotonic() + 120
n = 0
while time.monotonic() < deadline:
    event = AuditEvent.objects.create(action="backup.writer", context={"n": n})
    print(event.pk, flush=True)  # acknowledged: the row is committed
    n += 1
"""


class Writer:
    """A separate process inserting audit events through the ORM, one commit at a time."""

    def __init__(self, env: dict, log: Path):
        self._ids: list[int] = []
        self._log = open(log, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=self._log)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._ids.append(int(line))

    def acknowledged(self) -> list[int]:
        return list(self._ids)

    def wait_for(self, count: int, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while len(self._ids) < count:
            assert self.process.poll() is None, f"the writer stopped: {self._log.name}"
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.02)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()


def _env(**hub) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{k}": str(v) for k, v in hub.items()}, DJANGO_SETTINGS_MODULE="hub.settings")
    return env


def _seed():
    """Organisations, people, and a library resource with two stored files."""
    organisations = OrganisationFactory.create_batch(3)
    for organisation in organisations:
        MembershipFactory(organisation=organisation)
    resource = ResourceFactory(organisation=organisations[0])
    add_text_file(resource, text="Minutes of the partnership meeting.")
    add_text_file(resource, text="Ünïcode notes, repeated. " * 200, name="notes.txt")


def _sha256_tree(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _counts(cursor, tables) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _flip_byte(archive: Path, prefix: str):
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith(prefix))
    with open(archive, "r+b") as f:
        f.seek(member.offset_data + member.size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


def _extract_database(archive: Path, target: Path) -> sqlite3.Connection:
    with tarfile.open(archive) as tar:
        target.write_bytes(tar.extractfile("database/hub.sqlite3").read())
    return sqlite3.connect(target)


# --- E2: online backups while a writer runs -------------------------------------------------

@on_sqlite
def test_backup_consistent_while_writing(tmp_path):
    """Twenty backups taken while another process commits rows are each intact and hold every
    row acknowledged before they began."""
    data = tmp_path / "data"
    env = _env(DATA_DIR=data)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True, timeout=120)
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data / "hub.sqlite3")}
    storage = FileSystemStorage(location=data / "files")
    writer = Writer(env, tmp_path / "writer.log")
    consistent, failures = 0, []
    try:
        writer.wait_for(20)
        first = len(writer.acknowledged())
        for i in range(20):
            acked = writer.acknowledged()
            archive = tmp_path / f"backup-{i}.tar"
            manifest = make_backup(archive, database=database, storage=storage)
            copy = _extract_database(archive, tmp_path / f"copy-{i}.sqlite3")
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            ids = {row[0] for row in copy.execute("SELECT id FROM core_auditevent")}
            copy.close()
            lost = set(acked) - ids
            if integrity == "ok" and len(ids) >= len(acked) and not lost and (
                    manifest.tables["core_auditevent"] == len(ids)):
                consistent += 1
            else:
                failures.append(f"backup {i}: {integrity}, {len(ids)} rows, "
                                f"{len(acked)} acknowledged, {len(lost)} lost")
            time.sleep(0.02)
        during = len(writer.acknowledged()) - first
    finally:
        writer.stop()
    assert consistent == 20, failures
    assert during >= 20, "the writer must keep committing while the backups run"


# --- E3: restore drill on SQLite ------------------------------------------------------------

@on_sqlite
def test_restore_drill_sqlite(transactional_db, tmp_path):
    """A restore into an empty data directory has every table's row count and every stored
    file's sha256 of the original, and a Django that finds nothing left to migrate."""
    _seed()
    archive = tmp_path / "hub.tar.gz"
    manifest = make_backup(archive)
    target = tmp_path / "restored"
    report = restore_backup(archive, target)

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = sorted(row[0] for row in cursor.fetchall())
        original = _counts(cursor, tables)
    restored_db = sqlite3.connect(target / "hub.sqlite3")
    restored_tables = sorted(row[0] for row in restored_db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"))
    restored = _counts(restored_db.cursor(), restored_tables)
    restored_db.close()
    assert restored_tables == tables
    assert restored == original == manifest.tables
    assert original["members_organisation"] >= 3 and original["library_resourcefile"] == 2

    files = _sha256_tree(Path(settings.MEDIA_ROOT))
    assert len(files) == 2
    assert _sha256_tree(target / "files") == files
    assert report.problems == [] and report.missing == [] and report.orphans == []
    subprocess.run([sys.executable, "manage.py", "migrate", "--check", "--noinput"],
                   cwd=ROOT, env=_env(DATA_DIR=target), check=True, timeout=120,
                   capture_output=True)


@on_sqlite
def test_restore_refuses_damaged_archive_before_writing(transactional_db, tmp_path):
    """One flipped byte in a stored file, or an archive cut short, is refused and nothing is
    written to the target."""
    _seed()
    archive = tmp_path / "hub.tar"
    make_backup(archive)
    whole = archive.read_bytes()
    target = tmp_path / "restored"

    _flip_byte(archive, "files/")
    with pytest.raises(BackupError, match="fails its checksum"):
        restore_backup(archive, target)
    assert not target.exists()

    archive.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BackupError, match="damaged|incomplete"):
        restore_backup(archive, target)
    assert not target.exists()


@on_sqlite
def test_restore_refuses_non_empty_target(transactional_db, tmp_path):
    """A data directory that already holds something is left alone."""
    archive = tmp_path / "hub.tar"
    make_backup(archive)
    target = tmp_path / "restored"
    target.mkdir()
    (target / "notes.txt").write_text("someone's notes")
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_verify_archive_refuses_unsafe_paths(tmp_path):
    """Absolute paths, '..' and links in an archive are refused before anything is read."""
    for name, kind in [("../evil.txt", tarfile.REGTYPE), ("/etc/evil", tarfile.REGTYPE),
                       ("files/a/../../evil", tarfile.REGTYPE), ("files/link", tarfile.SYMTYPE)]:
        archive = tmp_path / "bad.tar"
        with tarfile.open(archive, "w") as tar:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tar.addfile(info, None if kind == tarfile.SYMTYPE else io.BytesIO())
        with pytest.raises(BackupError, match="unsafe path|link"):
            verify_archive(archive)


# --- E4: pg_dump under load and restore drill on PostgreSQL ---------------------------------

def _pg(dbname: str):
    import psycopg  # only PostgreSQL runs install it

    source = connection.settings_dict
    return psycopg.connect(dbname=dbname, user=source["USER"] or None,
                           password=source["PASSWORD"] or None, host=source["HOST"] or None,
                           port=source["PORT"] or None, autocommit=True)


def _pg_tables(conn) -> list[str]:
    return sorted(row[0] for row in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))


@on_postgresql
def test_restore_drill_postgresql(transactional_db, tmp_path):
    """pg_dump taken while a writer commits restores without error into a fresh database with
    every acknowledged row, the same row counts and the same stored files."""
    _seed()
    source = connection.settings_dict
    writer = Writer(_env(DATA_DIR=tmp_path / "writer", DB_ENGINE="postgresql",
                         DB_NAME=source["NAME"], DB_USER=source["USER"],
                         DB_PASSWORD=source["PASSWORD"], DB_HOST=source["HOST"],
                         DB_PORT=source["PORT"]), tmp_path / "writer.log")
    try:
        writer.wait_for(20)
        acked = writer.acknowledged()
        archive = tmp_path / "hub.tar"
        manifest = make_backup(archive)
        writer.wait_for(len(acked) + 20)  # still writing after the dump
    finally:
        writer.stop()
    with connection.cursor() as cursor:
        original = _counts(cursor, connection.introspection.table_names())

    drill = f"hub_restore_drill_{secrets.token_hex(4)}"
    with _pg("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{drill}"')
    try:
        target = {**source, "NAME": drill}
        damaged = tmp_path / "damaged.tar"
        damaged.write_bytes(archive.read_bytes())
        _flip_byte(damaged, "database/")
        with pytest.raises(BackupError, match="fails its checksum"):
            restore_backup(damaged, tmp_path / "restored", database=target)
        with _pg(drill) as restored_db:
            assert _pg_tables(restored_db) == []

        report = restore_backup(archive, tmp_path / "restored", database=target)
        with _pg(drill) as restored_db:
            restored = _counts(restored_db.cursor(), _pg_tables(restored_db))
            ids = {row[0] for row in restored_db.execute("SELECT id FROM core_auditevent")}
        assert report.problems == [] and report.missing == [] and report.orphans == []
        assert restored == manifest.tables
        assert sorted(restored) == sorted(original)
        assert set(acked) <= ids and restored["core_auditevent"] >= len(acked)
        assert {k: v for k, v in restored.items() if k != "core_auditevent"} == {
            k: v for k, v in original.items() if k != "core_auditevent"}
        assert _sha256_tree(tmp_path / "restored" / "files") == _sha256_tree(
            Path(settings.MEDIA_ROOT))

        with pytest.raises(BackupError, match="already has"):
            restore_backup(archive, tmp_path / "again", database=target)
    finally:
        with _pg("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)')
