"""Extraction of metadata, numeric targets and tasks from the text of a Chinese S&T plan.

Pure Python (no Django): the plans app shows a PlanDraft to staff, who confirm, edit and save it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .evaluate import EvaluationReport, evaluate_directory, score_document
from .metadata import PlanMetadata, extract_metadata
from .sources import SourceError, read_source
from .tables import find_indicator_tables
from .targets import extract_targets
from .tasks import Task, extract_tasks


@dataclass(slots=True)
class PlanDraft:
    """Everything read from one plan, for staff to confirm before it is saved."""

    metadata: PlanMetadata
    targets: list[dict] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "metadata": self.metadata.to_dict(),
            "targets": list(self.targets),
            "tasks": [task.to_dict() for task in self.tasks],
        }


def extract_plan(text: str, *, plan_year: int | None = None) -> PlanDraft:
    """Metadata, targets and tasks of a plan's text."""
    metadata = extract_metadata(text)
    targets = extract_targets(text, plan_year=plan_year, metadata=metadata)
    table_spans = [(t.start, t.end) for t in find_indicator_tables(text)]
    return PlanDraft(metadata, targets, extract_tasks(text, skip_spans=table_spans))


__all__ = [
    "EvaluationReport",
    "PlanDraft",
    "PlanMetadata",
    "SourceError",
    "Task",
    "evaluate_directory",
    "extract_metadata",
    "extract_plan",
    "extract_targets",
    "extract_tasks",
    "read_source",
    "score_document",
]
