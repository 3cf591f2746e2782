"""Policy visibility has one definition, `Policy.objects.visible_to`, and every interface obeys it."""

import datetime as dt

import pytest
from django.urls import reverse

from kechuang.core.services import system_actor
from kechuang.enterprises.tests.factories import AnnualReportFactory
from kechuang.policies import services
from kechuang.policies.models import (
    Policy,
    PolicyAttachment,
    PolicyItem,
    PolicyStatus,
    PushNotice,
)
from kechuang.policies.tests.factories import (
    PolicyAttachmentFactory,
    PolicyFactory,
    PolicyItemFactory,
)
from kechuang.rules import services as rule_services
from kechuang.rules.evaluation import run_snapshot

pytestmark = pytest.mark.django_db

SECRET = "draft_secret_threshold"


@pytest.fixture
def draft_item(library, officer, enterprise):
    """An item of a draft policy whose rule (with its threshold) the public must not read."""
    rule = rule_services.create_rule(
        acting_user=officer, code=SECRET, name="草稿门槛规则", publish=True,
        expression="# [rev] 上年营收不低于 7777 万元\nrevenue >= 7777万",
        effective_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    AnnualReportFactory(enterprise=enterprise, year=dt.date.today().year - 1, revenue=10**9)
    item = PolicyItemFactory(policy=PolicyFactory(title="未发布的草稿政策"), rule=rule)
    run_snapshot(on=dt.date.today(), acting_user=system_actor("rules.evaluate"))
    return item


def test_station_staff_cannot_list_export_or_push_a_draft_policys_item(
    draft_item, client_for, town_officer, officer
):
    client = client_for(town_officer)
    assert client.get(reverse("policies:item-eligible", args=[draft_item.pk])).status_code == 404
    export = client.get(reverse("policies:item-export", args=[draft_item.pk]))
    assert export.status_code == 404
    push = client.post(reverse("policies:item-push", args=[draft_item.pk]), {"title": "x"})
    assert push.status_code == 404
    assert not PushNotice.objects.exists()
    # Commission staff still work on drafts.
    page = client_for(officer).get(reverse("policies:item-eligible", args=[draft_item.pk]))
    assert page.status_code == 200


def test_push_service_refuses_a_draft_item_for_station_staff(draft_item, town_officer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.push_notice(draft_item, acting_user=town_officer)


def test_enterprise_user_cannot_read_a_draft_policys_rule_through_explain(
    draft_item, client_for, api_for, enterprise_user
):
    ent, rule = enterprise_user.enterprise_id, draft_item.rule
    client = client_for(enterprise_user)
    assert client.get(reverse("rules:explain", args=[ent, rule.pk])).status_code == 404
    verdicts = client.get(reverse("rules:enterprise", args=[ent])).content.decode()
    assert "草稿门槛规则" not in verdicts and "7777" not in verdicts
    api = api_for(enterprise_user)
    assert api.get(f"/api/explain/{ent}/?rule={rule.pk}").status_code == 404
    assert api.get(f"/api/explain/{ent}/?rule={SECRET}").status_code == 404
    body = api.get("/api/verdicts/").content.decode()
    assert SECRET not in body
    # Once the policy is published, the same rule explains.
    Policy.objects.filter(pk=draft_item.policy_id).update(status=PolicyStatus.PUBLISHED)
    page = client.get(reverse("rules:explain", args=[ent, rule.pk]))
    assert page.status_code == 200 and "7777" in page.content.decode()
    assert api.get(f"/api/explain/{ent}/?rule={SECRET}").status_code == 200
    assert SECRET in api.get("/api/verdicts/").content.decode()


@pytest.mark.parametrize("who", ["anonymous", "enterprise", "station", "commission"])
def test_pages_api_and_querysets_agree_on_which_policies_are_visible(
    db, who, client, api_for, enterprise_user, town_officer, officer
):
    today = dt.date.today()
    policies = [
        PolicyFactory(title="草稿政策甲"),
        PolicyFactory(title="在效政策乙", status=PolicyStatus.PUBLISHED),
        PolicyFactory(
            title="未生效政策丙", status=PolicyStatus.PUBLISHED, valid_from=today + dt.timedelta(9)
        ),
        PolicyFactory(title="过期政策丁", status=PolicyStatus.EXPIRED),
    ]
    for p in policies:
        PolicyItemFactory(policy=p, title=f"{p.title}的条款")
    user = {"enterprise": enterprise_user, "station": town_officer, "commission": officer}.get(who)
    expected = set(Policy.objects.visible_to(user).values_list("title", flat=True))
    assert expected == ({p.title for p in policies} if who == "commission" else {"在效政策乙"})
    if user is not None:
        client.force_login(user)
        api = api_for(user)
    else:
        api = client
    listed = client.get(reverse("policies:list")).content.decode()
    api_titles = {p["title"] for p in api.get("/api/policies/").json()["results"]}
    api_items = {i["title"] for i in api.get("/api/policy-items/").json()["results"]}
    assert api_titles == expected
    assert api_items == {f"{t}的条款" for t in expected}
    for p in policies:
        shown = p.title in expected
        assert (p.title in listed) == shown, p.title
        code = client.get(reverse("policies:detail", args=[p.pk])).status_code
        assert code == (200 if shown else 404), p.title
        item = PolicyItem.objects.get(policy=p)
        code = client.get(reverse("policies:item", args=[item.pk])).status_code
        assert code == (200 if shown else 404), p.title


def test_attachment_follows_its_policy(db, enterprise_user, officer):
    draft = PolicyAttachmentFactory(policy=PolicyFactory())
    public = PolicyAttachmentFactory(policy=PolicyFactory(status=PolicyStatus.PUBLISHED))
    assert list(PolicyAttachment.objects.visible_to(enterprise_user)) == [public]
    assert set(PolicyAttachment.objects.visible_to(officer)) == {draft, public}
    assert not PolicyAttachment.objects.visible_to(enterprise_user, "change").exists()
