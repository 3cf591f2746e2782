"""`kechuang backup <dir-or-file>`: database, uploaded files and a manifest in one tar.gz."""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "destination", help="archive file name, or a directory for a dated name"
        )

    def handle(self, *args, **opts):
        from kechuang.core.backup import BackupError, backup

        t0 = time.perf_counter()
        try:
            path, manifest = backup(opts["destination"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(n or 0 for n in manifest["counts"].values())
        head = manifest["audit_seal_head"]
        self.stdout.write(
            f"{path}: {manifest['engine']} database, {rows:,} rows in "
            f"{len(manifest['counts'])} tables, {manifest['media_files']} uploaded files, "
            f"audit sealed to {head['seq']} ({head['hash'][:16]}…), "
            f"{path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s"
        )
