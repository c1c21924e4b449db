"""Online backups of the hub's database and stored files, and their restore.

One archive (``.tar``, or gzip-compressed ``.tar.gz``) holds::

    database/hub.sqlite3   SQLite: a copy made with SQLite's backup API, one snapshot taken
                           while writers go on (never a copy of the live file)
    database/hub.pgdump    PostgreSQL: ``pg_dump -Fc`` in the same snapshot as the row counts
    files/<name>           every stored file, read through Django's storage API
    manifest.json          versions, time, database vendor, row counts of the copy, and the
                           sha256 and size of every other member; written last, so an archive
                           cut short has none and is refused

A restore writes only into an empty target, and only after every checksum in the archive
has been verified; then it counts the rows again and re-reads every file it wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from urllib.request import pathname2url

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/hub.sqlite3", "postgresql": "database/hub.pgdump"}
FILES = "files/"
CHUNK = 1024 * 1024
# What settings.py or a deployment may already have put in a data directory that is
# otherwise empty: the local secret key, collected static files, and the backups themselves.
ALLOWED_IN_EMPTY_DATA_DIR = {"secret_key", "static", "backups"}
PG_SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema')"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in one line."""


@dataclass(frozen=True)
class Entry:
    name: str
    sha256: str
    size: int


@dataclass
class Manifest:
    vendor: str
    database: Entry
    tables: dict[str, int]
    files: list[Entry]
    format: int = FORMAT
    hub_version: str = ""
    created: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def file_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def entries(self) -> dict[str, Entry]:
        return {entry.name: entry for entry in [self.database, *self.files]}

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw["format"] != FORMAT:
                raise BackupError(f"This archive has format {raw['format']}; this hub reads "
                                  f"format {FORMAT}.")
            manifest = cls(
                vendor=raw["vendor"], database=Entry(**raw["database"]),
                tables={str(k): int(v) for k, v in raw["tables"].items()},
                files=[Entry(**item) for item in raw["files"]], format=raw["format"],
                hub_version=raw.get("hub_version", ""), created=raw.get("created", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"{MANIFEST} is malformed ({error}).") from error
        if DATABASE_MEMBERS.get(manifest.vendor) != manifest.database.name:
            raise BackupError(f"{MANIFEST} names an unknown database ({manifest.vendor}).")
        for entry in manifest.files:
            _check_name(entry.name)
            if not entry.name.startswith(FILES):
                raise BackupError(f"{MANIFEST} lists {entry.name!r} outside {FILES}.")
        return manifest


@dataclass
class RestoreReport:
    database: str
    tables: dict[str, int]
    files: int
    file_bytes: int
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def default_destination() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return settings.DATA_DIR / "backups" / f"hub-backup-{stamp}.tar.gz"


def hub_version() -> str:
    try:
        return metadata.version("police-community-hub")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- Backup ---------------------------------------------------------------------------------

def make_backup(destination_path, *, database: dict | None = None,
                storage: Storage | None = None) -> Manifest:
    """Write one archive of the database and every stored file, while the hub keeps running.

    ``database`` is a settings dict like ``settings.DATABASES['default']`` and ``storage`` a
    Django storage; both default to what the hub uses.
    """
    from django.db import connections

    database = database or connections["default"].settings_dict
    storage = storage or default_storage
    vendor = _vendor(database)
    destination = Path(destination_path)
    mode = _write_mode(destination)
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose another --output.")
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = destination.with_name(destination.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".backup-") as tmp:
            dump = Path(tmp) / "database"
            # The database first: a file deleted after this snapshot is still in the archive.
            tables = (_sqlite_copy(database, dump) if vendor == "sqlite"
                      else _pg_dump(database, dump))
            with _private_file(partial) as raw, tarfile.open(fileobj=raw, mode=mode) as tar:
                db_entry = _add_file(tar, DATABASE_MEMBERS[vendor], dump)
                files = [_add_stored(tar, storage, name) for name in _stored_names(storage)]
                manifest = Manifest(
                    vendor=vendor, database=db_entry, tables=tables,
                    files=[entry for entry in files if entry], hub_version=hub_version(),
                    created=datetime.now(UTC).isoformat(timespec="seconds"))
                _add_bytes(tar, MANIFEST, manifest.to_json())
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _vendor(database: dict) -> str:
    engine = database.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")


def _write_mode(destination: Path) -> str:
    if destination.name.endswith(".tar"):
        return "w"
    if destination.name.endswith((".tar.gz", ".tgz")):
        return "w:gz"
    raise BackupError(f"{destination.name}: a backup's name must end in .tar or .tar.gz.")


@contextmanager
def _private_file(path: Path):
    """A new file only its owner can read (a backup holds personal data), on disk when the
    block ends."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())


class _HashingReader:
    """Pass reads through, keeping the sha256 and length of what went by."""

    def __init__(self, stream):
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def matches(self, entry: Entry) -> bool:
        return self.hash.hexdigest() == entry.sha256 and self.size == entry.size


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    return info


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> Entry:
    with open(path, "rb") as stream:
        reader = _HashingReader(stream)
        tar.addfile(_tarinfo(name, path.stat().st_size), reader)
    return Entry(name, reader.hash.hexdigest(), reader.size)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))


def _add_stored(tar: tarfile.TarFile, storage: Storage, name: str) -> Entry | None:
    try:
        size = storage.size(name)
        stream = storage.open(name, "rb")
    except FileNotFoundError:
        return None  # deleted since it was listed; the database copy predates the deletion
    with stream:
        reader = _HashingReader(stream)
        try:
            tar.addfile(_tarinfo(FILES + name, size), reader)
        except OSError as error:  # shorter than its size said: rewritten meanwhile
            raise BackupError(f"{name} changed while it was read ({error}); run the backup "
                              "again.") from error
    return Entry(FILES + name, reader.hash.hexdigest(), reader.size)


def _stored_names(storage: Storage, path: str = ""):
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for name in sorted(dirs):
        yield from _stored_names(storage, f"{path}/{name}" if path else name)


def _sqlite_copy(database: dict, target: Path) -> dict[str, int]:
    """Copy the live database with SQLite's backup API. Done in one step, the copy reads in
    a single transaction, so it is one consistent snapshot however many writers run (WAL lets
    them go on meanwhile). Returns the row count of every table in the copy."""
    name = str(database["NAME"])
    if name.startswith("file:"):
        uri = name  # Django's in-memory test databases
    elif Path(name).is_file():
        uri = f"file:{pathname2url(str(Path(name).resolve()))}?mode=rw"  # never creates
    else:
        raise BackupError(f"There is no SQLite database at {name}.")
    source = sqlite3.connect(uri, uri=True, timeout=20)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The database copy failed SQLite's integrity check: {check}")
        return _sqlite_counts(copy)
    finally:
        copy.close()
        source.close()


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]  # nosec B608  # names from the database's own catalogue, quoted
            for name in names}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _pg_dump(database: dict, target: Path) -> dict[str, int]:
    """``pg_dump -Fc`` inside a snapshot this connection exports, so the dump and the row
    counts describe the same moment while writers go on."""
    import psycopg

    with psycopg.connect(**_pg_params(database)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        _run_pg_tool(["pg_dump", "--format=custom", f"--snapshot={snapshot}",
                      f"--file={target}", "--no-password"], database)
        counts = _pg_counts(conn)
        conn.rollback()
    return counts


def _pg_params(database: dict) -> dict:
    params = {"dbname": database["NAME"], "user": database.get("USER"),
              "password": database.get("PASSWORD"), "host": database.get("HOST"),
              "port": database.get("PORT"),
              "sslmode": (database.get("OPTIONS") or {}).get("sslmode")}
    return {key: str(value) for key, value in params.items() if value}


def _pg_env(database: dict) -> dict:
    """Connection settings for the client tools; the password goes in PGPASSWORD, never on
    the command line where other users could read it."""
    env = dict(os.environ)
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD",
             "host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE"}
    env.update({names[key]: value for key, value in _pg_params(database).items()})
    return env


def _run_pg_tool(command: list[str], database: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} was not found: install the PostgreSQL client tools "
                          "(Debian: postgresql-client) of the server's major version.")
    result = subprocess.run(command, env=_pg_env(database), capture_output=True,  # noqa: S603
                            text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{command[0]} failed: {lines[-1] if lines else result.returncode}")


def _pg_counts(conn) -> dict[str, int]:
    from psycopg import sql

    tables = conn.execute(
        f"SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "  # nosec B608  # names from the database's own catalogue, quoted
        f"{PG_SYSTEM_SCHEMAS} ORDER BY 1, 2").fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table))
        counts[table if schema == "public" else f"{schema}.{table}"] = (
            conn.execute(query).fetchone()[0])
    return counts


# --- Verification ---------------------------------------------------------------------------

def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if (not name or name.startswith("/") or "\\" in name or path.is_absolute()
            or any(part in ("..", ".", "") for part in name.split("/"))):
        raise BackupError(f"The archive holds an unsafe path {name!r}; refusing it.")


def _members(archive: Path):
    """Yield (member, stream) for each regular file, in order, after checking its path;
    directories are skipped and links or devices refused."""
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                _check_name(member.name.rstrip("/") if member.isdir() else member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"The archive holds a link or special file "
                                      f"{member.name!r}; refusing it.")
                yield member, _ArchiveStream(tar.extractfile(member), archive)
    except FileNotFoundError as error:
        raise BackupError(f"There is no archive at {archive}.") from error
    except READ_ERRORS as error:
        raise _damaged(archive, error) from error


READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def _damaged(archive: Path, error: Exception) -> BackupError:
    return BackupError(f"{archive} is damaged or not a hub backup ({error}).")


class _ArchiveStream:
    """A member's data, whose read errors say the archive is damaged."""

    def __init__(self, stream, archive: Path):
        self.stream, self.archive = stream, archive

    def read(self, n: int = -1) -> bytes:
        try:
            return self.stream.read(n)
        except READ_ERRORS as error:
            raise _damaged(self.archive, error) from error


def verify_archive(archive_path) -> Manifest:
    """Read the whole archive and check every member against the manifest, writing nothing."""
    archive = Path(archive_path)
    seen: dict[str, tuple[str, int]] = {}
    manifest_data = None
    for member, stream in _members(archive):
        if member.name in seen or (member.name == MANIFEST and manifest_data is not None):
            raise BackupError(f"The archive holds {member.name!r} twice; refusing it.")
        if member.name == MANIFEST:
            manifest_data = stream.read(64 * CHUNK)
            continue
        reader = _HashingReader(stream)
        while reader.read(CHUNK):
            pass
        seen[member.name] = (reader.hash.hexdigest(), reader.size)
    if manifest_data is None:
        raise BackupError(f"{archive} has no {MANIFEST}: it is incomplete or not a hub backup.")
    manifest = Manifest.from_json(manifest_data)
    expected = manifest.entries()
    problems = [f"{name} is not in the archive" for name in expected if name not in seen]
    problems += [f"{name} is not in the manifest" for name in seen if name not in expected]
    problems += [f"{name} fails its checksum" for name, (sha, size) in seen.items()
                 if name in expected and (sha, size) != (expected[name].sha256,
                                                          expected[name].size)]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise BackupError(f"{archive} is damaged: {'; '.join(problems[:3])}{more}. "
                          "Nothing was restored.")
    return manifest


# --- Restore --------------------------------------------------------------------------------

@dataclass
class _Target:
    vendor: str
    data_dir: Path
    database: dict
    sqlite_path: Path | None
    storage: Storage

    @property
    def label(self) -> str:
        return str(self.sqlite_path) if self.sqlite_path else (
            f"PostgreSQL database {self.database['NAME']}")


def _target(data_dir, database: dict | None, storage: Storage | None) -> _Target:
    """Where a restore writes. Without ``data_dir``, the database and storage the settings
    name; with one, ``DATA_DIR/hub.sqlite3`` and ``DATA_DIR/files``, the layout the settings
    give a data directory (on PostgreSQL the database always comes from the settings).
    Files kept in object storage go back to the storage the settings name either way: a data
    directory never holds them."""
    from django.db import connections

    database = database or connections["default"].settings_dict
    vendor = _vendor(database)
    own = data_dir is None or Path(data_dir).resolve() == settings.DATA_DIR
    data_dir = settings.DATA_DIR if data_dir is None else Path(data_dir).resolve()
    if storage is None:
        local = isinstance(default_storage, FileSystemStorage)
        storage = FileSystemStorage(location=data_dir / "files") if local and not own else (
            default_storage)
    sqlite_path = None
    if vendor == "sqlite":
        sqlite_path = Path(database["NAME"]) if own else data_dir / "hub.sqlite3"
    return _Target(vendor, data_dir, database, sqlite_path, storage)


def _refuse_non_empty(target: _Target) -> None:
    if target.data_dir.exists():
        for entry in sorted(target.data_dir.iterdir()):
            if entry.name in ALLOWED_IN_EMPTY_DATA_DIR:
                continue
            if entry.is_file() or entry.is_symlink() or any(
                    files for _, _, files in os.walk(entry)):
                raise BackupError(f"{target.data_dir} is not empty (it holds {entry.name}"
                                  f"{'/' if entry.is_dir() else ''}); "
                                  "restore only into an empty data directory.")
    if target.sqlite_path and target.sqlite_path.exists():
        raise BackupError(f"{target.sqlite_path} already exists; restore only into an empty "
                          "data directory.")
    if next(_stored_names(target.storage), None) is not None:
        raise BackupError("The file storage already holds files; restore only into an empty "
                          "storage.")
    if target.vendor == "postgresql":
        _refuse_pg_tables(target.database)


def _refuse_pg_tables(database: dict) -> None:
    import psycopg

    try:
        with psycopg.connect(**_pg_params(database)) as conn:
            count = conn.execute(f"SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "  # nosec B608  # names from the database's own catalogue, quoted
                                 f"{PG_SYSTEM_SCHEMAS}").fetchone()[0]
    except psycopg.OperationalError as error:
        raise BackupError(f"Cannot open database {database['NAME']}: create it empty first "
                          f"({str(error).strip().splitlines()[-1]}).") from error
    if count:
        raise BackupError(f"Database {database['NAME']} already has {count} tables; restore "
                          "only into an empty database.")


def restore_backup(archive_path, data_dir=None, *, database: dict | None = None,
                   storage: Storage | None = None) -> RestoreReport:
    """Restore an archive into an empty target, then count and check what was written.

    Nothing is written until the target is known to be empty and every checksum in the
    archive matches its manifest.
    """
    archive = Path(archive_path)
    target = _target(data_dir, database, storage)
    _refuse_non_empty(target)
    manifest = verify_archive(archive)
    if manifest.vendor != target.vendor:
        raise BackupError(f"This is a {manifest.vendor} backup; the target is {target.vendor}.")
    expected = manifest.entries()
    target.data_dir.mkdir(parents=True, exist_ok=True)
    # Read again (the first pass only verified), checking each member as it is written.
    for member, stream in _members(archive):
        if member.name == MANIFEST:
            continue
        if member.name == manifest.database.name:
            _restore_database(target, stream, manifest.database)
        else:
            _restore_file(target.storage, stream, expected[member.name])
    return _report(target, manifest)


def _copy_checked(stream, out, entry: Entry) -> None:
    reader = _HashingReader(stream)
    while chunk := reader.read(CHUNK):
        out.write(chunk)
    if not reader.matches(entry):
        raise BackupError(f"{entry.name} changed while it was being restored; "
                          "the archive file itself is changing.")


def _restore_database(target: _Target, stream, entry: Entry) -> None:
    if target.vendor == "sqlite":
        partial = target.sqlite_path.with_name(target.sqlite_path.name + ".partial")
        target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with _private_file(partial) as out:
            _copy_checked(stream, out, entry)
        os.replace(partial, target.sqlite_path)
        return
    with tempfile.TemporaryDirectory(prefix="hub-restore-") as tmp:
        dump = Path(tmp) / "hub.pgdump"
        with _private_file(dump) as out:
            _copy_checked(stream, out, entry)
        # One transaction: a failure leaves the database as empty as it was.
        _run_pg_tool(["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner",
                      "--no-privileges", "--no-password",
                      f"--dbname={target.database['NAME']}", str(dump)], target.database)


def _restore_file(storage: Storage, stream, entry: Entry) -> None:
    name = entry.name.removeprefix(FILES)
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
        _copy_checked(stream, spool, entry)
        spool.seek(0)
        saved = storage.save(name, File(spool, name=name))
    if saved != name:
        raise BackupError(f"The storage saved {name} as {saved}; it was not empty.")


def _report(target: _Target, manifest: Manifest) -> RestoreReport:
    tables, referenced = _restored_counts(target)
    report = RestoreReport(database=target.label, tables=tables, files=len(manifest.files),
                           file_bytes=manifest.file_bytes)
    for name in sorted(set(manifest.tables) | set(tables)):
        if manifest.tables.get(name) != tables.get(name):
            report.problems.append(f"table {name} has {tables.get(name)} rows, the backup "
                                   f"{manifest.tables.get(name)}")
    stored = set()
    for entry in manifest.files:
        name = entry.name.removeprefix(FILES)
        stored.add(name)
        try:
            with target.storage.open(name, "rb") as stream:
                reader = _HashingReader(stream)
                while reader.read(CHUNK):
                    pass
        except FileNotFoundError:
            report.problems.append(f"{name} was not written")
            continue
        if not reader.matches(entry):
            report.problems.append(f"{name} reads back with another checksum")
    report.missing = sorted(referenced - stored)
    report.orphans = sorted(stored - referenced)
    report.problems += [f"{name} is named in the database but was not backed up"
                        for name in report.missing]
    return report


def _file_columns() -> list[tuple[str, str]]:
    from django.apps import apps
    from django.db.models import FileField

    return [(model._meta.db_table, field.column) for model in apps.get_models()
            for field in model._meta.local_fields if isinstance(field, FileField)]


def _restored_counts(target: _Target) -> tuple[dict[str, int], set[str]]:
    """Row counts of every restored table, and the stored-file names its rows refer to."""
    def referenced(conn, counts) -> set[str]:
        return {row[0] for table, column in _file_columns() if table in counts
                for row in conn.execute(f"SELECT {_quote(column)} FROM {_quote(table)} "  # nosec B608  # names from the database's own catalogue, quoted
                                        f"WHERE {_quote(column)} <> ''")}

    if target.vendor == "sqlite":
        conn = sqlite3.connect(f"file:{pathname2url(str(target.sqlite_path))}?mode=ro",
                               uri=True)
        try:
            counts = _sqlite_counts(conn)
            return counts, referenced(conn, counts)
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(**_pg_params(target.database)) as conn:
        counts = _pg_counts(conn)
        return counts, referenced(conn, counts)
