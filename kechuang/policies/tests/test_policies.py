"""Policy library: public pages, matching both ways, export, push notices."""

import datetime as dt

import pytest
from django.urls import reverse

from kechuang.core.models import Notification, OutboxEmail, Role
from kechuang.core.services import system_actor
from kechuang.core.tests.factories import UserFactory
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    QualificationTypeFactory,
)
from kechuang.policies import services
from kechuang.policies.models import Policy, PolicyItem, PolicyStatus, PushNotice
from kechuang.rules import services as rule_services
from kechuang.rules.evaluation import run_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(library, officer):
    p = services.save_policy(
        Policy(), {"title": "申江区创新若干措施（示例）", "issuer": "区科委", "doc_no": "申科委〔2024〕1号",
                   "valid_from": dt.date(2024, 1, 1), "status": PolicyStatus.PUBLISHED}, acting_user=officer,
    )  # fmt: skip
    rule = rule_services.create_rule(
        acting_user=officer, code="rev_award", name="营收奖励", publish=True,
        expression="# [rev] 上年营收不低于 1000 万元\nrevenue >= 1000万\n# [rd] 研发费用占比不低于 3%\nrd_ratio >= 3%",
        amount_formula="min(rd_expense * 10%, 50万)", manual_conditions=["无重大安全、质量事故"],
        effective_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    services.save_item(
        PolicyItem(), {"policy": p, "title": "营收奖励项目", "rule": rule}, acting_user=officer
    )
    return p


def _ent(town, revenue, rd):
    e = EnterpriseFactory(jurisdiction=town)
    AnnualReportFactory(enterprise=e, year=dt.date.today().year - 1, revenue=revenue, rd_expense=rd)
    return e


def test_public_pages_show_published_policies_and_hide_drafts(policy, client, officer):
    draft = services.save_policy(
        Policy(), {"title": "草稿政策", "issuer": "区科委"}, acting_user=officer
    )
    page = client.get(reverse("policies:list"))
    assert page.status_code == 200 and policy.title in page.content.decode()
    assert "草稿政策" not in page.content.decode()
    assert client.get(reverse("policies:detail", args=[policy.pk])).status_code == 200
    assert client.get(reverse("policies:detail", args=[draft.pk])).status_code == 404
    assert client.get(reverse("policies:list") + "?q=1号").content.decode().count(policy.title) == 1
    api = client.get("/api/policies/").json()
    assert [p["title"] for p in api["results"]] == [policy.title]
    item = policy.items.get()
    assert client.get(reverse("policies:item", args=[item.pk])).status_code == 200


def test_expired_policy_is_not_listed_publicly(policy, client, officer):
    services.save_policy(policy, {"valid_until": dt.date(2024, 12, 31)}, acting_user=officer)
    assert policy.title not in client.get(reverse("policies:list")).content.decode()


def test_enterprise_sees_eligible_near_miss_and_amount(policy, town, client_for):
    e = _ent(town, 20_000_000, 1_000_000)  # eligible: 5%
    near = _ent(town, 20_000_000, 400_000)  # 2%: only the rd clause fails
    u1 = UserFactory(username="e1", role=Role.ENTERPRISE, enterprise=e)
    u2 = UserFactory(username="e2", role=Role.ENTERPRISE, enterprise=near)
    groups = services.matches_for_enterprise(e)
    assert [m.item.title for m in groups["eligible"]] == ["营收奖励项目"]
    assert groups["eligible"][0].result.amount_value == 100_000
    assert groups["eligible"][0].result.status == "pending_check"
    groups = services.matches_for_enterprise(near)
    assert [m.item.title for m in groups["near"]] == ["营收奖励项目"]
    assert "3%" in groups["near"][0].result.failing[0].text
    page = client_for(u1).get(reverse("policies:mine"))
    assert page.status_code == 200 and "营收奖励项目" in page.content.decode()
    assert client_for(u2).get(reverse("policies:mine")).status_code == 200


def test_staff_see_eligible_by_town_scoped_and_export(
    policy, town, other_town, client_for, officer, town_officer, django_assert_max_num_queries
):
    for _ in range(3):
        _ent(town, 20_000_000, 1_000_000)
    for _ in range(2):
        _ent(other_town, 20_000_000, 1_000_000)
    _ent(town, 1, 0)
    run_snapshot(acting_user=system_actor("rules.evaluate"))
    item = policy.items.get()
    counts = {r["jurisdiction__name"]: r["n"] for r in services.eligible_by_town(item, officer)}
    assert counts == {town.name: 3, other_town.name: 2}
    assert {r["n"] for r in services.eligible_by_town(item, town_officer)} == {3}
    client = client_for(town_officer)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("policies:item-eligible", args=[item.pk]))
    assert page.status_code == 200
    export = client.get(reverse("policies:item-export", args=[item.pk]))
    data = b"".join(export.streaming_content)
    assert export.status_code == 200 and data[:2] == b"PK"
    import io

    from openpyxl import load_workbook  # noqa: PLC0415 - optional reader for the check

    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 3 and all(r[2] == town.name for r in rows[1:])


