"""`kechuang plans …`: extract targets from a plan file and score extraction on a labelled set.

Needs no database: it only reads files and prints.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kechuang.plans.extraction import (
    SourceError,
    evaluate_directory,
    extract_plan,
    read_source,
)


class Command(BaseCommand):
    help = "Plan text extraction: `extract FILE` and `evaluate-extraction DIR`."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        extract = sub.add_parser(
            "extract", help="Print the targets found in a .txt/.docx/.pdf plan."
        )
        extract.add_argument("file")
        extract.add_argument("--format", choices=("json", "text"), default="json")
        extract.add_argument(
            "--all", action="store_true", help="With --format json, print metadata and tasks too."
        )
        extract.add_argument(
            "--year", type=int, help="Target year when the text does not give one."
        )
        evaluate = sub.add_parser(
            "evaluate-extraction", help="Precision, recall and F1 against *.targets.json labels."
        )
        evaluate.add_argument("directory")
        evaluate.add_argument(
            "--seeds", help="Directory holding <stem>.txt documents (default: ../seeds from DIR)."
        )
        evaluate.add_argument(
            "--verbose", action="store_true", help="List missed and spurious targets."
        )

    def handle(self, *args, **options):
        if options["subcommand"] == "extract":
            self._extract(options)
        else:
            self._evaluate(options)

    def _extract(self, options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            text = read_source(path)
        except SourceError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        draft = extract_plan(text, plan_year=options.get("year"))
        if options["format"] == "json":
            payload = draft.to_dict() if options.get("all") else draft.targets
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1))
            return
        meta = draft.metadata
        self.stdout.write(f"{meta.title or '(untitled)'}  [{meta.kind}]")
        self.stdout.write(
            f"issuer: {meta.issuer or '-'}  number: {meta.doc_number or '-'}  "
            f"published: {meta.published or '-'}  period: {meta.period_start}-{meta.period_end}"
        )
        self.stdout.write("")
        self.stdout.write(
            f"{'year':<6}{'kind':<11}{'value':>10} {'unit':<6}{'baseline':<16}indicator"
        )
        for t in draft.targets:
            baseline = "" if t["baseline"] is None else f"{t['baseline']} ({t['baseline_year']})"
            self.stdout.write(
                f"{t['year'] or '':<6}{t['kind']:<11}{t['value']:>10} {t['unit']:<6}{baseline:<16}"
                f"{t['indicator']}"
            )
        self.stdout.write(f"\n{len(draft.targets)} targets, {len(draft.tasks)} tasks")

    def _evaluate(self, options):
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"No such directory: {directory}")
        seeds = Path(options["seeds"]) if options.get("seeds") else directory.parent / "seeds"
        try:
            report = evaluate_directory(directory, seeds_dir=seeds)
        except (FileNotFoundError, SourceError) as exc:
            raise CommandError(str(exc)) from exc
        if not report.documents:
            raise CommandError(f"No *.targets.json files in {directory}")
        header = f"{'document':<28}{'labels':>7}{'found':>7}{'match':>7}{'P':>8}{'R':>8}{'F1':>8}"
        self.stdout.write(header)
        for doc in [*report.documents, report.overall]:
            self.stdout.write(
                f"{doc.name:<28}{doc.labelled:>7}{doc.extracted:>7}{doc.matched:>7}"
                f"{doc.precision:>8.3f}{doc.recall:>8.3f}{doc.f1:>8.3f}"
            )
            if options.get("verbose"):
                for label in doc.missed:
                    self.stdout.write(
                        f"    missed   {label['value']}{label['unit']}  {label['quote']}"
                    )
                for found in doc.spurious:
                    self.stdout.write(
                        f"    spurious {found['value']}{found['unit']}  {found['quote']}"
                    )
