"""Reading or changing data outside one's jurisdiction or enterprise is refused everywhere."""

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    VisitIssueFactory,
)

pytestmark = pytest.mark.django_db


def _export_usccs(response) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_town_officer_sees_only_own_town_in_list(
    client_for, town_officer, enterprise, other_enterprise
):
    response = client_for(town_officer).get(reverse("enterprises:list"))
    assert response.status_code == 200
    assert enterprise.name in response.text
    assert other_enterprise.name not in response.text


def test_town_officer_cannot_open_other_town_profile(client_for, other_town_officer, enterprise):
    response = client_for(other_town_officer).get(
        reverse("enterprises:detail", args=[enterprise.pk])
    )
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["other_enterprise_user", "outsider", "expert", "unit_user"])
def test_others_cannot_open_profile(request, client_for, enterprise, persona):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("enterprises:detail", args=[enterprise.pk]))
    assert response.status_code == 404


def test_enterprise_user_opens_own_profile(client_for, enterprise_user, enterprise):
    response = client_for(enterprise_user).get(reverse("enterprises:detail", args=[enterprise.pk]))
    assert response.status_code == 200
    assert enterprise.uscc in response.text


@pytest.mark.parametrize(
    "persona", ["enterprise_user", "other_enterprise_user", "outsider", "expert"]
)
def test_non_staff_cannot_open_list_or_export(request, client_for, persona, enterprise):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("enterprises:list")).status_code == 403
    assert client.get(reverse("enterprises:export")).status_code == 403
    assert client.get(reverse("enterprises:expiring-export")).status_code == 403


def test_town_officer_cannot_export_other_town(
    client_for, town_officer, enterprise, other_enterprise
):
    response = client_for(town_officer).get(reverse("enterprises:export"))
    assert response.status_code == 200
    assert _export_usccs(response) == [enterprise.uscc]
    # Asking explicitly for the other town does not widen the scope.
    response = client_for(town_officer).get(
        reverse("enterprises:export"), {"jurisdiction": other_enterprise.jurisdiction_id}
    )
    assert _export_usccs(response) == []


def test_town_officer_cannot_edit_other_town(client_for, other_town_officer, enterprise):
    client = client_for(other_town_officer)
    for name in ("edit", "qualification-add", "report-edit", "visit-add", "watch-add"):
        url = reverse(f"enterprises:{name}", args=[enterprise.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"name": "x"}).status_code == 404, name
    enterprise.refresh_from_db()
    assert enterprise.name == "上海莘庄智能装备有限公司"


def test_town_officer_cannot_move_enterprise_to_other_town(
    client_for, town_officer, enterprise, other_town
):
    data = {
        "uscc": enterprise.uscc, "name": enterprise.name, "jurisdiction": other_town.pk,
        "listing_status": "unlisted",
    }  # fmt: skip
    response = client_for(town_officer).post(
        reverse("enterprises:edit", args=[enterprise.pk]), data
    )
    assert response.status_code == 200  # the form refuses the other town
    enterprise.refresh_from_db()
    assert enterprise.jurisdiction_id != other_town.pk


def test_town_officer_cannot_follow_up_other_town_issue(client_for, other_town_officer, enterprise):
    issue = VisitIssueFactory(visit__enterprise=enterprise)
    url = reverse("enterprises:issue-edit", args=[issue.pk])
    response = client_for(other_town_officer).post(url, {"status": "closed"})
    assert response.status_code == 404
    issue.refresh_from_db()
    assert issue.status == "open"


def test_enterprise_user_cannot_file_for_other_enterprise(
    client_for, enterprise_user, other_enterprise
):
    url = reverse("enterprises:report-edit", args=[other_enterprise.pk])
    response = client_for(enterprise_user).post(url, {"year": 2025, "revenue": "100"})
    assert response.status_code == 404
    assert not AnnualReport.objects.exists()


# --- API ---------------------------------------------------------------------


