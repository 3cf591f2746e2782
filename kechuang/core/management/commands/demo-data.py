"""`kechuang demo-data`: build the synthetic demo district (deterministic by --seed)."""

import importlib
import time

from django.apps import apps
from django.core.management.base import BaseCommand

from kechuang.core.audit import audit_via
from kechuang.core.demo import DEMO_PASSWORD, DemoContext
from kechuang.core.models import Jurisdiction


class Command(BaseCommand):
    help = "Build a realistic synthetic district: jurisdictions, users per role, and each module's data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--enterprises", type=int, default=2000)
        parser.add_argument("--years", type=int, default=5, help="years of annual reports")
        parser.add_argument(
            "--only", nargs="*", default=None, help="app labels to build (default: all)"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when a district already exists (so `make demo` can be re-run)",
        )

    def handle(self, *args, **opts):
        if opts["if_empty"] and Jurisdiction.objects.exists():
            self.stdout.write(
                "The database already holds a district; keeping it. Log in as 'officer' "
                f"(password: {DEMO_PASSWORD}), or delete var/ to start again."
            )
            return
        ctx = DemoContext(
            seed=opts["seed"],
            enterprises=opts["enterprises"],
            years=opts["years"],
            verbosity=opts["verbosity"],
        )
        ctx.out = self.stdout
        with audit_via("command"):
            for config in apps.get_app_configs():
                if not config.name.startswith("kechuang."):
                    continue
                if opts["only"] and config.label not in opts["only"] and config.label != "core":
                    continue
                try:
                    module = importlib.import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name == f"{config.name}.demo":
                        continue
                    raise
                started = time.perf_counter()
                module.build(ctx)
                ctx.log(f"  {config.label}: {time.perf_counter() - started:.1f} s")
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Log in as 'officer' (commission staff), 'station' (莘庄镇 "
                "service station), 'enterprise' (an enterprise user), 'unit' (a responsible "
                f"unit), 'expert' or 'admin'; password: {DEMO_PASSWORD}"
            )
        )
