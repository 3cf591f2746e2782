"""Plans and policies refuse an edit made on an old copy (form: message; API: 409)."""

import pytest
from django.urls import reverse

from kechuang.plans import services
from kechuang.plans.models import Indicator, Plan, normalise_name
from kechuang.plans.tests.factories import IndicatorFactory, PlanFactory
from kechuang.policies import services as policy_services
from kechuang.policies.models import Policy

pytestmark = pytest.mark.django_db


def _form_data(form) -> dict:
    return {k: v for k, v in form.initial.items() if v is not None}


def test_stale_plan_form_is_refused_and_keeps_the_input(client_for, officer):
    plan = PlanFactory(issuer="区科委")
    client = client_for(officer)
    url = reverse("plans:edit", args=[plan.pk])
    data = _form_data(client.get(url).context["form"])
    services.update_plan(Plan.objects.get(pk=plan.pk), {"issuer": "区政府"}, acting_user=officer)
    data["doc_number"] = "申府〔2025〕9号"
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "此记录已被他人修改" in response.content.decode()
    assert "申府〔2025〕9号" in response.content.decode()
    row = Plan.objects.get(pk=plan.pk)
    assert (row.issuer, row.doc_number) == ("区政府", "")


def test_indicator_api_refuses_a_stale_version(api_for, officer):
    indicator = IndicatorFactory()
    api = api_for(officer)
    url = f"/api/plan-indicators/{indicator.pk}/"
    version = api.get(url).json()["row_version"]
    fresh = api.patch(url, {"target_value": 120}, format="json", HTTP_IF_MATCH=f'"{version}"')
    assert fresh.status_code == 200, fresh.content
    stale = api.patch(url, {"target_value": 130}, format="json", HTTP_IF_MATCH=f'"{version}"')
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert Indicator.objects.get(pk=indicator.pk).target_value == 120


def test_renaming_an_indicator_keeps_its_match_key(officer):
    """Only changed fields are saved; the key derived from the name is saved with it."""
    indicator = IndicatorFactory(name="高新技术企业数")
    services.update_indicator(indicator, {"name": "科技小巨人企业数"}, acting_user=officer)
    assert Indicator.objects.get(pk=indicator.pk).match_key == normalise_name("科技小巨人企业数")


def test_stale_policy_form_is_refused(client_for, officer):
    policy = policy_services.save_policy(
        Policy(), {"title": "测试政策", "issuer": "区科委"}, acting_user=officer
    )
    client = client_for(officer)
    url = reverse("policies:edit", args=[policy.pk])
    data = _form_data(client.get(url).context["form"])
    policy_services.save_policy(
        Policy.objects.get(pk=policy.pk), {"summary": "他人写的摘要"}, acting_user=officer
    )
    data["doc_no"] = "申科委〔2025〕3号"
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "此记录已被他人修改" in response.content.decode()
    row = Policy.objects.get(pk=policy.pk)
    assert (row.summary, row.doc_no) == ("他人写的摘要", "")
