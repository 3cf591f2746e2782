"""Concurrent edits of one record: no lost update, and a stale edit is refused (409).

The race test needs real concurrent transactions, hence PostgreSQL (CI sets DATABASE_URL).
"""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kechuang.core.models import AuditAction, AuditEntry, Role
from kechuang.core.tests.factories import JurisdictionFactory, UserFactory
from kechuang.enterprises import services
from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
)

TRIES = 30

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent write transactions: SQLite runs one writer at a time and its "
    "shared-cache in-memory test database refuses a second writer instead of waiting; "
    "run with DATABASE_URL=postgres://… (CI does)",
)


def _client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def _patch_together(pk: int, bodies: list[tuple[APIClient, dict]]) -> list[int]:
    """PATCH the enterprise with every body at the same moment, one thread each."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def run(i, api, body):
        try:
            barrier.wait(timeout=10)
            statuses[i] = api.patch(f"/api/enterprises/{pk}/", body, format="json").status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, api, body)) for i, (api, body) in enumerate(bodies)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_of_different_fields_both_survive():
    town = JurisdictionFactory(code="310199105", name="莘庄镇")
    enterprise = EnterpriseFactory(jurisdiction=town, contact_name="", contact_phone="")
    alice = UserFactory(username="alice", role=Role.COMMISSION)
    bob = UserFactory(username="bob", role=Role.COMMISSION)
    api_a, api_b = _client(alice), _client(bob)
    lost = []
    for i in range(TRIES):
        name, phone = f"联系人{i}", f"1380000{i:04d}"
        statuses = _patch_together(
            enterprise.pk, [(api_a, {"contact_name": name}), (api_b, {"contact_phone": phone})]
        )
        assert statuses == [200, 200]
        row = Enterprise.objects.get(pk=enterprise.pk)
        if (row.contact_name, row.contact_phone) != (name, phone):
            lost.append(i)
            continue
        # The audit shows both diffs, each against the value the other did not touch.
        diffs = [
            e.changes
            for e in AuditEntry.objects.for_object(row).filter(action=AuditAction.UPDATE)[:2]
        ]
        assert sorted(k for d in diffs for k in d) == ["contact_name", "contact_phone"]
        assert {d.get("contact_name", [None, None])[1] for d in diffs} >= {name}
        assert {d.get("contact_phone", [None, None])[1] for d in diffs} >= {phone}
    assert lost == [], f"{len(lost)} of {TRIES} tries lost an update"


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_with_the_same_version_one_wins_one_conflicts():
    town = JurisdictionFactory(code="310199105", name="莘庄镇")
    enterprise = EnterpriseFactory(jurisdiction=town)
    alice = UserFactory(username="alice", role=Role.COMMISSION)
    bob = UserFactory(username="bob", role=Role.COMMISSION)
    version = Enterprise.objects.get(pk=enterprise.pk).row_version
    statuses = _patch_together(
        enterprise.pk,
        [
            (_client(alice), {"contact_name": "甲", "row_version": version}),
            (_client(bob), {"contact_phone": "13900000000", "row_version": version}),
        ],
    )
    assert sorted(statuses) == [200, 409]
    row = Enterprise.objects.get(pk=enterprise.pk)
    assert row.row_version == version + 1
    assert (row.contact_name == "甲") != (row.contact_phone == "13900000000")


# --- the same guarantees without threads (every backend) ---------------------------------


@pytest.mark.django_db
def test_saving_an_old_copy_keeps_the_other_fields(officer, enterprise):
    """Two edits each starting from a copy read before the other's save: nothing reverts,
    and the second audit entry shows only its own field."""
    first, second = (Enterprise.objects.get(pk=enterprise.pk) for _ in range(2))
    services.update_enterprise(first, {"contact_name": "张三"}, acting_user=officer)
    services.update_enterprise(second, {"contact_phone": "13800000000"}, acting_user=officer)
    row = Enterprise.objects.get(pk=enterprise.pk)
    assert (row.contact_name, row.contact_phone) == ("张三", "13800000000")
    assert row.row_version == enterprise.row_version + 2
    last = AuditEntry.objects.for_object(row).filter(action=AuditAction.UPDATE).first()
    assert set(last.changes) == {"contact_phone"}


@pytest.mark.django_db
def test_an_update_that_changes_nothing_keeps_the_version(officer, town):
    qualification = QualificationFactory(enterprise__jurisdiction=town, certificate_no="GR1")
    services.update_qualification(
        qualification, {"certificate_no": "GR1"}, acting_user=officer, expected_version=1
    )
    assert Qualification.objects.get(pk=qualification.pk).row_version == 1


@pytest.mark.django_db
def test_api_returns_the_version_and_refuses_a_stale_if_match(api_for, officer, enterprise):
    api = api_for(officer)
    got = api.get(f"/api/enterprises/{enterprise.pk}/")
    version = got.json()["row_version"]
    assert got["ETag"] == f'"{version}"'
    ok = api.patch(
        f"/api/enterprises/{enterprise.pk}/",
        {"contact_name": "李四"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["row_version"] == version + 1
    assert ok["ETag"] == f'"{version + 1}"'
    stale = api.patch(
        f"/api/enterprises/{enterprise.pk}/",
        {"contact_name": "王五"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"] == {"current_version": version + 1, "sent_version": version}
    assert Enterprise.objects.get(pk=enterprise.pk).contact_name == "李四"


@pytest.mark.django_db
def test_api_refuses_a_stale_row_version_in_the_body(api_for, officer, town):
    qualification = QualificationFactory(enterprise__jurisdiction=town, certificate_no="GR1")
    report = AnnualReportFactory(enterprise=qualification.enterprise, revenue=1)
    api = api_for(officer)
    services.update_qualification(qualification, {"certificate_no": "GR2"}, acting_user=officer)
    services.save_annual_report(report.enterprise, report.year, {"revenue": 2}, acting_user=officer)
    stale_q = api.patch(
        f"/api/qualifications/{qualification.pk}/",
        {"certificate_no": "GR3", "row_version": 1},
        format="json",
    )
    stale_r = api.patch(
        f"/api/annual-reports/{report.pk}/", {"revenue": 3, "row_version": 1}, format="json"
    )
    assert (stale_q.status_code, stale_r.status_code) == (409, 409)
    assert Qualification.objects.get(pk=qualification.pk).certificate_no == "GR2"
    assert AnnualReport.objects.get(pk=report.pk).revenue == 2
    fresh = api.patch(
        f"/api/annual-reports/{report.pk}/", {"revenue": 3, "row_version": 2}, format="json"
    )
    assert fresh.status_code == 200, fresh.content
    assert AnnualReport.objects.get(pk=report.pk).revenue == 3


@pytest.mark.django_db
def test_api_refuses_a_version_that_is_not_a_number(api_for, officer, enterprise):
    response = api_for(officer).patch(
        f"/api/enterprises/{enterprise.pk}/", {"name": "x"}, format="json", HTTP_IF_MATCH='"v2"'
    )
    assert response.status_code == 400
    assert "row_version" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_stale_form_shows_a_conflict_and_keeps_the_input(client_for, officer, enterprise):
    client = client_for(officer)
    url = reverse("enterprises:edit", args=[enterprise.pk])
    form = client.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "sectors"
    }
    assert data["row_version"] == enterprise.row_version
    services.update_enterprise(
        Enterprise.objects.get(pk=enterprise.pk), {"contact_name": "他人"}, acting_user=officer
    )
    data.update(contact_phone="13912345678", jurisdiction=enterprise.jurisdiction_id)
    with translation.override("zh-hans"):
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "此记录已被他人修改" in page
    assert "13912345678" in page  # the user's input is still in the form
    row = Enterprise.objects.get(pk=enterprise.pk)
    assert (row.contact_name, row.contact_phone) == ("他人", "")


@pytest.mark.django_db
def test_fresh_form_saves_and_raises_the_version(client_for, officer, enterprise):
    client = client_for(officer)
    url = reverse("enterprises:edit", args=[enterprise.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "sectors"}
    data.update(contact_phone="13912345678", jurisdiction=enterprise.jurisdiction_id)
    response = client.post(url, data)
    assert response.status_code == 302
    row = Enterprise.objects.get(pk=enterprise.pk)
    assert (row.contact_phone, row.row_version) == ("13912345678", enterprise.row_version + 1)
