"""Untrusted uploads: size caps, the contained reader, bounded problems, stale and locked jobs."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import zipfile

import openpyxl
import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from kechuang.core import tabular
from kechuang.core.imports import services, tasks
from kechuang.core.imports.reports import rejected_rows_xlsx
from kechuang.core.imports.testing import csv_bytes, upload, xlsx_bytes
from kechuang.core.models import ImportJob, ImportStatus
from kechuang.core.tableguard import parse_dimension
from kechuang.core.tabular import TableError, read_table
from kechuang.enterprises.models import Enterprise
from kechuang.enterprises.tests.factories import make_uscc

HEADERS = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def crafted_xlsx(ref: str | None, cells: str) -> bytes:
    """A minimal workbook whose one sheet "数据" declares ``ref`` and holds ``cells``."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    dimension = f'<dimension ref="{ref}"/>' if ref else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" '
            f'Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{office}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{office}"><sheets>'
            '<sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}">{dimension}<sheetData>{cells}</sheetData></worksheet>',
        )
    return buffer.getvalue()


HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>企业名称</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>备注</t></is></c></row>'
)


# -- sheet size, declared and real ---------------------------------------------------


def test_declared_whole_sheet_is_refused_before_reading():
    bomb = crafted_xlsx("A1:XFD1048576", HEADER_ROW)
    assert len(bomb) < 2000
    with pytest.raises(TableError) as caught:
        read_table(bomb, "bomb.xlsx")
    assert caught.value.code == "too_many_rows"
    assert "数据" in caught.value.message and "200000" in caught.value.message


def test_declared_wide_sheet_names_the_column_limit(settings):
    with pytest.raises(TableError) as caught:
        read_table(crafted_xlsx("A1:HZ3", HEADER_ROW), "wide.xlsx")
    assert caught.value.code == "too_many_columns"
    assert "200" in caught.value.message and "HZ" in caught.value.message


def test_a_far_cell_without_a_declared_size_kills_only_the_child(settings):
    """calamine would allocate the whole A1:XFD1048576 grid (512 GiB) and abort."""
    settings.TABULAR_READ_MEMORY_MB = 256
    bomb = crafted_xlsx(None, HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    with pytest.raises(TableError) as caught:
        read_table(bomb, "bomb.xlsx")
    assert caught.value.code == "unreadable"
    assert "bomb.xlsx" in caught.value.message


def test_a_reader_that_aborts_becomes_a_failed_job(officer, monkeypatch):
    monkeypatch.setattr(tabular, "_read", lambda *args: os.abort())
    job = services.create_import_job(
        "enterprises", upload("a.xlsx", xlsx_bytes(HEADERS, [])), acting_user=officer
    )
    services.run_dry_run(job, acting_user=officer)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "a.xlsx" in job.error


def test_a_reader_that_crashes_says_the_file_is_damaged(monkeypatch):
    monkeypatch.setattr(tabular, "_read", lambda *args: os.kill(os.getpid(), signal.SIGSEGV))
    with pytest.raises(TableError) as caught:
        read_table(xlsx_bytes(HEADERS, []), "a.xlsx")
    assert caught.value.code == "unreadable" and "损坏" in caught.value.message


def test_real_size_is_checked_when_nothing_is_declared(settings):
    settings.TABULAR_MAX_ROWS = 5
    data = xlsx_bytes(["企业名称"], [[f"公司{i}"] for i in range(200)])
    with pytest.raises(TableError) as caught:
        read_table(data, "long.xlsx")
    assert caught.value.code == "too_many_rows"


@pytest.mark.parametrize(
    ("ref", "size"),
    [("A1:K1001", (1001, 11)), ("A1", (1, 1)), ("$A$1:$XFD$1048576", (1048576, 16384)),
     ("nonsense", None)],
)  # fmt: skip
def test_parse_dimension(ref, size):
    assert parse_dimension(ref) == size


# -- cells ----------------------------------------------------------------------------


def test_a_cell_of_several_megabytes_is_refused_naming_the_cell():
    data = xlsx_bytes(["企业名称", "备注"], [["甲公司", "短"], ["乙公司", "长" * 3_000_000]])
    with pytest.raises(TableError) as caught:
        read_table(data, "big.xlsx")
    assert caught.value.code == "cell_too_long"
    assert "B3" in caught.value.message and "32767" in caught.value.message
    assert len(caught.value.message) < 300


def test_csv_cell_rows_and_columns_are_capped(settings):
    settings.TABULAR_MAX_ROWS = 10
    with pytest.raises(TableError) as caught:
        read_table(csv_bytes(["a", "b"], [["x", "y" * 40_000]]), "long.csv")
    assert caught.value.code == "cell_too_long"
    with pytest.raises(TableError) as caught:
        read_table(csv_bytes(["a"], [[str(i)] for i in range(500)]), "tall.csv")
    assert caught.value.code == "too_many_rows"
    with pytest.raises(TableError) as caught:
        read_table(csv_bytes([f"c{i}" for i in range(300)], [["1"] * 300]), "wide.csv")
    assert caught.value.code == "too_many_columns"


def test_contained_read_returns_the_same_table_as_a_direct_read(settings):
    rows = [
        ["甲", 1, 2.5, dt.date(2020, 1, 2), None, True],
        [None, 2, None, dt.datetime(2021, 3, 4, 5, 6), "文本", False],
    ] * 40  # below and above the first 32 rows, which are normalized cell by cell
    data = xlsx_bytes(["名称", "整数", "小数", "日期", "备注", "是否"], rows)
    settings.TABULAR_READ_CONTAINED = False
    direct = read_table(data, "a.xlsx")
    settings.TABULAR_READ_CONTAINED = True
    contained = read_table(data, "a.xlsx")
    assert contained == direct
    assert contained.rows[41].values[0] is None


# -- bounded problems ------------------------------------------------------------------


def test_problem_messages_clip_the_values_they_echo(officer, town):
    huge = "9" * 20_000 + "万"
    data = xlsx_bytes(HEADERS, [[make_uscc(1), "甲公司", town.name, "x" + huge, None]])
    job = services.create_import_job("enterprises", upload("a.xlsx", data), acting_user=officer)
    services.run_dry_run(job, acting_user=officer)
    job.refresh_from_db()
    [(_row, _column, _severity, message)] = job.problems
    assert len(message) <= 500 and "…" in message


def test_stored_problems_are_capped_and_the_rest_counted(officer, town, monkeypatch):
    monkeypatch.setattr(services, "MAX_STORED_PROBLEMS", 5)
    data = xlsx_bytes(HEADERS, [[f"bad{i}", f"公司{i}", town.name, 1, None] for i in range(12)])
    job = services.create_import_job("enterprises", upload("a.xlsx", data), acting_user=officer)
    services.run_dry_run(job, acting_user=officer)
    job.refresh_from_db()
    assert len(job.problems) == 5 and job.problems_omitted == 7 and job.problems_truncated
    sheet = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(job))).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 5 + 1
    assert "7" in values[-1][1]


