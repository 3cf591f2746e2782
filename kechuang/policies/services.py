"""Policy library operations, matching both ways, and push notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core.models import Jurisdiction, Notification, OutboxEmail, Role, User
from kechuang.core.permissions import check_visible, has_role
from kechuang.core.services import create_record, update_record
from kechuang.enterprises.models import Enterprise, enterprise_scope_q
from kechuang.policies.models import (
    Policy,
    PolicyAttachment,
    PolicyItem,
    PolicyStatus,
    PushNotice,
    PushRecipient,
)
from kechuang.policies.workflows import POLICY
from kechuang.rules import results
from kechuang.rules.evaluation import versions_in_force
from kechuang.rules.explaining import RuleExplanation, explain_versions
from kechuang.rules.models import RuleSnapshot


def _require_commission(user) -> None:
    if not has_role(user, Role.COMMISSION):
        raise PermissionDenied(_("Only commission staff may change policies."))


# ---------------------------------------------------------------------------
# Library writes
# ---------------------------------------------------------------------------


def save_policy(
    policy: Policy, changes: dict | None = None, *, acting_user, expected_version=None
) -> Policy:
    """Create (no pk) or update a policy; audited.

    A new policy starts as a draft; a status in `changes` (or set on a new policy) is taken
    as a step of `workflows.POLICY`, so publishing is always the audited "publish" step.
    A stale `expected_version` of an existing policy is refused (ConflictError).
    """
    _require_commission(acting_user)
    changes = dict(changes or {})
    target = changes.pop("status", None)
    with transaction.atomic():
        if policy.pk is None:
            for k, v in changes.items():
                setattr(policy, k, v)
            target = target or policy.status
            policy.status = PolicyStatus.DRAFT
            create_record(policy, acting_user=acting_user)
        else:
            update_record(
                policy, changes, acting_user=acting_user, expected_version=expected_version
            )
        if target and target != policy.status:
            POLICY.transition(policy, target, acting_user=acting_user)
    return policy


def change_policy_status(policy: Policy, step: str, *, acting_user) -> Policy:
    """Publish, withdraw, expire or reinstate a policy (a step name or target status)."""
    POLICY.transition(policy, step, acting_user=acting_user)
    return policy


def save_item(
    item: PolicyItem, changes: dict | None = None, *, acting_user, expected_version=None
) -> PolicyItem:
    """Create (no pk) or update a policy item; audited, stale versions refused."""
    _require_commission(acting_user)
    if item.pk is None:
        for k, v in (changes or {}).items():
            setattr(item, k, v)
        return create_record(item, acting_user=acting_user)
    return update_record(
        item, changes or {}, acting_user=acting_user, expected_version=expected_version
    )


def add_attachment(policy: Policy, *, title: str, file, acting_user) -> PolicyAttachment:
    _require_commission(acting_user)
    att = PolicyAttachment(policy=policy, title=title or getattr(file, "name", ""), file=file)
    return create_record(att, acting_user=acting_user)


def expire_policies(*, acting_user, today: dt.date | None = None) -> int:
    """Mark published policies past their end date as expired (audited, one entry each)."""
    _require_commission(acting_user)
    today = today or timezone.localdate()
    n = 0
    with transaction.atomic():
        for policy in Policy.objects.filter(status=PolicyStatus.PUBLISHED, valid_until__lt=today):
            POLICY.transition(policy, "expire", acting_user=acting_user)
            n += 1
    return n


# ---------------------------------------------------------------------------
# Matching: enterprise → items, item → enterprises
# ---------------------------------------------------------------------------


@dataclass
class ItemMatch:
    item: PolicyItem
    result: RuleExplanation


def matches_for_enterprise(
    enterprise: Enterprise, on: dt.date | None = None
) -> dict[str, list[ItemMatch]]:
    """Items an enterprise is eligible for, nearly meets (one clause short), or lacks data for.

    Computed live from the database (explain for every rule in force), so the page
    agrees with the explanation an enterprise opens next.
    """
    on = on or timezone.localdate()
    items = list(
        PolicyItem.objects.filter(rule__isnull=False)
        .filter(policy__in=Policy.objects.published_valid(on))
        .select_related("policy", "rule")
    )
    by_rule = {v.rule_id: v for v in versions_in_force(on)}
    versions = [by_rule[i.rule_id] for i in items if i.rule_id in by_rule]
    unique = list({v.pk: v for v in versions}.values())
    results = {r.version.rule_id: r for r in explain_versions(enterprise.pk, unique, on)}
    out: dict[str, list[ItemMatch]] = {"eligible": [], "near": [], "unknown": [], "other": []}
    for item in items:
        res = results.get(item.rule_id)
        if res is None or res.explanation is None:
            continue
        match = ItemMatch(item, res)
        if res.status in ("eligible", "pending_check"):
            out["eligible"].append(match)
        elif res.is_near_miss:
            out["near"].append(match)
        elif res.status == "unknown":
            out["unknown"].append(match)
        else:
            out["other"].append(match)
    return out


def eligible_enterprises(item: PolicyItem, user, snapshot: RuleSnapshot | None = None):
    """Enterprises eligible for an item in the latest snapshot, narrowed to the user's scope.

    The snapshot keeps each rule's eligible ids as one packed array; the queryset
    filters on that set (one parameter) inside the user's visible enterprises.
    """
    snapshot = snapshot or RuleSnapshot.latest()
    row = results.rule_row(snapshot, item.rule_id)
    if row is None or not row.eligible:
        return Enterprise.objects.none(), snapshot
    qs = Enterprise.objects.visible_to(user).filter(results.ids_q(row.ids()))
    return qs, snapshot


def eligible_by_town(item: PolicyItem, user, snapshot=None) -> list[dict]:
    """Counts per town/street of enterprises eligible for the item (one GROUP BY)."""
    qs, snapshot = eligible_enterprises(item, user, snapshot)
    return list(
        qs.values("jurisdiction_id", "jurisdiction__name")
        .annotate(n=Count("id"))
        .order_by("jurisdiction__path")
    )


def eligible_amounts(item: PolicyItem, ids, snapshot=None) -> dict[int, int | None]:
    """Amount per enterprise among `ids` (ids from a scoped query) eligible for the item."""
    snapshot = snapshot or RuleSnapshot.latest()
    return results.amounts_for(results.rule_row(snapshot, item.rule_id), ids)


def total_amount(item: PolicyItem, user, snapshot=None) -> int:
    """Total amount of the eligible enterprises the user may see."""
    snapshot = snapshot or RuleSnapshot.latest()
    row = results.rule_row(snapshot, item.rule_id)
    if row is None:
        return 0
    if enterprise_scope_q(user) is None:  # commission staff: the stored total
        return results.total_for(row)
    qs, _snapshot = eligible_enterprises(item, user, snapshot)
    return results.total_for(row, qs.values_list("id", flat=True))


# ---------------------------------------------------------------------------
# Push notices and the outbox
# ---------------------------------------------------------------------------


def push_notice(
    item: PolicyItem,
    *,
    acting_user,
    title: str = "",
    message: str = "",
    jurisdiction: Jurisdiction | None = None,
) -> PushNotice:
    """Notify the users of every eligible enterprise in scope, once per enterprise and item.

    In-app notifications and outbox e-mails are written after the transaction commits;
    enterprises already reached by an earlier push of the same item are skipped.
    """
    if not has_role(acting_user, Role.COMMISSION, Role.STATION):
        raise PermissionDenied(_("Only staff may push notices."))
    # Station staff push only items of policies they can read (published and in force).
    check_visible(item, acting_user, "view")
    qs, snapshot = eligible_enterprises(item, acting_user)
    if snapshot is None:
        raise ValidationError(_("No evaluation has been run yet: run one before pushing."))
    if jurisdiction is not None:
        qs = qs.filter(jurisdiction__path__startswith=jurisdiction.path)
    title = title or _("You may apply: %(item)s") % {"item": item.title}
    message = message or _(
        "According to the platform's data your enterprise appears to meet the conditions of "
        "“%(item)s” (%(policy)s). Please check the details and apply within the window."
    ) % {"item": item.title, "policy": item.policy.title}
    with transaction.atomic():
        already = PushRecipient.objects.filter(item=item).values("enterprise_id")
        ent_ids = list(qs.exclude(id__in=already).values_list("id", flat=True))
        push = PushNotice.objects.create(
            item=item,
            snapshot=snapshot,
            jurisdiction=jurisdiction,
            title=title[:200],
            message=message,
            created_by=acting_user,
            enterprises=len(ent_ids),
        )
        PushRecipient.objects.bulk_create(
            [PushRecipient(push=push, enterprise_id=e, item=item) for e in ent_ids],
            batch_size=2000,
        )
        users = (
            list(
                User.objects.filter(enterprise_id__in=ent_ids, role=Role.ENTERPRISE, is_active=True)
            )
            if ent_ids
            else []
        )
        link = reverse("policies:item", args=[item.pk])
        notes = [
            Notification(recipient=u, title=push.title, body=message, link=link, kind="policy_push")
            for u in users
        ]
        mails = [
            OutboxEmail(to=u.email, subject=push.title, body=message) for u in users if u.email
        ]
        push.notifications, push.emails = len(notes), len(mails)
        push.save(update_fields=["notifications", "emails"])
        audit.record_event(
            item,
            "policy_pushed",
            {
                "push": push.pk,
                "enterprises": len(ent_ids),
                "notifications": len(notes),
                "emails": len(mails),
            },
            actor=acting_user,
        )

        def deliver():
            Notification.objects.bulk_create(notes, batch_size=2000)
            OutboxEmail.objects.bulk_create(mails, batch_size=2000)

        transaction.on_commit(deliver)
    return push


def send_outbox(limit: int = 500, *, acting_user) -> dict[str, int]:
    """Deliver queued e-mails; each row gets sent_at, or the error so it can be retried."""
    _require_commission(acting_user)
    sent = failed = 0
    for mail in OutboxEmail.objects.filter(sent_at__isnull=True, error="").order_by("id")[:limit]:
        try:
            send_mail(mail.subject, mail.body, None, [mail.to])
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            OutboxEmail.objects.filter(pk=mail.pk).update(error=str(exc)[:1000])
            failed += 1
        else:
            OutboxEmail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
            sent += 1
    return {"sent": sent, "failed": failed}
