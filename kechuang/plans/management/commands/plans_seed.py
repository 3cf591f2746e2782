"""`kechuang plans_seed [DIR]`: import the seed plan documents through the extraction path.

Without DIR it reads kechuang/plans/fixtures/seeds (copies of the commission's public
documents). Each file becomes a plan exactly as if staff had accepted every proposal.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kechuang.core.audit import audit_via
from kechuang.core.models import User
from kechuang.plans.seeds import SEED_DIR, import_seed_file


class Command(BaseCommand):
    help = "Import plan documents (.txt/.docx/.pdf) from a directory as reviewed plans."

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(SEED_DIR))
        parser.add_argument("--user", default="officer", help="commission user who imports")

    def handle(self, *args, **opts):
        directory = Path(opts["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        user = User.objects.filter(username=opts["user"]).first()
        if user is None or not user.is_commission:
            raise CommandError(f"User {opts['user']!r} does not exist or is not commission staff.")
        with audit_via("command"):
            for path in sorted(directory.iterdir()):
                if path.suffix.lower() not in (".txt", ".docx", ".pdf"):
                    continue
                plan = import_seed_file(path, acting_user=user)
                self.stdout.write(
                    f"{path.name}: {plan.title} ({plan.indicators.count()} indicators, "
                    f"{plan.tasks.count()} tasks)"
                )