# -- jobs whose worker died, locked databases ------------------------------------------------


def test_a_job_silent_past_the_limit_is_failed_when_opened(client_for, officer):
    job = services.create_import_job(
        "enterprises", upload("a.xlsx", xlsx_bytes(HEADERS, [])), acting_user=officer
    )
    fresh = services.create_import_job(
        "enterprises", upload("b.xlsx", xlsx_bytes(HEADERS, [])), acting_user=officer
    )
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.VALIDATING, heartbeat_at=an_hour_ago
    )
    ImportJob.objects.filter(pk=fresh.pk).update(
        status=ImportStatus.VALIDATING, heartbeat_at=timezone.now()
    )
    response = client_for(officer).get(reverse("imports:detail", args=[job.pk]))
    assert response.status_code == 200
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.error
    assert fresh.status == ImportStatus.VALIDATING
    client_for(officer).get(reverse("imports:list"))
    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.VALIDATING


def test_worker_retries_a_run_that_met_a_locked_database(officer, town, monkeypatch):
    monkeypatch.setattr(tasks, "LOCKED_BACKOFF_SECONDS", 0)
    data = xlsx_bytes(HEADERS, [[make_uscc(1), "甲公司", town.name, 1, None]])
    job = services.create_import_job("enterprises", upload("a.xlsx", data), acting_user=officer)
    calls = []
    original = services._read

    def locked_once(job_, importer):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return original(job_, importer)

    monkeypatch.setattr(services, "_read", locked_once)
    assert tasks.dry_run_task.call(job.pk, officer.pk) == ImportStatus.VALIDATED
    assert len(calls) == 2
    monkeypatch.setattr(services, "_read", original)
    assert tasks.apply_task.call(job.pk, officer.pk) == ImportStatus.APPLIED
    assert Enterprise.objects.filter(name="甲公司").exists()


def test_worker_fails_the_job_cleanly_when_the_database_stays_locked(officer, monkeypatch):
    monkeypatch.setattr(tasks, "LOCKED_BACKOFF_SECONDS", 0)
    job = services.create_import_job(
        "enterprises", upload("a.xlsx", xlsx_bytes(HEADERS, [])), acting_user=officer
    )

    def always_locked(job_, importer):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_read", always_locked)
    assert tasks.dry_run_task.call(job.pk, officer.pk) == ImportStatus.FAILED
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "锁定" in job.error


@pytest.mark.django_db
def test_sqlite_waits_for_a_lock_instead_of_failing_at_once():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (busy_ms,) = cursor.fetchone()
    assert busy_ms >= 1000
