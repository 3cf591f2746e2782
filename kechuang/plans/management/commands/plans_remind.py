"""`kechuang plans_remind`: notify responsible units whose progress report is due or overdue.

Run it daily (cron or a scheduled task); it is idempotent, so running it twice sends nothing new.
"""

import datetime

from django.core.management.base import BaseCommand

from kechuang.core.audit import audit_via
from kechuang.core.services import system_actor
from kechuang.plans.services import send_report_reminders


class Command(BaseCommand):
    help = "Create notifications for progress reports that are due soon or overdue."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args, **opts):
        today = datetime.date.fromisoformat(opts["date"]) if opts.get("date") else None
        with audit_via("command"):
            count = send_report_reminders(acting_user=system_actor("plans.remind"), today=today)
        self.stdout.write(f"{count} notification(s) created.")
