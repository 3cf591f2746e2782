"""The generic import machinery through the enterprise importer: files it must survive,
the dry-run report, apply (modes, atomicity, idempotency), audit, permissions, pages."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from kechuang.core.imports import services
from kechuang.core.imports.base import Importer
from kechuang.core.imports.models import ImportedRecords
from kechuang.core.imports.reports import rejected_rows_xlsx, template_xlsx
from kechuang.core.imports.testing import csv_bytes, upload, xlsx_bytes
from kechuang.core.models import AuditEntry, ImportJob, ImportMode, ImportStatus
from kechuang.enterprises.importers import EnterpriseImporter
from kechuang.enterprises.models import Enterprise
from kechuang.enterprises.tests.factories import make_uscc as _make_uscc

HEADERS = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_uscc(n: int) -> str:
    # Far from the factory's sequence, so a file's codes never collide with fixtures.
    return _make_uscc(900_000 + n)


def bad_uscc(n: int) -> str:
    code = make_uscc(n)
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def job_for(user, data: bytes, name="企业.xlsx", kind="enterprises", mode=ImportMode.VALID_ROWS):
    return services.create_import_job(kind, upload(name, data), mode=mode, acting_user=user)


def dry(user, data, **kwargs) -> ImportJob:
    job = job_for(user, data, **kwargs)
    services.run_dry_run(job, acting_user=user)
    job.refresh_from_db()
    return job


def rows_of(job):
    return {(p[0], p[2]) for p in job.problems}


# -- files that are not tables ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("logo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
        ("scan.xlsx", b"%PDF-1.7\n%...", "PDF"),
        ("empty.csv", b"", "空"),
        ("blank.xlsx", b"   \n", "空"),
        ("broken.xlsx", b"PK\x03\x04garbage", "损坏"),
    ],
)
def test_not_a_spreadsheet_fails_the_job_with_a_clear_message(officer, name, data, fragment):
    job = dry(officer, data, name=name)
    assert job.status == ImportStatus.FAILED
    assert fragment in job.error
    assert Enterprise.objects.count() == 0


def test_missing_required_column_names_it(officer, town):
    job = dry(officer, xlsx_bytes(["企业名称", "所属街镇"], [["甲公司", "莘庄镇"]]))
    assert job.status == ImportStatus.FAILED
    assert "统一社会信用代码" in job.error


def test_header_only_file_is_refused(officer):
    job = dry(officer, xlsx_bytes(HEADERS, []))
    assert job.status == ImportStatus.FAILED
    assert job.error


def test_extra_columns_are_ignored_and_listed(officer, town):
    data = xlsx_bytes(
        [*HEADERS, "企业类型"], [[make_uscc(1), "甲公司", "莘庄镇", 100, "2020-01-02", "有限公司"]]
    )
    job = dry(officer, data)
    assert job.status == ImportStatus.VALIDATED
    assert job.planned["ignored_columns"] == ["企业类型"]
    assert job.valid_rows == 1


def test_merged_two_row_header_is_refused(officer, town):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "企业名称", "经营情况", None])
    sheet.append([None, None, "所属街镇", "注册资本(万元)"])
    sheet.merge_cells("C1:D1")
    sheet.merge_cells("A1:A2")
    sheet.append([make_uscc(1), "甲公司", "莘庄镇", 100])
    buffer = io.BytesIO()
    book.save(buffer)
    job = dry(officer, buffer.getvalue())
    assert job.status == ImportStatus.FAILED
    assert "合并单元格" in job.error or "两行" in job.error


def test_title_row_above_header_is_skipped(officer, town):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2024年科技企业名单"])
    sheet.merge_cells("A1:E1")
    sheet.append(HEADERS)
    sheet.append([make_uscc(1), "甲公司", "莘庄镇", 100, "2020-01-02"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = dry(officer, buffer.getvalue())
    assert job.status == ImportStatus.VALIDATED, job.error
    assert job.valid_rows == 1


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_gbk_and_utf8_with_bom(officer, town, encoding):
    data = csv_bytes(HEADERS, [[make_uscc(1), "上海莘庄甲科技有限公司", "莘庄镇", "1,200", "2020年3月5日"]],
                     encoding=encoding)  # fmt: skip
    job = dry(officer, data, name="list.csv")
    assert job.status == ImportStatus.VALIDATED, job.error
    services.apply_import(job, acting_user=officer)
    enterprise = Enterprise.objects.get()
    assert enterprise.name == "上海莘庄甲科技有限公司"
    assert enterprise.registered_capital == 12_000_000
    assert str(enterprise.registered_on) == "2020-03-05"


# -- row problems -------------------------------------------------------------------


def test_every_problem_is_reported_by_row_column_and_reason(officer, town, enterprise):
    rows = [
        [make_uscc(1), "好公司", "莘庄镇", "500", "2020-01-01"],  # row 2: fine
        [bad_uscc(2), "错码公司", "莘庄镇", "500", "2020-01-01"],  # row 3: check digit
        [make_uscc(3), "无镇公司", "火星镇", "500", "2020-01-01"],  # row 4: unknown town
        [make_uscc(4), "日期公司", "莘庄镇", "500", "2020-13-45"],  # row 5: bad date
        [make_uscc(5), "金额公司", "莘庄镇", "五百多", "2020-01-01"],  # row 6: bad amount
        [make_uscc(1), "好公司", "莘庄镇", "500", "2020-01-01"],  # row 7: duplicate of row 2
        [enterprise.uscc, "改名公司", "莘庄", "500", "2020-01-01"],  # row 8: warning, name differs
        [make_uscc(6), None, "莘庄镇", "500", "2020-01-01"],  # row 9: name missing
    ]
    job = dry(officer, xlsx_bytes(HEADERS, rows))
    assert job.status == ImportStatus.VALIDATED
    by_row = {p[0]: p for p in job.problems}
    assert by_row[3][1] == "统一社会信用代码" and "校验位" in by_row[3][3]
    assert by_row[4][1] == "所属街镇" and "火星镇" in by_row[4][3]
    assert by_row[5][1] == "成立日期"
    assert by_row[6][1] == "注册资本(万元)" and "五百多" in by_row[6][3]
    assert "2" in by_row[7][3] and by_row[7][2] == "error"
    assert by_row[8][2] == "warning" and enterprise.name in by_row[8][3]
    assert by_row[9][1] == "企业名称"
    assert 2 not in by_row
    assert job.error_rows == 6 and job.valid_rows == 2 and job.warning_rows == 1
    assert job.planned == {"create": 1, "update": 1, "unchanged": 0}
    assert Enterprise.objects.count() == 1  # a dry run writes nothing


def test_uscc_with_one_wrong_character_is_rejected(officer, town):
    code = make_uscc(7)
    wrong = code[:5] + ("1" if code[5] != "1" else "2") + code[6:]
    job = dry(officer, xlsx_bytes(HEADERS, [[wrong, "甲", "莘庄镇", 1, "2020-01-01"]]))
    assert job.error_rows == 1
    assert job.problems[0][1] == "统一社会信用代码"


def test_town_names_tolerate_suffix_variants_and_codes(officer, town, park):
    rows = [
        [make_uscc(1), "甲", "莘庄", None, None],
        [make_uscc(2), "乙", "莘庄镇", None, None],
        [make_uscc(3), "丙", "莘庄街道", None, None],
        [make_uscc(4), "丁", town.code, None, None],
    ]
    job = dry(officer, xlsx_bytes(HEADERS, rows))
    assert job.error_rows == 0, job.problems
    services.apply_import(job, acting_user=officer)
    assert set(Enterprise.objects.values_list("jurisdiction_id", flat=True)) == {town.pk}


def test_park_outside_the_given_town_is_rejected(officer, town, other_town, park):
    data = xlsx_bytes(["统一社会信用代码", "企业名称", "所属街镇", "所属园区"],
                      [[make_uscc(1), "甲", "七宝镇", "莘庄工业园区"],
                       [make_uscc(2), "乙", None, "莘庄工业园区"]])  # fmt: skip
    job = dry(officer, data)
    assert [p[0] for p in job.problems] == [2]
    services.apply_import(job, acting_user=officer)
    created = Enterprise.objects.get()
    assert (created.jurisdiction_id, created.park_id) == (town.pk, park.pk)


# -- apply ----------------------------------------------------------------------------


def test_apply_creates_updates_and_is_idempotent(officer, town, enterprise):
    rows = [
        [make_uscc(1), "新公司", "莘庄镇", "1.2亿元", "2019/5/1"],
        [enterprise.uscc, enterprise.name, "莘庄镇", 300, None],
    ]
    data = xlsx_bytes(HEADERS, rows)
    job = dry(officer, data)
    outcome = services.apply_import(job, acting_user=officer)
    assert outcome == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    new = Enterprise.objects.get(uscc=make_uscc(1))
    assert new.registered_capital == 120_000_000
    enterprise.refresh_from_db()
    assert enterprise.registered_capital == 3_000_000
    assert enterprise.registered_on is not None  # blank cell left the value as it was

    audits = AuditEntry.objects.filter(via="import", event=f"import:{job.pk}")
    assert audits.count() == 2
    update = audits.get(object_id=str(enterprise.pk))
    assert update.changes == {"registered_capital": [None, 3_000_000]}
    assert AuditEntry.objects.filter(event="import_applied", object_id=str(job.pk)).exists()

    before = AuditEntry.objects.count()
    again = services.apply_import(job, acting_user=officer)
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert AuditEntry.objects.count() == before + 1  # only the job's own event
    # The same file uploaded again changes nothing either.
    second = dry(officer, data)
    assert second.planned == {"create": 0, "update": 0, "unchanged": 2}


def test_all_or_nothing_writes_nothing_when_a_row_is_rejected(officer, town):
    rows = [[make_uscc(1), "甲", "莘庄镇", 1, None], [bad_uscc(2), "乙", "莘庄镇", 1, None]]
    job = dry(officer, xlsx_bytes(HEADERS, rows), mode=ImportMode.ALL_OR_NOTHING)
    with pytest.raises(services.ImportRefused):
        services.apply_import(job, acting_user=officer)
    assert Enterprise.objects.count() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED and "1" in job.error
    # The officer may then choose "all valid rows".
    services.apply_import(job, acting_user=officer, mode=ImportMode.VALID_ROWS)
    assert Enterprise.objects.count() == 1


def test_failure_midway_rolls_everything_back(officer, town, enterprise, monkeypatch):
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 50)]
    rows.append([enterprise.uscc, "改了名字", "莘庄镇", 9, None])
    job = dry(officer, xlsx_bytes(HEADERS, rows))
    original = Importer.write_audit

    def explode(self, written, *, job=None):
        # Enterprises are already inserted and updated when this runs.
        assert Enterprise.objects.count() == 50
        raise RuntimeError("disk full")

    monkeypatch.setattr(Importer, "write_audit", explode)
    with pytest.raises(RuntimeError):
        services.apply_import(job, acting_user=officer)
    assert Enterprise.objects.count() == 1
    enterprise.refresh_from_db()
    assert enterprise.name == "上海莘庄智能装备有限公司"
    assert not AuditEntry.objects.filter(via="import").exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "disk full" in job.error
    monkeypatch.setattr(Importer, "write_audit", original)


def test_dry_run_and_apply_share_one_read(officer, town, monkeypatch):
    calls = []
    real = EnterpriseImporter.prepare

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(EnterpriseImporter, "prepare", counting)
    job = job_for(officer, xlsx_bytes(HEADERS, [[make_uscc(1), "甲", "莘庄镇", 1, None]]))
    services.dry_run_and_apply(job, acting_user=officer)
    assert len(calls) == 1
    assert Enterprise.objects.count() == 1


def test_bulk_apply_runs_a_bounded_number_of_queries(officer, town, django_assert_max_num_queries):
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, "2020-01-01"] for n in range(1, 301)]
    job = dry(officer, xlsx_bytes(HEADERS, rows))
    with django_assert_max_num_queries(30):
        services.apply_import(job, acting_user=officer)
    assert Enterprise.objects.count() == 300


# -- permissions ---------------------------------------------------------------------


def test_station_staff_rows_outside_their_jurisdiction_are_rejected(
    town_officer, town, other_town, other_enterprise
):
    rows = [
        [make_uscc(1), "本镇公司", "莘庄镇", 1, None],
        [make_uscc(2), "外镇公司", "七宝镇", 1, None],
        [other_enterprise.uscc, "外镇老公司", "莘庄镇", 1, None],  # moving it in is refused too
    ]
    job = dry(town_officer, xlsx_bytes(HEADERS, rows))
    errors = {p[0]: p[3] for p in job.problems if p[2] == "error"}
    assert set(errors) == {3, 4}
    assert all("辖区" in m or "jurisdiction" in m for m in errors.values())
    services.apply_import(job, acting_user=town_officer)
    assert Enterprise.objects.filter(name="本镇公司").exists()
    other_enterprise.refresh_from_db()
    assert other_enterprise.jurisdiction == other_town


def test_other_roles_cannot_import(enterprise_user, expert):
    for user in (enterprise_user, expert):
        with pytest.raises(services.PermissionDenied):
            job_for(user, xlsx_bytes(HEADERS, []))


def test_job_list_is_scoped(officer, town_officer, other_town_officer, town, other_town):
    mine = job_for(town_officer, xlsx_bytes(HEADERS, []))
    theirs = job_for(other_town_officer, xlsx_bytes(HEADERS, []))
    central = job_for(officer, xlsx_bytes(HEADERS, []))
    assert set(ImportJob.objects.visible_to(town_officer)) == {mine}
    assert set(ImportJob.objects.visible_to(officer)) == {mine, theirs, central}


# -- workbooks ---------------------------------------------------------------------------


def test_template_has_chinese_headers_and_a_notes_sheet():
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(EnterpriseImporter)))
    assert book.sheetnames == ["数据", "填写说明"]
    headers = [c.value for c in book["数据"][1]]
    assert headers[:3] == ["统一社会信用代码", "企业名称", "所属街镇"]
    assert "注册资本(万元)" in headers
    notes = {row[0].value: row[3].value for row in book["填写说明"].iter_rows(min_row=2)}
    assert "2023年5月1日" in notes["成立日期"]
    # Written by core's one xlsx writer: credit-code columns are text, required headers marked.
    assert book["数据"].column_dimensions["A"].number_format == "@"
    assert book["数据"]["A1"].fill.fgColor.rgb != book["数据"]["C1"].fill.fgColor.rgb


def test_template_reads_back_as_a_valid_empty_import(officer):
    job = dry(officer, template_xlsx(EnterpriseImporter))
    assert job.status == ImportStatus.FAILED  # header only: no rows, but the columns all map
    assert "缺少" not in job.error


def test_rejected_rows_workbook_has_the_rows_and_reasons(officer, town):
    rows = [[make_uscc(1), "好", "莘庄镇", 1, None], [bad_uscc(2), "坏", "火星镇", 1, None]]
    job = dry(officer, xlsx_bytes(HEADERS, rows))
    book = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(job)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][2:] == HEADERS
    assert len(values) == 2
    assert values[1][0] == 3 and values[1][2] == bad_uscc(2)
    assert "统一社会信用代码" in values[1][1] and "火星镇" in values[1][1]


# -- pages -------------------------------------------------------------------------------


def test_web_flow_upload_dry_run_apply(client_for, officer, town):
    client = client_for(officer)
    assert client.get(reverse("imports:list")).status_code == 200
    template = client.get(reverse("imports:template", args=["enterprises"]))
    assert template.status_code == 200 and template.content.startswith(b"PK")
    data = xlsx_bytes(
        HEADERS, [[make_uscc(1), "甲", "莘庄镇", 1, None], [bad_uscc(2), "乙", "莘庄镇", 1, None]]
    )
    response = client.post(
        reverse("imports:list"),
        {"kind": "enterprises", "mode": ImportMode.VALID_ROWS, "file": upload("a.xlsx", data)},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert job.original_name.encode() in page.content
    assert bad_uscc(2).encode() in page.content
    assert client.get(reverse("imports:rejected", args=[job.pk])).status_code == 200
    assert client.get(reverse("imports:file", args=[job.pk])).content == data
    progress = client.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and progress["HX-Refresh"] == "true"
    applied = client.post(
        reverse("imports:apply", args=[job.pk]), {"mode": "valid_rows"}, follow=True
    )
    assert applied.status_code == 200
    assert Enterprise.objects.count() == 1
    again = client.post(
        reverse("imports:apply", args=[job.pk]), {"mode": "valid_rows"}, follow=True
    )
    assert "没有变化".encode() in again.content or b"Nothing changed" in again.content


@pytest.mark.parametrize(
    ("name", "data"),
    [("x.png", b"\x89PNG\r\n\x1a\n0000"), ("x.xlsx", b"\x89PNG\r\n\x1a\n0000"), ("x.xlsx", b"")],
)
def test_bad_uploads_never_give_a_500(client_for, officer, name, data):
    client = client_for(officer)
    response = client.post(
        reverse("imports:list"),
        {"kind": "enterprises", "mode": "valid_rows", "file": upload(name, data)},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert b"PNG" in page.content


def test_pages_refuse_other_roles_and_hide_other_jobs(
    client_for, enterprise_user, town_officer, other_town_officer, officer
):
    assert client_for(enterprise_user).get(reverse("imports:list")).status_code == 403
    job = job_for(officer, xlsx_bytes(HEADERS, []))
    assert client_for(town_officer).get(reverse("imports:detail", args=[job.pk])).status_code == 404
    assert (
        client_for(town_officer).get(reverse("imports:rejected", args=[job.pk])).status_code == 404
    )


def test_large_file_runs_as_a_background_task(settings, officer, town, monkeypatch):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 20)]
    job = job_for(officer, xlsx_bytes(HEADERS, rows))
    services.start_dry_run(job, acting_user=officer)  # ImmediateBackend in tests
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED and job.task_id
    services.start_apply(job, acting_user=officer)
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED and job.progress == 100
    assert Enterprise.objects.count() == 19


# -- the fast paths give what the cell-by-cell functions give -----------------------------


def test_credit_code_column_check_agrees_with_validate_uscc():
    import random

    from kechuang.core.imports.fields import uscc_suspects
    from kechuang.core.validators import USCC_CHARSET, is_valid_uscc

    rng = random.Random(7)
    codes = [make_uscc(n) for n in range(400)]
    for n in range(400):  # one character changed: most break a check digit
        code = list(make_uscc(5000 + n))
        code[rng.randrange(18)] = rng.choice(USCC_CHARSET)
        codes.append("".join(code))
    codes += ["".join(rng.choice(USCC_CHARSET) for _ in range(18)) for _ in range(400)]
    rng.shuffle(codes)
    suspects = set(uscc_suspects(codes))
    assert {i for i, code in enumerate(codes) if not is_valid_uscc(code)} == suspects
    assert set(uscc_suspects([*codes[:5], make_uscc(1).lower()])) >= {5}  # not canonical


@pytest.mark.parametrize(
    "cells",
    [
        ["上海甲科技有限公司", "乙 公司", "Plain ASCII"],
        ["全角ＡＢＣ公司", "ok"],  # NFKC changes it
        ["two  spaces", "ok"],
        ["tab\there", "ok"],
        ["ok", None, "也行"],
        ["a", 12, 3.5],
    ],
)
def test_text_column_fast_path_matches_clean_text(cells):
    from kechuang.core.imports.fields import TextField, clean_text

    values, errors = TextField("x", "x").column_converter(None)(cells)
    assert errors == {}
    assert values == [None if c is None else clean_text(c) for c in cells]


def test_apply_re_plans_when_the_register_changed_after_the_dry_run(officer, town):
    rows = [
        [make_uscc(1), "甲公司", "莘庄镇", 5, None],
        [make_uscc(2), "乙公司", "莘庄镇", 6, None],
    ]
    job = job_for(officer, xlsx_bytes(HEADERS, rows))
    prepared = services.run_dry_run(job, acting_user=officer)
    assert prepared.counts()["create"] == 2
    # Someone registers one of the enterprises between the check and the apply.
    Enterprise.objects.create(uscc=make_uscc(1), name="甲公司", jurisdiction=town)
    outcome = services.apply_import(job, acting_user=officer, prepared=prepared)
    assert outcome == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    assert Enterprise.objects.count() == 2
    assert Enterprise.objects.get(uscc=make_uscc(1)).registered_capital == 50_000


def test_apply_after_dry_run_does_not_classify_again(officer, town, monkeypatch):
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 6)]
    job = job_for(officer, xlsx_bytes(HEADERS, rows))
    calls = []
    real = EnterpriseImporter.classify

    def counting(self, row, existing):
        calls.append(row.number)
        return real(self, row, existing)

    monkeypatch.setattr(EnterpriseImporter, "classify", counting)
    services.dry_run_and_apply(job, acting_user=officer)
    assert len(calls) == 5  # once, in the dry run
    new = Enterprise.objects.order_by("pk")
    assert [e.uscc for e in new] == sorted(make_uscc(n) for n in range(1, 6))
    mapping = ImportedRecords.objects.get(job=job)  # creates: one compact audit per import
    assert mapping.ids() == [e.pk for e in new]
    assert sorted(mapping.row_of(e.pk) for e in new) == [2, 3, 4, 5, 6]
