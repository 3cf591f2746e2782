"""`kechuang rules load-library | evaluate | prune`: the rules app's operator commands."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from kechuang.core.audit import audit_via


class Command(BaseCommand):
    help = "Rules: load the shipped library, run a bulk evaluation snapshot, prune old ones."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load-library", help="load variables.yaml and the shipped policy rules")
        ev = sub.add_parser("evaluate", help="evaluate every published rule for every enterprise")
        ev.add_argument("--date", help="evaluation date YYYY-MM-DD (default: today)")
        ev.add_argument(
            "--incremental", action="store_true", help="only enterprises changed since last run"
        )
        ev.add_argument("--no-notify", action="store_true", help="do not notify newly eligible")
        pr = sub.add_parser("prune", help="delete old snapshots")
        pr.add_argument("--keep", type=int, default=5)

    def handle(self, *args, **opts):
        from kechuang.core.services import system_actor
        from kechuang.rules import evaluation, services

        with audit_via("command"):
            if opts["action"] == "load-library":
                result = services.load_library(acting_user=system_actor("rules.library"))
                self.stdout.write(
                    f"variables: {result['created']} created, {result['updated']} updated; "
                    f"rules: {result['rules_created']} created"
                )
            elif opts["action"] == "evaluate":
                try:
                    on = dt.date.fromisoformat(opts["date"]) if opts["date"] else None
                except ValueError:
                    raise CommandError(f"--date {opts['date']!r}: use YYYY-MM-DD") from None
                snap = evaluation.run_snapshot(
                    acting_user=system_actor("rules.evaluate"),
                    on=on,
                    incremental=opts["incremental"],
                    notify=not opts["no_notify"],
                )
                self.stdout.write(
                    f"snapshot #{snap.pk} ({snap.data_date}): {snap.evaluated_count} enterprises "
                    f"evaluated, {snap.verdict_rows} rows, {snap.seconds:.2f} s"
                    + (" (incremental)" if snap.incremental else "")
                )
                if snap.error:
                    self.stderr.write(snap.error)
            else:
                n = evaluation.prune_snapshots(opts["keep"])
                self.stdout.write(f"{n} snapshot(s) deleted")
