"""`manage.py restore`: put a backup archive back into an empty data directory."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.core.backup import BackupError, restore_backup, verify_archive
from hub.core.management.commands.backup import size_label


class Command(BaseCommand):
    help = ("Restore an archive made by `manage.py backup` into an empty data directory "
            "(and, on PostgreSQL, the empty database the settings name). Every checksum is "
            "verified before anything is written; row counts and files are checked after.")
    # Checks could open the database, and opening a SQLite database creates it: the target
    # must stay empty until the archive has been verified.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument("--data-dir", type=Path,
                            help="Empty directory to restore into. Default: HUB_DATA_DIR.")
        parser.add_argument("--check", action="store_true",
                            help="Only verify the archive's checksums; write nothing.")

    def handle(self, *args, archive, data_dir=None, check=False, **options):
        started = time.monotonic()
        try:
            if check:
                manifest = verify_archive(archive)
                self.stdout.write(
                    f"{archive} is intact: a {manifest.vendor} backup of {manifest.created} "
                    f"(hub {manifest.hub_version}), {len(manifest.tables)} tables, "
                    f"{manifest.rows} rows, {len(manifest.files)} files.", self.style.SUCCESS)
                return
            report = restore_backup(archive, data_dir)
        except BackupError as error:
            raise CommandError(str(error)) from error
        seconds = time.monotonic() - started
        if report.problems:
            raise CommandError(f"Restored into {report.database}, but {len(report.problems)} "
                               f"checks failed: {'; '.join(report.problems[:5])}")
        orphans = f", {len(report.orphans)} not named by any row" if report.orphans else ""
        self.stdout.write(
            f"Restored {len(report.tables)} tables ({report.rows} rows) into {report.database} "
            f"and {report.files} files ({size_label(report.file_bytes)}{orphans}) in "
            f"{seconds:.2f} s; every row count and checksum matches the backup.",
            self.style.SUCCESS)
        self.stdout.write("Next: point HUB_DATA_DIR at it if needed, run `manage.py migrate`, "
                          "then start the hub.")