def test_push_creates_notifications_and_outbox_once(
    policy, town, officer, django_capture_on_commit_callbacks
):
    ents = [_ent(town, 20_000_000, 1_000_000) for _ in range(3)]
    for i, e in enumerate(ents):
        UserFactory(
            username=f"pu{i}", role=Role.ENTERPRISE, enterprise=e, email=f"u{i}@example.com"
        )
    run_snapshot(acting_user=system_actor("rules.evaluate"))
    item = policy.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        push = services.push_notice(item, acting_user=officer)
    assert (push.enterprises, push.notifications, push.emails) == (3, 3, 3)
    assert Notification.objects.filter(kind="policy_push").count() == 3
    assert OutboxEmail.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        again = services.push_notice(item, acting_user=officer)
    assert again.enterprises == 0 and Notification.objects.filter(kind="policy_push").count() == 3
    assert PushNotice.objects.count() == 2
    result = services.send_outbox(acting_user=system_actor("policies.outbox"))
    assert result == {"sent": 3, "failed": 0}
    assert not OutboxEmail.objects.filter(sent_at__isnull=True).exists()


def test_outsiders_cannot_push_or_see_eligible_lists(policy, client_for, enterprise_user, outsider):
    item = policy.items.get()
    for user in (enterprise_user, outsider):
        c = client_for(user)
        assert c.get(reverse("policies:item-eligible", args=[item.pk])).status_code == 403
        assert c.post(reverse("policies:item-push", args=[item.pk])).status_code == 403


def test_staff_edit_pages(policy, client_for, officer):
    c = client_for(officer)
    item = policy.items.get()
    for url in [reverse("policies:create"), reverse("policies:edit", args=[policy.pk]),
                reverse("policies:item-create", args=[policy.pk]), reverse("policies:item-edit", args=[item.pk]),
                reverse("policies:attach", args=[policy.pk])]:  # fmt: skip
        assert c.get(url).status_code == 200, url
    resp = c.post(
        reverse("policies:edit", args=[policy.pk]),
        {"title": "新标题", "issuer": "区科委", "status": "published"},
    )
    assert resp.status_code == 302
    policy.refresh_from_db()
    assert policy.title == "新标题"
    from kechuang.core.models import AuditEntry

    assert AuditEntry.objects.for_object(policy).filter(action="update").exists()


def test_qualification_rule_matching(library, officer, town):
    QualificationTypeFactory(code="HTE", name="高新技术企业")
    e = EnterpriseFactory(jurisdiction=town)
    QualificationFactory(
        enterprise=e,
        issued_on=dt.date.today() - dt.timedelta(days=10),
        expires_on=dt.date.today() + dt.timedelta(days=100),
    )
    rule = rule_services.create_rule(
        acting_user=officer,
        code="q",
        name="持高企",
        expression='has_qualification("高新技术企业")',
        publish=True,
        effective_from=dt.date(2020, 1, 1),
    )
    p = services.save_policy(
        Policy(),
        {"title": "T", "issuer": "I", "status": PolicyStatus.PUBLISHED},
        acting_user=officer,
    )
    services.save_item(
        PolicyItem(), {"policy": p, "title": "高企项目", "rule": rule}, acting_user=officer
    )
    assert [m.item.title for m in services.matches_for_enterprise(e)["eligible"]] == ["高企项目"]


def test_publication_steps_are_buttons_and_audited_events(officer, client_for):
    from kechuang.core.models import AuditEntry

    draft = services.save_policy(Policy(), {"title": "草稿政策", "issuer": "区科委"},
                                 acting_user=officer)  # fmt: skip
    client = client_for(officer)
    page = client.get(reverse("policies:detail", args=[draft.pk]))
    assert [t.name for t in page.context["transitions"]] == ["publish"]
    assert (
        "status" not in client.get(reverse("policies:edit", args=[draft.pk])).context["form"].fields
    )
    url = reverse("policies:status", args=[draft.pk])
    assert client.post(url, {"transition": "publish"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.PUBLISHED
    # A step that does not exist from "published" is a message, not an error page.
    response = client.post(url, {"transition": "reinstate"}, follow=True)
    assert response.status_code == 200
    assert "政策当前为“已发布”，不能“恢复有效”。" in [str(m) for m in response.context["messages"]]
    page = client.get(reverse("policies:detail", args=[draft.pk]))
    assert [t.name for t in page.context["transitions"]] == ["withdraw", "expire"]
    events = AuditEntry.objects.for_object(draft).filter(event__gt="")
    assert list(events.values_list("event", flat=True)) == ["policy_published"]


def test_expiry_run_is_the_system_taking_the_expire_step(officer):
    from kechuang.core.models import AuditEntry

    p = services.save_policy(
        Policy(), {"title": "旧政策", "issuer": "区科委", "valid_until": dt.date(2020, 12, 31),
                   "status": PolicyStatus.PUBLISHED}, acting_user=officer,
    )  # fmt: skip
    from kechuang.core.services import system_actor

    system = system_actor("policies.expire")
    assert services.expire_policies(acting_user=system) == 1
    p.refresh_from_db()
    assert p.status == PolicyStatus.EXPIRED
    entry = AuditEntry.objects.for_object(p).get(event="policy_expired")
    assert entry.actor == system and entry.changes["from"] == "published"


def test_other_staff_cannot_publish(officer, town_officer):
    from kechuang.core.workflow import TransitionNotAllowed

    draft = services.save_policy(
        Policy(), {"title": "草稿", "issuer": "区科委"}, acting_user=officer
    )
    with pytest.raises(TransitionNotAllowed):
        services.change_policy_status(draft, "publish", acting_user=town_officer)
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.DRAFT
