"""The seed plan documents (copies of public plans shipped with the app) and how they are loaded.

They go through the same path as an upload: read_source → extract_plan → proposal →
save_reviewed_plan, with every proposal accepted.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from kechuang.plans import services
from kechuang.plans.models import Plan

SEED_DIR = Path(__file__).resolve().parent / "fixtures" / "seeds"
SHARED_SEED_DIR = Path(settings.BASE_DIR).parent / "shared" / "seeds"


def seed_directory() -> Path | None:
    """The shared seeds next to the repository when present, else the copies shipped here."""
    for directory in (SHARED_SEED_DIR, SEED_DIR):
        if directory.is_dir() and any(directory.glob("*.txt")):
            return directory
    return None


def import_seed_file(path: Path, *, acting_user) -> Plan:
    imp = services.create_plan_import(
        data=path.read_bytes(), filename=path.name, acting_user=acting_user
    )
    metadata, indicators, tasks = services.rows_from_draft(imp.draft)
    metadata["title"] = metadata["title"] or path.stem
    indicators = [row for row in indicators if row.get("target_value") is not None]
    return services.save_reviewed_plan(
        metadata, indicators, tasks, acting_user=acting_user, plan_import=imp
    )
