"""Changes through the UI and the API each leave a correct audit entry (before → after)."""

import pytest
from django.urls import reverse

from kechuang.core.models import AuditEntry
from kechuang.enterprises.models import AnnualReport, Qualification

pytestmark = pytest.mark.django_db


def _entries(obj):
    return AuditEntry.objects.for_object(obj).order_by("at", "id")


def test_ui_edit_writes_diff(client_for, town_officer, enterprise, town):
    data = {
        "uscc": enterprise.uscc, "name": "上海莘庄智能装备股份有限公司", "jurisdiction": town.pk,
        "listing_status": "unlisted", "legal_rep": "王强",
    }  # fmt: skip
    response = client_for(town_officer).post(
        reverse("enterprises:edit", args=[enterprise.pk]), data
    )
    assert response.status_code == 302, response.content
    entry = _entries(enterprise).get()
    assert entry.action == "update"
    assert entry.via == "ui"
    assert entry.actor == town_officer
    assert entry.changes["name"] == ["上海莘庄智能装备有限公司", "上海莘庄智能装备股份有限公司"]
    assert entry.changes["legal_rep"] == ["", "王强"]
    assert "data_changed_at" not in entry.changes


def test_api_edit_writes_diff(api_for, officer, enterprise):
    response = api_for(officer).patch(
        f"/api/enterprises/{enterprise.pk}/", {"contact_name": "李雷"}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = _entries(enterprise).get()
    assert (entry.action, entry.via, entry.actor) == ("update", "api", officer)
    assert entry.changes == {"contact_name": ["", "李雷"]}


def test_ui_add_qualification_audited_and_recomputes_ladder(client_for, town_officer, enterprise):
    url = reverse("enterprises:qualification-add", args=[enterprise.pk])
    hte = Qualification._meta.get_field("type").related_model.objects.get(code="HTE")
    response = client_for(town_officer).post(
        url, {"type": hte.pk, "issued_on": "2025-12-01", "certificate_no": "GR202531000001"}
    )
    assert response.status_code == 302
    q = Qualification.objects.get()
    assert q.expires_on.isoformat() == "2028-11-30"
    entry = _entries(q).get()
    assert entry.action == "create" and entry.changes["issued_on"] == [None, "2025-12-01"]
    enterprise.refresh_from_db()
    assert enterprise.ladder_stage == "hte"
    assert enterprise.ladder_changes.get().to_stage == "hte"
    assert _entries(enterprise).filter(event="ladder_stage_changed").exists()


def test_enterprise_filing_is_an_event_and_confirmation_too(
    client_for, enterprise_user, town_officer, enterprise
):
    url = reverse("enterprises:report-edit", args=[enterprise.pk])
    response = client_for(enterprise_user).post(
        url, {"year": 2025, "revenue": "2,500", "rd_expense": "150", "staff": "80"}
    )
    assert response.status_code == 302
    report = AnnualReport.objects.get()
    assert (report.status, report.source) == ("submitted", "enterprise")
    assert report.revenue == 25_000_000 and report.rd_expense == 1_500_000
    confirm = reverse("enterprises:report-confirm", args=[report.pk])
    assert client_for(enterprise_user).post(confirm).status_code == 403
    assert client_for(town_officer).post(confirm).status_code == 302
    report.refresh_from_db()
    assert report.status == "confirmed"
    events = list(_entries(report).values_list("action", "event"))
    assert events == [("create", ""), ("event", "report_submitted"), ("event", "report_confirmed")]
    confirmed = _entries(report).get(event="report_confirmed")
    assert confirmed.changes == {
        "transition": "confirm", "from": "submitted", "to": "confirmed", "year": 2025
    }  # fmt: skip
    assert confirmed.actor == town_officer


def test_enterprise_cannot_overwrite_confirmed_report(client_for, enterprise_user, enterprise):
    from kechuang.enterprises.tests.factories import AnnualReportFactory

    AnnualReportFactory(enterprise=enterprise, year=2025, status="confirmed")
    url = reverse("enterprises:report-edit", args=[enterprise.pk])
    response = client_for(enterprise_user).post(url, {"year": 2025, "revenue": "1"})
    # The workflow refuses re-filing a confirmed report: a message on the form, not a 403 page.
    assert response.status_code == 200
    assert "2025 年报已确认，如需更正请联系所在服务站。" in response.content.decode()
    assert AnnualReport.objects.get().revenue == 30_000_000
