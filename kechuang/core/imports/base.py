"""The generic import: read a table, convert every cell, check every row, plan, write.

An importer (one per kind: enterprises, qualifications, annual reports) is a
subclass of :class:`Importer` that declares its fields and three hooks:

* ``check_row(row)`` — cross-field checks and lookups (jurisdiction, type,
  permission) on one converted row; no database query per row;
* ``load_existing(rows)`` — one query for the records the rows' keys point at;
* ``classify(row, existing)`` — create / update / unchanged / conflict.

The generic parts here do the rest: convert cells in a tight loop, flag
duplicates in the file, write creates and updates in bulk (``writers``), and
audit them (see ``write_audit``: one entry per import for the creates plus a
packed id -> file row mapping, one diff entry per updated record).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core import audit, auditchain
from kechuang.core.imports import writers
from kechuang.core.imports.fields import ImportField
from kechuang.core.imports.fields import message_of as message_of
from kechuang.core.models import AuditAction, AuditEntry
from kechuang.core.tabular import ColumnMapping, Table, TableError, map_columns, read_table

ERROR = "error"
WARNING = "warning"

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
REJECT = "reject"

ProgressCallback = Callable[[int, int, str], None]


@dataclass(slots=True)
class ParsedRow:
    """One data row after conversion; ``values`` holds only the non-blank cells."""

    number: int
    values: dict[str, Any]
    errors: list[tuple[str, str]] | None = None  # (column, message)
    warnings: list[tuple[str, str]] | None = None
    key: tuple[Any, ...] | None = None
    action: str = ""
    target_id: int | None = None
    # attname -> value to write (creates: every written column; updates: the merged row)
    record: dict[str, Any] | None = None
    before: dict[str, Any] | None = None  # the record as it was (updates)
    repr: str = ""

    def error(self, column: str, message: str) -> None:
        if self.errors is None:
            self.errors = []
        self.errors.append((column, message))

    def warn(self, column: str, message: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append((column, message))


@dataclass
class Prepared:
    """A read and converted file; the dry run and the apply share it when run together."""

    importer: Importer
    rows: list[ParsedRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    mapping: ColumnMapping | None = None
    unknown_columns: list[str] = field(default_factory=list)
    planned: bool = False
    # What the last plan was made against: (kind, user, scope) and the existing records.
    plan_basis: tuple[Any, ...] | None = None
    plan_existing: dict[tuple[Any, ...], dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return not self.file_errors

    def counts(self) -> dict[str, int]:
        result = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, REJECT: 0, WARNING: 0}
        for row in self.rows:
            result[REJECT if row.errors else (row.action or CREATE)] += 1
            if row.warnings:
                result[WARNING] += 1
        return result

    def problems(self) -> Iterable[tuple[int, str, str, str]]:
        """(row, column, severity, message) for every problem, in row order."""
        for row in self.rows:
            for column, message in row.errors or ():
                yield row.number, column, ERROR, message
            for column, message in row.warnings or ():
                yield row.number, column, WARNING, message


_PLAIN = frozenset({type(None), bool, int, str, float})


def jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is decimal.Decimal:
        return str(value)
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    return str(value)


def created_diff(record: dict[str, Any], names: Sequence[str]) -> dict[str, list[Any]]:
    """Audit diff of a new record: its non-empty fields as [None, value]."""
    result = {}
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            result[name] = [None, jsonable(value)]
    return result


def changed_diff(
    before: dict[str, Any], after: dict[str, Any], names: Sequence[str]
) -> dict[str, list[Any]]:
    """Audit diff of an updated record: the fields that differ as [before, after]."""
    result = {}
    for name in names:
        old, new = before.get(name), after.get(name)
        if old != new:
            result[name] = [jsonable(old), jsonable(new)]
    return result


class Importer:
    """Base of one kind of import. Subclasses set the class attributes and the hooks."""

    kind: ClassVar[str]
    label: ClassVar[str]
    model: ClassVar[type[models.Model]]
    fields: ClassVar[tuple[ImportField, ...]]
    # The model attnames that identify a record (upsert key), e.g. ("uscc",).
    key_fields: ClassVar[tuple[str, ...]]
    # The unique constraint to upsert on in PostgreSQL (empty: none exists).
    conflict_fields: ClassVar[tuple[str, ...]] = ()
    # Every attname the importer writes (in this order) when it creates a record.
    write_fields: ClassVar[tuple[str, ...]]
    # The attnames shown in audit diffs (default: write_fields without bookkeeping).
    audit_fields: ClassVar[tuple[str, ...] | None] = None
    # A short sentence for the upload page: what a row is and what it is matched on.
    description: ClassVar[str] = ""
    progress_every = 5000

    def __init__(self, *, acting_user, progress: ProgressCallback | None = None) -> None:
        self.user = acting_user
        self.progress = progress or (lambda done, total, note: None)
        # Station staff: rows must fall under this path; None means no restriction.
        self.scope_path: str | None = (
            None
            if acting_user.is_commission
            else acting_user.jurisdiction.path
            if acting_user.is_station
            else "/-nothing-/"
        )
        self.now = timezone.now()

    # -- hooks -----------------------------------------------------------------

    def load_lookups(self) -> None:
        """Load the name/code tables the rows are resolved against (one query each)."""

    def check_row(self, row: ParsedRow) -> None:
        """Cross-field checks, lookups and permission on one converted row.

        Called even when some cells failed to convert (so every problem of a row is
        reported at once): read values with ``.get``.
        """

    def row_key(self, row: ParsedRow) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def describe_key(self, row: ParsedRow) -> str:
        return "、".join(str(v) for v in row.key or ())

    def load_existing(self, rows: Sequence[ParsedRow]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Existing records for the rows' keys: key -> {"id": …, attname: value …}."""
        raise NotImplementedError

    def classify(self, row: ParsedRow, existing: dict[str, Any] | None) -> None:
        """Set row.action / record / changes / target_id, or add errors (conflicts)."""
        raise NotImplementedError

    def after_write(self, written: Sequence[ParsedRow]) -> None:
        """Side effects of a write inside the same transaction (e.g. bump data_changed_at)."""

    # -- the template ----------------------------------------------------------

    def template_headers(self) -> list[str]:
        return [f.header() for f in self.fields]

    # -- reading and converting -------------------------------------------------

    def prepare(self, data, filename: str = "") -> Prepared:
        """Read the file and convert and check every row (no writes, no per-row queries)."""
        prepared = Prepared(importer=self)
        self.progress(0, 0, _("Reading the file"))
        try:
            table = read_table(data, filename)
        except TableError as exc:
            prepared.file_errors.append(exc.message)
            return prepared
        prepared.headers = table.headers
        spec = [f.column for f in self.fields]
        mapping = map_columns(table.headers, spec)
        prepared.mapping = mapping
        prepared.unknown_columns = [header for _index, header in mapping.unknown]
        if mapping.errors:
            prepared.file_errors.extend(mapping.errors)
            prepared.file_errors.append(
                _("Expected columns: %(columns)s. Download the template to see them.")
                % {"columns": "、".join(self.template_headers())}
            )
            return prepared
        if not table.rows:
            prepared.file_errors.append(_("The file has a header row but no data rows below it."))
            return prepared
        self.load_lookups()
        self._convert(table, mapping, prepared)
        return prepared

    def _convert(self, table: Table, mapping: ColumnMapping, prepared: Prepared) -> None:
        """Convert column by column (few calls over whole columns), then check row by row."""
        by_name = {f.name: f for f in self.fields}
        total = len(table.rows)
        self.progress(0, total, _("Checking rows"))
        cells_by_column = (
            table.columns
            if table.columns is not None
            else list(zip(*(r.values for r in table.rows), strict=True))
        )
        names: list[str] = []
        converted: list[list[Any]] = []
        cell_errors: dict[int, list[tuple[str, str]]] = {}
        required_message = _("Required, but the cell is empty.")
        required: list[tuple[str, Sequence[Any]]] = []
        for name, index in mapping.indexes.items():
            f = by_name[name]
            cells = cells_by_column[index]
            values, errors = f.column_converter(mapping.units.get(name))(cells)
            header = table.headers[index]
            for position, message in errors.items():
                cell_errors.setdefault(position, []).append((header, message))
            names.append(name)
            converted.append(values)
            if f.required and None in cells:
                required.append((header, cells))
        for header, cells in required:
            for position, cell in enumerate(cells):
                if cell is None:
                    cell_errors.setdefault(position, []).append((header, required_message))
        del cells_by_column
        self.progress(total // 2, total, _("Checking rows"))

        rows = prepared.rows
        check_row, row_key = self.check_row, self.row_key
        first_by_key: dict[tuple[Any, ...], int] = {}
        get_errors = cell_errors.get
        for position, (number, cells) in enumerate(
            zip((r.number for r in table.rows), zip(*converted, strict=True), strict=True)
        ):
            values = dict(zip(names, cells, strict=True))
            if None in cells:
                values = {k: v for k, v in values.items() if v is not None}
            row = ParsedRow(number, values, get_errors(position))
            check_row(row)  # also on rows with bad cells: report every problem at once
            if row.errors is None:
                key = row_key(row)
                row.key = key
                first = first_by_key.get(key)
                if first is None:
                    first_by_key[key] = number
                else:
                    row.error(
                        "",
                        _("Duplicate of row %(row)d in this file (same %(key)s); "
                          "keep one of them.")
                        % {"row": first, "key": self.describe_key(row)},
                    )  # fmt: skip
            rows.append(row)
        self.progress(total, total, _("Checked %(count)d rows") % {"count": total})

    # -- planning against the database -----------------------------------------

    def lock(self) -> None:
        """Keep concurrent writers of the model's table out until the apply commits.

        Called inside the apply's transaction before the plan, so the records the plan
        is made against cannot change (or appear) before the writes: new rows can then
        be inserted as they are. PostgreSQL: SHARE ROW EXCLUSIVE (readers go on; other
        writers and other imports of this kind wait). SQLite: write transactions are
        IMMEDIATE, the whole database is already locked.
        """
        writers.lock_table(self.model)

    def plan_basis(self) -> tuple[Any, ...]:
        return (self.kind, getattr(self.user, "pk", None), self.scope_path)

    def plan(self, prepared: Prepared) -> Prepared:
        """Classify every valid row against the register as it is now (one query per table).

        When the rows were planned before (the dry run of the same file, same user) and
        the register still holds exactly the records that plan saw, the plan stands and
        the rows are not classified again.
        """
        valid = [row for row in prepared.rows if row.errors is None]
        existing = self.load_existing(valid)
        basis = self.plan_basis()
        if prepared.planned and prepared.plan_basis == basis and prepared.plan_existing == existing:
            return prepared
        for row in valid:
            row.action, row.target_id, row.record, row.before = "", None, None, None
        classify = self.classify
        for row in valid:
            classify(row, existing.get(row.key))
        for row in prepared.rows:
            if row.errors:
                row.action = REJECT
        prepared.planned = True
        prepared.plan_basis, prepared.plan_existing = basis, existing
        return prepared

    # -- writing ------------------------------------------------------------------

    def write(self, prepared: Prepared, *, job=None) -> dict[str, int]:
        """Write the planned creates and updates and their audit entries. Call inside atomic.

        Call ``lock`` and ``plan`` in the same transaction first: creates are inserted
        as they are (with ids allocated up front), not upserted.
        """
        creates = [r for r in prepared.rows if r.action == CREATE and not r.errors]
        updates = [r for r in prepared.rows if r.action == UPDATE and not r.errors]
        attnames = list(self.write_fields)
        model = self.model
        now = self.now
        stamped = [i for i, a in enumerate(attnames) if a in ("data_changed_at", "updated_at")]
        # Columns the importer does not write get the model's default on create.
        defaults = {
            f.attname: f.get_default()
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in attnames
        }
        for name in ("created_at", "updated_at"):
            if name in defaults:
                defaults[name] = now
        if creates:
            self.progress(0, len(creates), _("Writing new records"))
            # Sorted by key: the unique index (and the table) are filled in order.
            creates.sort(key=_sort_key)
            ids = writers.allocate_ids(model, len(creates))
            default_values = list(defaults.values())
            rows = []
            append = rows.append
            for r, pk in zip(creates, ids, strict=True):
                r.target_id = pk
                record = r.record
                values = [pk, *map(record.get, attnames), *default_values]
                for i in stamped:  # the time of this write, not of the dry run
                    values[i + 1] = now
                append(values)
            writers.insert_rows(model, [model._meta.pk.attname, *attnames, *defaults], rows)
            del rows
        if updates:
            self.progress(0, len(updates), _("Updating records"))
            update_names = [a for a in attnames if a not in self.key_fields]
            if "updated_at" in {f.attname for f in model._meta.concrete_fields}:
                update_names.append("updated_at")
            for r in updates:
                for name in ("data_changed_at", "updated_at"):
                    if name in update_names:
                        r.record[name] = now
            writers.update_rows(
                model,
                update_names,
                [[r.target_id, *map(r.record.get, update_names)] for r in updates],
            )
        written = creates + updates
        self.after_write(written)
        self.write_audit(written, job=job)
        return {
            "created": len(creates),
            "updated": len(updates),
            "unchanged": sum(1 for r in prepared.rows if r.action == UNCHANGED),
            "rejected": sum(1 for r in prepared.rows if r.errors),
        }

    def write_audit(self, rows: Sequence[ParsedRow], *, job=None) -> int:
        """Audit what the write did: compact for creates, a diff per record for updates.

        Creates: ONE audit entry for the whole import of this kind (who, when,
        ``via="import"``, the job and its kept file, how many, the id ranges) and one
        :class:`~kechuang.core.imports.models.ImportedRecords` mapping each new id to
        the file row it came from (packed arrays). A create has no "before"; its
        "after" is that row of the kept file and the record itself. The per-object
        history page merges it in (docs/decisions/0005-import-audit.md).

        Updates: one entry per changed record with the field diff
        ``{field: [before, after]}``; nothing for unchanged rows. All entries have
        ``via="import"`` and ``event="import:<job id>"``, and the job itself gets an
        event entry (services). Returns the number of audit entries written.
        """
        if not rows:
            return 0
        ct = ContentType.objects.get_for_model(self.model).pk
        actor = self.user
        audit.require_actor(actor)
        actor_id, actor_name = actor.pk, str(actor)[:150]
        job_id = job.pk if job is not None and job.pk else None
        event = f"import:{job_id if job_id is not None else 'null'}"
        created = [r for r in rows if r.action == CREATE]
        updated = [r for r in rows if r.action != CREATE]
        written = 0
        if created:
            written += self._audit_creates(created, job, ct, actor_id, actor_name, event)
        if updated:
            names = [
                "at", "actor_id", "actor_name", "via", "content_type_id", "object_id",
                "object_repr", "action", "event", "changes",
            ]  # fmt: skip
            now = self.now
            audited = self.audit_fields or tuple(
                n for n in self.write_fields if n not in ("data_changed_at", "updated_at")
            )
            entries = [
                (now, actor_id, actor_name, "import", ct, str(r.target_id), r.repr[:255],
                 AuditAction.UPDATE, event, changed_diff(r.before, r.record, audited))
                for r in updated
            ]  # fmt: skip
            # Signed in one pass (core.auditchain); sealed after commit. Ids handed out from
            # now on are above the highest one visible now.
            macs = auditchain.macs(entries)
            entries = [(*row, m) for row, m in zip(entries, macs, strict=True)]
            names.append("mac")
            floor = AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0
            writers.insert_rows(AuditEntry, names, entries)
            auditchain.seal_after_commit(floor + 1)
            written += len(entries)
        return written

    def _audit_creates(self, created, job, ct, actor_id, actor_name, event) -> int:
        from kechuang.core.imports.models import ImportedRecords, id_ranges

        ids = sorted(r.target_id for r in created)
        ranges = id_ranges(ids)
        meta = self.model._meta
        file_name = getattr(job, "original_name", "") or ""
        entry = AuditEntry(
            at=self.now,
            actor_id=actor_id,
            actor_name=actor_name,
            via="import",
            content_type_id=ct,
            object_id="",
            object_repr=(
                _("%(count)d new %(things)s from import #%(job)s (%(file)s)")
                % {
                    "count": len(ids),
                    "things": meta.verbose_name_plural,
                    "job": getattr(job, "pk", "–"),
                    "file": file_name,
                }
            )[:255],
            action=AuditAction.CREATE,
            event=event,
            changes={
                "import_job": getattr(job, "pk", None),
                "file": file_name,
                "stored_file": getattr(getattr(job, "file", None), "name", "") or "",
                "created": len(ids),
                "ids": [[start, stop - 1] for start, stop in ranges[:100]],
            },
        )
        entry.save()
        if job is not None and job.pk:
            ImportedRecords.build(
                job=job,
                content_type_id=ct,
                audit_entry=entry,
                pairs=[(r.target_id, r.number) for r in created],
            ).save()
        return 1


def _sort_key(row: ParsedRow) -> tuple[Any, ...]:
    return tuple("" if v is None else v for v in row.key or ())
