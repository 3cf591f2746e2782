"""Where imported records came from: one compact row per import and kind.

An import that creates N records writes ONE audit entry (who, when, via=import,
the job and its kept file) and one :class:`ImportedRecords` holding, for those N
records, their ids and the file row each came from, packed:

* ``id_ranges`` — the ids as ``[start, stop)`` pairs of little-endian int64 (new
  ids are allocated as one contiguous range, so usually a single pair);
* ``rows`` — one little-endian uint32 file row number per id, in id order.

``min_id`` / ``max_id`` let "which import created record 1234?" be one indexed
query; the packed arrays answer the row. See docs/decisions/0005-import-audit.md.

The model belongs to the ``core`` app (registered from kechuang.core.models).
"""

from __future__ import annotations

import bisect
import struct
from array import array
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

_LITTLE = struct.pack("=H", 1) == struct.pack("<H", 1)


def _pack(typecode: str, values) -> bytes:
    packed = array(typecode, values)
    if not _LITTLE:  # pragma: no cover - every supported platform is little-endian
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(bytes(data))
    if not _LITTLE:  # pragma: no cover
        values.byteswap()
    return values


def id_ranges(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ids as maximal ``[start, stop)`` runs of consecutive integers."""
    ranges: list[tuple[int, int]] = []
    if not ids:
        return ranges
    start = previous = ids[0]
    for pk in ids[1:]:
        if pk != previous + 1:
            ranges.append((start, previous + 1))
            start = pk
        previous = pk
    ranges.append((start, previous + 1))
    return ranges


class ImportedRecordsQuerySet(models.QuerySet):
    # Part of the audit trail: append-only, like AuditEntry.
    def update(self, **kwargs):
        raise PermissionDenied("Imported-records mappings cannot be changed.")

    def delete(self):
        raise PermissionDenied("Imported-records mappings cannot be deleted.")

    def covering(self, content_type_id: int, pk: int) -> ImportedRecordsQuerySet:
        """The mappings whose id span includes ``pk`` (decode with ``row_of`` to be sure)."""
        return self.filter(content_type_id=content_type_id, min_id__lte=pk, max_id__gte=pk)


class ImportedRecords(models.Model):
    """The records one import created of one model: ids and their file rows, packed."""

    job = models.ForeignKey(
        "core.ImportJob", on_delete=models.PROTECT, related_name="imported_records"
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    # The audit entry that records who and when (one per import and kind).
    audit_entry = models.ForeignKey("core.AuditEntry", on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()
    min_id = models.BigIntegerField()
    max_id = models.BigIntegerField()
    id_ranges = models.BinaryField()  # int64 pairs [start, stop), ascending
    rows = models.BinaryField()  # uint32 file row per id, in id order

    objects = ImportedRecordsQuerySet.as_manager()

    class Meta:
        app_label = "core"
        indexes = [models.Index(fields=["content_type", "min_id", "max_id"])]
        verbose_name = _("imported records")
        verbose_name_plural = _("imported records")

    def __str__(self) -> str:
        return f"import #{self.job_id}: {self.count} × {self.content_type_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:  # part of the audit trail: append-only
            raise PermissionDenied("Imported-records mappings cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Imported-records mappings cannot be deleted.")

    @classmethod
    def build(cls, *, job, content_type_id: int, audit_entry, pairs: Sequence[tuple[int, int]]):
        """An unsaved mapping from ``(id, row)`` pairs (any order)."""
        pairs = sorted(pairs)
        ids = [pk for pk, _row in pairs]
        ranges = id_ranges(ids)
        return cls(
            job=job,
            content_type_id=content_type_id,
            audit_entry=audit_entry,
            count=len(ids),
            min_id=ids[0],
            max_id=ids[-1],
            id_ranges=_pack("q", [bound for pair in ranges for bound in pair]),
            rows=_pack("I", [row for _pk, row in pairs]),
        )

    def ranges(self) -> list[tuple[int, int]]:
        flat = _unpack("q", self.id_ranges)
        return list(zip(flat[0::2], flat[1::2], strict=True))

    def ids(self) -> list[int]:
        return [pk for start, stop in self.ranges() for pk in range(start, stop)]

    def row_of(self, pk: int) -> int | None:
        """The file row the record ``pk`` came from, or None when this import did not create it."""
        ranges = self.ranges()
        starts = [start for start, _stop in ranges]
        at = bisect.bisect_right(starts, pk) - 1
        if at < 0 or pk >= ranges[at][1]:
            return None
        position = sum(stop - start for start, stop in ranges[:at]) + pk - ranges[at][0]
        data = bytes(self.rows)
        (row,) = struct.unpack_from("<I", data, 4 * position)
        return row
