"""Visits and follow-ups, watch-lists, qualification types: the write paths end to end."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.core.models import AuditEntry
from kechuang.enterprises.models import (
    QualificationType,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)
from kechuang.enterprises.tests.factories import VisitIssueFactory

pytestmark = pytest.mark.django_db


def test_record_visit_with_issues_and_follow_up(client_for, town_officer, enterprise):
    client = client_for(town_officer)
    data = {
        "visited_on": "2026-03-01", "participants": "科技服务站", "summary": "走访",
        "issues-TOTAL_FORMS": 3, "issues-INITIAL_FORMS": 0,
        "issues-0-description": "研发人员落户", "issues-0-due_on": "2026-04-01",
        "issues-1-description": "", "issues-2-description": "",
    }  # fmt: skip
    response = client.post(reverse("enterprises:visit-add", args=[enterprise.pk]), data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.station == town_officer.jurisdiction and visit.staff == town_officer
    issue = VisitIssue.objects.get()
    assert issue.enterprise == enterprise and issue.status == "open"
    response = client.post(
        reverse("enterprises:issue-edit", args=[issue.pk]),
        {"status": "closed", "due_on": "2026-04-01", "follow_up": "已办结"},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "closed" and issue.closed_on == timezone.localdate()
    entry = AuditEntry.objects.for_object(issue).filter(action="update").get()
    assert entry.changes["status"] == ["open", "closed"]


def test_overdue_list(client_for, town_officer, enterprise, other_enterprise):
    today = timezone.localdate()
    late = VisitIssueFactory(
        visit__enterprise=enterprise, due_on=today - datetime.timedelta(days=1)
    )
    VisitIssueFactory(visit__enterprise=enterprise, due_on=today)  # due today: not yet overdue
    VisitIssueFactory(
        visit__enterprise=enterprise, due_on=today - datetime.timedelta(days=5), status="closed"
    )
    VisitIssueFactory(visit__enterprise=other_enterprise, due_on=today - datetime.timedelta(days=9))
    response = client_for(town_officer).get(reverse("enterprises:issues"), {"overdue": "1"})
    assert list(response.context["page"].object_list) == [late]


def test_watch_list_add_remove_keeps_history(client_for, town_officer, enterprise):
    ipo = WatchList.objects.get(code="IPO_RESERVE")
    client = client_for(town_officer)
    url = reverse("enterprises:watch-add", args=[enterprise.pk])
    assert client.post(url, {"watch_list": ipo.pk, "reason": "股改"}).status_code == 302
    # Adding twice is refused with a message, not a 500.
    response = client.post(url, {"watch_list": ipo.pk})
    assert response.status_code == 200 and WatchListMember.objects.count() == 1
    member = WatchListMember.objects.get()
    response = client.post(
        reverse("enterprises:watch-remove", args=[member.pk]), {"reason": "已上市"}
    )
    assert response.status_code == 302
    assert client.post(url, {"watch_list": ipo.pk, "reason": "再次入库"}).status_code == 302
    assert WatchListMember.objects.count() == 2
    assert WatchListMember.objects.current().get().reason == "再次入库"


def test_qualification_types_configured_by_commission_only(client_for, officer, town_officer):
    data = {
        "code": "PATENT_DEMO",
        "name": "专利示范企业",
        "level": "city",
        "validity_years": 3,
        "is_active": "on",
        "sort_order": 80,
    }
    url = reverse("enterprises:qualification-type-add")
    assert client_for(town_officer).post(url, data).status_code == 403
    assert client_for(officer).post(url, data).status_code == 302
    qt = QualificationType.objects.get(code="PATENT_DEMO")
    assert AuditEntry.objects.for_object(qt).get().action == "create"


def test_api_visit_and_issue_update(api_for, town_officer, enterprise):
    api = api_for(town_officer)
    response = api.post(
        "/api/visits/",
        {"enterprise": enterprise.pk, "visited_on": "2026-02-01",
         "issues": [{"description": "融资对接", "due_on": "2026-02-20"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    issue_id = response.json()["issues"][0]["id"]
    response = api.patch(f"/api/visit-issues/{issue_id}/", {"status": "in_progress"}, format="json")
    assert response.status_code == 200
    assert api.get("/api/visit-issues/", {"overdue": "true"}).json()["count"] >= 0


def test_api_enterprise_files_report_and_station_confirms(
    api_for, enterprise_user, town_officer, enterprise
):
    response = api_for(enterprise_user).post(
        "/api/annual-reports/",
        {"enterprise": enterprise.pk, "year": 2025, "revenue": 12345678},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    rid = response.json()["id"]
    assert api_for(enterprise_user).post(f"/api/annual-reports/{rid}/confirm/").status_code == 403
    response = api_for(town_officer).post(f"/api/annual-reports/{rid}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"


def test_ladder_and_settings_pages_render(client_for, officer, enterprise):
    client = client_for(officer)
    for name in ("ladder", "qualification-types", "watch-lists", "issues", "expiring", "create"):
        assert client.get(reverse(f"enterprises:{name}")).status_code == 200, name
    assert client.get(reverse("enterprises:ladder-criteria", args=["rising"])).status_code == 200
    ipo = WatchList.objects.get(code="IPO_RESERVE")
    assert client.get(reverse("enterprises:watch-list", args=[ipo.pk])).status_code == 200
