"""The set-at-a-time writers of imports: what lands in the table is what the ORM would
write, on both backends, and PostgreSQL's binary COPY never lets a bad value slip in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from kechuang.core.imports import writers
from kechuang.enterprises.models import AnnualReport, Enterprise
from kechuang.enterprises.tests.factories import make_uscc

pg_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _enterprise_rows(town, count=3):
    now = timezone.now()
    ids = writers.allocate_ids(Enterprise, count)
    names = ["id", "uscc", "name", "jurisdiction_id", "registered_on", "registered_capital",
             "lat", "lng", "listing_status", "created_at", "updated_at"]  # fmt: skip
    # Every other column gets the model's default, as Importer.write does.
    defaults = {
        f.attname: f.get_default()
        for f in Enterprise._meta.concrete_fields
        if not f.primary_key and f.attname not in names
    }
    rows = [
        [pk, make_uscc(700_000 + n), f"公司{n}", town.pk, dt.date(2020, 1, n + 1), 10**12 + n,
         Decimal("31.123456"), 121 if n == 0 else None, "unlisted", now, now, *defaults.values()]
        for n, pk in enumerate(ids)
    ]  # fmt: skip
    return [*names, *defaults], rows, ids, now


def test_insert_rows_writes_what_the_orm_reads_back(town):
    with transaction.atomic():
        names, rows, ids, now = _enterprise_rows(town)
        writers.insert_rows(Enterprise, names, rows)
    found = {e.pk: e for e in Enterprise.objects.filter(pk__in=ids)}
    assert sorted(found) == ids
    first = found[ids[0]]
    assert first.uscc == make_uscc(700_000) and first.name == "公司0"
    assert first.registered_on == dt.date(2020, 1, 1)
    assert first.registered_capital == 10**12
    assert first.lat == Decimal("31.123456") and first.lng == Decimal("121")  # int -> numeric
    assert first.created_at == now and found[ids[1]].lng is None


def test_update_rows_by_primary_key(town):
    with transaction.atomic():
        names, rows, ids, _now = _enterprise_rows(town)
        writers.insert_rows(Enterprise, names, rows)
        writers.update_rows(
            Enterprise, ["name", "lat"], [[ids[0], "改名", Decimal("30.5")], [ids[2], "又改", None]]
        )
    assert Enterprise.objects.get(pk=ids[0]).name == "改名"
    assert Enterprise.objects.get(pk=ids[0]).lat == Decimal("30.500000")
    assert Enterprise.objects.get(pk=ids[2]).lat is None
    assert Enterprise.objects.get(pk=ids[1]).name == "公司1"


@pg_only
def test_pg_out_of_range_small_integer_is_refused_not_wrapped(enterprise):
    # Binary COPY would store 70000 in a smallint as 4464; the writer must not.
    names = ["enterprise_id", "year", "status", "source", "created_at", "updated_at"]
    now = timezone.now()
    with pytest.raises(Exception, match="out of range"), transaction.atomic():
        writers.insert_rows(AnnualReport, names, [[enterprise.pk, 70_000, "submitted", "import",
                                                    now, now]])  # fmt: skip
    assert not AnnualReport.objects.exists()


@pg_only
def test_pg_values_the_binary_copy_cannot_take_go_as_text(enterprise):
    names = ["enterprise_id", "year", "staff", "status", "source", "created_at", "updated_at"]
    now = timezone.now()
    with transaction.atomic():
        writers.insert_rows(AnnualReport, names, [[enterprise.pk, "2023", "12", "submitted",
                                                   "import", now, now]])  # fmt: skip
        assert connection.in_atomic_block
    report = AnnualReport.objects.get()
    assert (report.year, report.staff) == (2023, 12)


def test_allocated_ids_are_one_block_above_anything_used(town, enterprise):
    with transaction.atomic():
        writers.lock_table(Enterprise)
        names, rows, ids, _now = _enterprise_rows(town, count=4)
        writers.insert_rows(Enterprise, names, rows)
    assert ids == list(range(ids[0], ids[0] + 4)) and ids[0] > enterprise.pk
    later = Enterprise.objects.create(uscc=make_uscc(700_100), name="后来的", jurisdiction=town)
    assert later.pk > ids[-1]  # the sequence / AUTOINCREMENT moved past the block
    assert writers.allocate_ids(Enterprise, 0) == []
