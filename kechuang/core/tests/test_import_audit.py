"""The compact creation audit of imports: one entry per import and kind plus a packed
id -> file row map, shown on each record's own history page (docs/decisions/0005)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kechuang.core.imports import services
from kechuang.core.imports.base import Importer
from kechuang.core.imports.models import ImportedRecords, id_ranges
from kechuang.core.imports.testing import upload, xlsx_bytes
from kechuang.core.models import AuditAction, AuditEntry, ImportJob, Role
from kechuang.core.tests.factories import UserFactory
from kechuang.enterprises.models import Enterprise
from kechuang.enterprises.tests.factories import make_uscc as _make_uscc

HEADERS = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_uscc(n: int) -> str:
    return _make_uscc(900_000 + n)


def imported(user, rows, name="新企业.xlsx") -> ImportJob:
    job = services.create_import_job(
        "enterprises", upload(name, xlsx_bytes(HEADERS, rows)), acting_user=user
    )
    services.dry_run_and_apply(job, acting_user=user)
    job.refresh_from_db()
    return job


def history(client, obj):
    url = reverse("core:object-audit", args=["enterprises", "enterprise", obj.pk])
    return client.get(url)


def test_id_ranges_and_row_lookup_with_gaps(officer, town):
    assert id_ranges([]) == []
    assert id_ranges([3, 4, 5, 9, 11, 12]) == [(3, 6), (9, 10), (11, 13)]
    job = ImportJob.objects.create(kind="enterprises", original_name="x.xlsx")
    entry = AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Enterprise),
        object_id="",
        object_repr="x",
        action=AuditAction.CREATE,
    )
    ct = ContentType.objects.get_for_model(Enterprise).pk
    pairs = [(12, 7), (3, 2), (9, 40), (4, 100_000), (11, 5), (5, 3)]
    mapping = ImportedRecords.build(job=job, content_type_id=ct, audit_entry=entry, pairs=pairs)
    mapping.save()
    mapping = ImportedRecords.objects.get(pk=mapping.pk)
    assert (mapping.count, mapping.min_id, mapping.max_id) == (6, 3, 12)
    assert mapping.ids() == [3, 4, 5, 9, 11, 12]
    assert {pk: mapping.row_of(pk) for pk, _row in pairs} == dict(pairs)
    assert [mapping.row_of(pk) for pk in (1, 2, 6, 8, 10, 13)] == [None] * 6
    assert list(ImportedRecords.objects.covering(ct, 10)) == [mapping]  # the span; row_of decides
    assert not ImportedRecords.objects.covering(ct, 13).exists()
    with pytest.raises(PermissionDenied):
        mapping.save()  # append-only, like the audit log
    with pytest.raises(PermissionDenied):
        ImportedRecords.objects.filter(pk=mapping.pk).update(count=1)
    with pytest.raises(PermissionDenied):
        ImportedRecords.objects.all().delete()


def test_creates_are_audited_once_per_import_with_the_row_of_each(officer, town, enterprise):
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 31)]
    rows.append([enterprise.uscc, enterprise.name, "莘庄镇", 777, None])
    before = AuditEntry.objects.count()
    job = imported(officer, rows)
    assert job.outcome["created"] == 30 and job.outcome["updated"] == 1

    ct = ContentType.objects.get_for_model(Enterprise)
    entries = AuditEntry.objects.filter(event=f"import:{job.pk}")
    creation = entries.get(action=AuditAction.CREATE)
    assert creation.via == "import" and creation.actor == officer
    assert creation.content_type == ct
    assert creation.changes["import_job"] == job.pk
    assert creation.changes["file"] == "新企业.xlsx"
    assert creation.changes["stored_file"] == job.file.name
    assert creation.changes["created"] == 30
    update = entries.get(action=AuditAction.UPDATE)
    assert update.object_id == str(enterprise.pk)
    assert update.changes["registered_capital"][1] == 7_770_000
    # One create summary, one update diff, the upload and apply events: no entry per new row.
    assert AuditEntry.objects.count() == before + 4

    mapping = ImportedRecords.objects.get(job=job, content_type=ct)
    assert mapping.audit_entry == creation
    assert mapping.count == 30
    by_uscc = {e.uscc: e.pk for e in Enterprise.objects.exclude(pk=enterprise.pk)}
    for n in range(1, 31):
        assert mapping.row_of(by_uscc[make_uscc(n)]) == n + 1  # the header is row 1
    assert mapping.row_of(enterprise.pk) is None

    # Re-applying the same file creates nothing and maps nothing again.
    services.apply_import(job, acting_user=officer)
    assert ImportedRecords.objects.count() == 1


def test_history_page_shows_created_by_import_with_file_and_row(
    officer, town, client_for, django_assert_max_num_queries
):
    rows = [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 6)]
    job = imported(officer, rows, name="闵行新企业.xlsx")
    third = Enterprise.objects.get(uscc=make_uscc(3))
    client = client_for(officer)
    with django_assert_max_num_queries(12):
        response = history(client, third)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"#{job.pk}" in text and "闵行新企业.xlsx" in text
    entry = next(e for e in response.context["entries"] if getattr(e, "import_source", None))
    assert entry.import_source == {"job": job.pk, "file": "闵行新企业.xlsx", "row": 4, "link": True}
    assert entry.actor_name == str(officer) and entry.via == "import"
    assert reverse("imports:detail", args=[job.pk]) in text

    # A later import that changes it adds a before -> after entry, newest first.
    rows[2][1] = "公司三改名"
    second = imported(officer, rows, name="更正.xlsx")
    response = history(client, third)
    entries = response.context["entries"]
    assert [e.action for e in entries] == [AuditAction.UPDATE, AuditAction.CREATE]
    assert entries[0].changes["name"] == ["公司3", "公司三改名"]
    assert entries[0].event == f"import:{second.pk}"
    assert entries[1].import_source["job"] == job.pk
    assert "公司三改名" in response.content.decode()


def test_history_of_a_record_not_created_by_import_has_no_import_line(
    officer, town, enterprise, client_for
):
    imported(officer, [[make_uscc(1), "公司1", "莘庄镇", 1, None]])
    response = history(client_for(officer), enterprise)
    assert response.status_code == 200
    assert not any(getattr(e, "import_source", None) for e in response.context["entries"])


def test_history_page_keeps_station_scoping(officer, town, other_town, client_for, town_officer):
    rows = [
        [make_uscc(1), "莘庄的公司", "莘庄镇", 1, None],
        [make_uscc(2), "别处的公司", other_town.name, 1, None],
    ]
    imported(officer, rows)
    mine = Enterprise.objects.get(uscc=make_uscc(1))
    theirs = Enterprise.objects.get(uscc=make_uscc(2))
    client = client_for(town_officer)
    assert history(client, mine).status_code == 200
    assert history(client, theirs).status_code == 404


def test_enterprise_user_sees_the_import_line_without_the_report_link(officer, town, client_for):
    job = imported(officer, [[make_uscc(1), "自己的公司", "莘庄镇", 1, None]])
    mine = Enterprise.objects.get(uscc=make_uscc(1))
    user = UserFactory(username="boss", role=Role.ENTERPRISE, enterprise=mine)
    response = history(client_for(user), mine)
    assert response.status_code == 200
    entry = next(e for e in response.context["entries"] if getattr(e, "import_source", None))
    assert entry.import_source["row"] == 2 and not entry.import_source["link"]
    assert reverse("imports:detail", args=[job.pk]) not in response.content.decode()


def test_failed_apply_leaves_no_creation_audit(officer, town, monkeypatch):
    def explode(self, written, *, job=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Importer, "after_write", explode)
    with pytest.raises(RuntimeError):
        imported(officer, [[make_uscc(n), f"公司{n}", "莘庄镇", n, None] for n in range(1, 4)])
    assert Enterprise.objects.count() == 0
    assert not ImportedRecords.objects.exists()
    assert not AuditEntry.objects.filter(via="import").exists()
