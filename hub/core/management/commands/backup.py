"""`manage.py backup`: one archive of the database and every stored file, taken online."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.core.backup import BackupError, default_destination, make_backup


def size_label(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


class Command(BaseCommand):
    help = ("Back up the database and every stored file into one archive with checksums, "
            "while the hub keeps running. Restore it with `manage.py restore`.")

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path,
                            help="Archive to write (.tar or .tar.gz). Default: a timestamped "
                                 "file under DATA_DIR/backups/.")

    def handle(self, *args, output=None, **options):
        destination = output or default_destination()
        started = time.monotonic()
        try:
            manifest = make_backup(destination)
        except BackupError as error:
            raise CommandError(str(error)) from error
        seconds = time.monotonic() - started
        if options["verbosity"] >= 2:
            for table, rows in manifest.tables.items():
                self.stdout.write(f"  {table}: {rows}")
        self.stdout.write(
            f"Backed up the {manifest.vendor} database ({len(manifest.tables)} tables, "
            f"{manifest.rows} rows, {size_label(manifest.database.size)}) and "
            f"{len(manifest.files)} stored files ({size_label(manifest.file_bytes)}) "
            f"to {destination} in {seconds:.2f} s.", self.style.SUCCESS)