def test_api_list_scoped_for_town_officer(api_for, town_officer, enterprise, other_enterprise):
    response = api_for(town_officer).get("/api/enterprises/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [enterprise.pk]


def test_api_filter_cannot_widen_scope(api_for, town_officer, enterprise, other_enterprise):
    response = api_for(town_officer).get(
        "/api/enterprises/", {"jurisdiction": other_enterprise.jurisdiction_id}
    )
    assert response.json()["count"] == 0


@pytest.mark.parametrize("persona", ["other_town_officer", "other_enterprise_user"])
def test_api_refuses_reading_and_changing_outside_scope(request, api_for, persona, enterprise):
    api = api_for(request.getfixturevalue(persona))
    q = QualificationFactory(enterprise=enterprise)
    report = AnnualReportFactory(enterprise=enterprise)
    assert api.get(f"/api/enterprises/{enterprise.pk}/").status_code == 404
    assert api.patch(f"/api/enterprises/{enterprise.pk}/", {"name": "x"}).status_code == 404
    assert api.get(f"/api/qualifications/{q.pk}/").status_code == 404
    assert api.get(f"/api/annual-reports/{report.pk}/").status_code == 404
    response = api.post(
        "/api/annual-reports/", {"enterprise": enterprise.pk, "year": 2020, "revenue": 1}
    )
    assert response.status_code in (400, 403)
    enterprise.refresh_from_db()
    assert enterprise.name != "x"
    assert not AnnualReport.objects.filter(year=2020).exists()


@pytest.mark.parametrize("persona", ["outsider", "expert", "unit_user"])
def test_api_refuses_other_roles(request, api_for, persona, enterprise):
    api = api_for(request.getfixturevalue(persona))
    for url in ("/api/enterprises/", "/api/qualifications/", "/api/annual-reports/",
                "/api/visits/", "/api/watch-lists/", "/api/visit-issues/"):  # fmt: skip
        assert api.get(url).status_code == 403, url


def test_enterprise_user_cannot_change_register_through_api(api_for, enterprise_user, enterprise):
    api = api_for(enterprise_user)
    assert api.get(f"/api/enterprises/{enterprise.pk}/").status_code == 200
    assert api.patch(f"/api/enterprises/{enterprise.pk}/", {"name": "改名"}).status_code == 403
    response = api.post(
        "/api/qualifications/",
        {"enterprise": enterprise.pk, "type": "HTE", "issued_on": "2025-01-01"},
    )
    assert response.status_code == 403
    assert not Qualification.objects.exists()


def test_station_cannot_create_enterprise_in_other_town(api_for, town_officer, other_town):
    from kechuang.enterprises.uscc import make_uscc

    response = api_for(town_officer).post(
        "/api/enterprises/",
        {"uscc": make_uscc(99), "name": "上海越界科技有限公司", "jurisdiction": other_town.pk},
    )
    # Refused by the service's location check: a field error naming the town / street.
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["jurisdiction"]
    assert not Enterprise.objects.filter(name="上海越界科技有限公司").exists()


def test_object_audit_refused_outside_scope(client_for, other_town_officer, enterprise):
    url = reverse("core:object-audit", args=["enterprises", "enterprise", enterprise.pk])
    assert client_for(other_town_officer).get(url).status_code == 404


def test_park_enterprise_visible_to_town_of_park(client_for, town_officer, park, other_town):
    # Registered in another town but located in our park: the park's town sees it.
    e = EnterpriseFactory(jurisdiction=other_town, park=park)
    response = client_for(town_officer).get(reverse("enterprises:detail", args=[e.pk]))
    assert response.status_code == 200


def test_station_cannot_move_their_enterprise_into_another_towns_park(
    api_for, client_for, town_officer, enterprise, other_town
):
    from kechuang.core.models import JurisdictionLevel
    from kechuang.core.tests.factories import JurisdictionFactory

    foreign_park = JurisdictionFactory(
        code="310199106P1", name="七宝园区", level=JurisdictionLevel.PARK, parent=other_town
    )
    response = api_for(town_officer).patch(
        f"/api/enterprises/{enterprise.pk}/", {"park": foreign_park.pk}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["details"]) == ["park"]
    enterprise.refresh_from_db()
    assert enterprise.park_id is None
    # Moving the whole enterprise out of the town is refused the same way.
    response = api_for(town_officer).patch(
        f"/api/enterprises/{enterprise.pk}/",
        {"jurisdiction": other_town.pk, "park": foreign_park.pk},
        format="json",
    )
    assert response.status_code == 400
    enterprise.refresh_from_db()
    assert enterprise.jurisdiction_id != other_town.pk


def test_location_check_lives_in_the_service(town_officer, enterprise, other_town, park):
    from django.core.exceptions import ValidationError

    from kechuang.core.models import JurisdictionLevel
    from kechuang.core.tests.factories import JurisdictionFactory
    from kechuang.enterprises import services

    foreign_park = JurisdictionFactory(
        code="310199106P2", name="七宝二园", level=JurisdictionLevel.PARK, parent=other_town
    )
    with pytest.raises(ValidationError) as exc:
        services.update_enterprise(enterprise, {"park": foreign_park}, acting_user=town_officer)
    assert set(exc.value.message_dict) == {"park"}
    with translation.override("zh-hans"):
        message = services.location_errors(enterprise.jurisdiction, foreign_park, scope_path=None)
    assert message["park"].startswith("所属园区")
    services.update_enterprise(enterprise, {"park": park}, acting_user=town_officer)
    assert Enterprise.objects.get(pk=enterprise.pk).park_id == park.pk
