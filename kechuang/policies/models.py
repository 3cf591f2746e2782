"""Policy library: documents, their items (政策条款/申报项目), attachments and push notices."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import BusinessModel, Jurisdiction, ScopedQuerySet
from kechuang.core.validators import date_validators


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")


class PolicyQuerySet(ScopedQuerySet):
    def published_valid(self, day: datetime.date | None = None) -> PolicyQuerySet:
        """Published and in force on `day`: what everyone but commission staff sees."""
        day = day or timezone.localdate()
        return self.filter(
            Q(status=PolicyStatus.PUBLISHED),
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        )

    def visible_to(self, user, action: str = "view") -> PolicyQuerySet:
        """The one definition of policy visibility (pages, API, explain, push, exports).

        Commission staff see and change every policy; everyone else, anonymous
        visitors included, reads the policies published and in force today.
        """
        if user is not None and user.is_authenticated and user.is_active and user.is_commission:
            return self
        if action != "view":
            return self.none()
        return self.published_valid()


class PolicyPartQuerySet(ScopedQuerySet):
    """Items and attachments: visible exactly when their policy is."""

    def visible_to(self, user, action: str = "view") -> PolicyPartQuerySet:
        if user is not None and user.is_authenticated and user.is_active and user.is_commission:
            return self
        return self.filter(policy__in=Policy.objects.visible_to(user, action))


class Policy(BusinessModel):
    """A policy document (政策文件) with its 文号 and period of validity."""

    title = models.CharField(_("title"), max_length=255)
    issuer = models.CharField(_("issuer"), max_length=200)
    doc_no = models.CharField(_("document no."), max_length=100, blank=True)
    published_on = models.DateField(
        _("published on"), null=True, blank=True, validators=date_validators()
    )
    valid_from = models.DateField(
        _("valid from"), null=True, blank=True, validators=date_validators()
    )
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, validators=date_validators()
    )
    summary = models.TextField(_("summary"), blank=True)
    text = models.TextField(_("full text"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")

    def __str__(self) -> str:
        return self.title

    def is_in_force(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return (
            self.status == PolicyStatus.PUBLISHED
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or self.valid_until >= day)
        )


class PolicyAttachment(BusinessModel):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="policies/%Y/")

    objects = PolicyPartQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")

    def __str__(self) -> str:
        return self.title


class PolicyItem(BusinessModel):
    """One clause / programme of a policy: who is eligible (a Rule), what they get, when to apply.

    The amount formula is stored on the rule's version so that an old verdict's amount
    always matches the text that produced it.
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(_("title"), max_length=255)
    clause_text = models.TextField(_("clause text"), blank=True)
    rule = models.ForeignKey(
        "rules.Rule",
        verbose_name=_("eligibility rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policy_items",
    )
    benefit = models.TextField(_("benefit"), blank=True)
    window_start = models.DateField(
        _("application opens"), null=True, blank=True, validators=date_validators()
    )
    window_end = models.DateField(
        _("application closes"), null=True, blank=True, validators=date_validators()
    )
    sort_order = models.PositiveIntegerField(default=0)

    objects = PolicyPartQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "sort_order", "id"]
        verbose_name = _("policy item")
        verbose_name_plural = _("policy items")

    def __str__(self) -> str:
        return self.title

    def window_open(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return (self.window_start is None or self.window_start <= day) and (
            self.window_end is None or day <= self.window_end
        )


class PushNoticeQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> PushNoticeQuerySet:
        """Commission staff: every push; station staff: the pushes made inside their subtree."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_commission:
            return self
        if user.is_station and action == "view":
            path = user.jurisdiction.path
            return self.filter(
                Q(jurisdiction__path__startswith=path)
                | Q(created_by__jurisdiction__path__startswith=path)
            )
        return self.none()


class PushNotice(models.Model):
    """A notice pushed to the enterprises eligible for a policy item, with delivery counts."""

    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="pushes")
    snapshot = models.ForeignKey(
        "rules.RuleSnapshot", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    enterprises = models.PositiveIntegerField(_("enterprises"), default=0)
    notifications = models.PositiveIntegerField(_("in-app notices"), default=0)
    emails = models.PositiveIntegerField(_("e-mails queued"), default=0)

    objects = PushNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("push notice")

    def __str__(self) -> str:
        return self.title


class PushRecipient(models.Model):
    """Which enterprise a push reached, so the same push never goes twice to one enterprise."""

    push = models.ForeignKey(PushNotice, on_delete=models.CASCADE, related_name="recipients")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "enterprise"], name="uniq_push_item_enterprise")
        ]

    def __str__(self) -> str:
        return f"{self.push_id} → {self.enterprise_id}"
