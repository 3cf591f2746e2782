"""Print every registered workflow as Markdown tables (docs/workflows.md is this output)."""

from django.core.management.base import BaseCommand

from kechuang.core.workflow import render_all


class Command(BaseCommand):
    help = "Print the state machines in settings.WORKFLOWS: states × steps, and who may take each."

    def handle(self, *args, **options):
        self.stdout.write(render_all(), ending="")
