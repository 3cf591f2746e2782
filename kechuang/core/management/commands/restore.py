"""`kechuang restore <archive>`: onto an empty database, then check counts and the audit chain."""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Restore a `kechuang backup` archive onto an empty database and verify it."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that already holds data"
        )

    def handle(self, *args, **opts):
        from kechuang.core.backup import BackupError, restore

        t0 = time.perf_counter()
        try:
            report = restore(opts["archive"], force=opts["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for table, (expected, found) in report.count_mismatches.items():
            self.stderr.write(f"{table}: {expected} rows in the backup, {found} restored")
        for problem in report.chain_problems:
            self.stderr.write(f"audit: {problem}")
        if not report.head_matches:
            self.stderr.write("audit seal head differs from the one recorded in the backup")
        if not report.ok:
            raise CommandError("Restore finished but the check failed (see above).")
        m = report.manifest
        self.stdout.write(
            f"restored the backup of {m['created_at']} (version {m['app_version']}): "
            f"{sum(n or 0 for n in m['counts'].values()):,} rows, {report.media_files} files; "
            f"counts match, audit entries and seals intact to {m['audit_seal_head']['seq']}; "
            f"{time.perf_counter() - t0:.1f} s. Run `kechuang migrate` if this version is newer."
        )
