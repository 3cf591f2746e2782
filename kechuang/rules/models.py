"""Policy as code: variables, rules with versions, evaluation snapshots and verdicts.

The rule language itself lives in `kechuang.rules.engine` (pure Python, no Django);
this module stores what officers write, the paper trail of versions, and the results
of bulk evaluation runs.
"""

from __future__ import annotations

import datetime

import numpy as np
from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import BusinessModel, ScopedQuerySet
from kechuang.enterprises.models import EnterpriseScopedQuerySet


class ValueType(models.TextChoices):
    """Kind of quantity a variable holds; rules may only compare and add like with like."""

    NUMBER = "number", _("Number")
    COUNT = "count", _("Count")
    MONEY = "money", _("Money")
    RATIO = "ratio", _("Ratio")
    DURATION = "duration", _("Duration (years)")
    BOOL = "bool", _("Yes / no")
    DATE = "date", _("Date")
    TEXT = "text", _("Text")


class VariableSource(models.TextChoices):
    FIELD = "field", _("Enterprise field")
    METRIC = "metric", _("Annual-report metric")
    FORMULA = "formula", _("Formula")


class StaffOnlyQuerySet(ScopedQuerySet):
    """Rules and variables are configuration: commission staff only."""

    def visible_to(self, user, action: str = "view"):
        if user is not None and user.is_authenticated and user.is_active and user.is_commission:
            return self
        return self.none()


class RuleQuerySet(StaffOnlyQuerySet):
    def explainable_to(self, user) -> RuleQuerySet:
        """Rules whose clauses a user may read in an explanation.

        Commission staff: every rule. Everyone else: the rules behind a policy item
        they can see (`Policy.objects.visible_to`, the one definition), so a draft
        policy's thresholds stay unseen. Policies sit above rules, hence the lookup
        through the app registry rather than an import.
        """
        if user is not None and user.is_authenticated and user.is_active and user.is_commission:
            return self
        policy_item = apps.get_model("policies", "PolicyItem")
        return self.filter(
            pk__in=policy_item.objects.visible_to(user).filter(rule__isnull=False).values("rule_id")
        )


class Variable(BusinessModel):
    """A named fact about an enterprise for a year: a field, a metric or a formula."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=ValueType.choices)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=VariableSource.choices)
    formula = models.TextField(_("formula"), blank=True)
    year = models.SmallIntegerField(
        _("year offset"),
        default=-1,
        help_text=_("Annual-report year relative to the evaluation year (-1 = last year)."),
    )
    db_field = models.CharField(
        _("database field"),
        max_length=100,
        blank=True,
        help_text=_("Enterprise or annual-report field read for this variable; empty: the code."),
    )
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("from the library"), default=False)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("variable")
        verbose_name_plural = _("variables")

    def __str__(self) -> str:
        return f"{self.code} {self.label_zh}"

    def as_engine_dict(self) -> dict:
        return {
            "code": self.code,
            "type": self.type,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "unit": self.unit,
            "source": self.source,
            "formula": self.formula or None,
            "year": self.year,
            "description": self.description,
        }


class Rule(BusinessModel):
    """An eligibility rule; its text lives in versions so every verdict keeps its own."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    clause_ref = models.CharField(
        _("policy clause"),
        max_length=255,
        blank=True,
        help_text=_("The article of the policy document this rule implements."),
    )

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.name

    def version_on(self, day: datetime.date) -> RuleVersion | None:
        return self.versions.effective_on(day).first()

    def latest_version(self) -> RuleVersion | None:
        return self.versions.order_by("-number").first()

    def draft_version(self) -> RuleVersion | None:
        return self.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class RuleVersionQuerySet(StaffOnlyQuerySet):
    def effective_on(self, day: datetime.date) -> RuleVersionQuerySet:
        """Published versions in force on `day` (at most one per rule)."""
        return self.filter(
            Q(status=VersionStatus.PUBLISHED),
            Q(effective_from__lte=day),
            Q(effective_to__isnull=True) | Q(effective_to__gte=day),
        ).order_by("rule_id", "-number")


class RuleVersion(BusinessModel):
    """One text of a rule. Published versions are never edited; a change makes a new one."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    expression = models.TextField(
        _("conditions"),
        help_text=_(
            "Rule language. Name each clause with a header line '# [code] label' so "
            "explanations show it by name."
        ),
    )
    amount_formula = models.TextField(
        _("amount formula"),
        blank=True,
        help_text=_("Optional, e.g. min(rd_expense * 10%, 50万)."),
    )
    manual_conditions = models.JSONField(
        _("conditions checked by staff"),
        default=list,
        blank=True,
        help_text=_("Conditions only a person can judge; never passed automatically."),
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField(_("change note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RuleVersionQuerySet.as_manager()

    class Meta:
        ordering = ["rule", "-number"]
        verbose_name = _("rule version")
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="uniq_rule_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.rule} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class SnapshotStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RuleSnapshot(models.Model):
    """One bulk evaluation run: every published rule for every enterprise, at a date.

    ``positions`` is the ordered list of rule version ids: position *i* of every
    enterprise's verdict vector (`SnapshotEnterprise.verdicts`) is the verdict of
    version ``positions[i]`` on ``data_date``. See docs/decisions/0004.
    """

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    data_date = models.DateField(_("evaluation date"))
    status = models.CharField(
        _("status"), max_length=16, choices=SnapshotStatus.choices, default=SnapshotStatus.RUNNING
    )
    incremental = models.BooleanField(_("incremental"), default=False)
    base = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_versions = models.ManyToManyField(RuleVersion, related_name="snapshots", blank=True)
    positions = models.JSONField(_("rule versions in vector order"), default=list, blank=True)
    amount_positions = models.JSONField(
        _("positions with an amount formula"), default=list, blank=True
    )
    enterprise_count = models.PositiveIntegerField(_("enterprises"), default=0)
    evaluated_count = models.PositiveIntegerField(_("enterprises evaluated"), default=0)
    verdict_rows = models.PositiveIntegerField(_("enterprise rows"), default=0)
    seconds = models.FloatField(_("duration (s)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("evaluation snapshot")

    def __str__(self) -> str:
        return f"#{self.pk} {self.data_date}"

    @classmethod
    def latest(cls) -> RuleSnapshot | None:
        return cls.objects.filter(status=SnapshotStatus.DONE).order_by("-started_at", "-id").first()


class VerdictValue(models.IntegerChoices):
    ELIGIBLE = 1, _("Eligible")
    NOT_ELIGIBLE = 0, _("Not eligible")
    UNKNOWN = -1, _("Unknown (data missing)")


# Packed arrays are little-endian; an amount that could not be computed is NULL_AMOUNT.
VERDICT_DTYPE = np.dtype("i1")
AMOUNT_DTYPE = np.dtype("<i8")
ID_DTYPE = np.dtype("<i8")
NULL_AMOUNT = -(2**63)


_INT_TYPES = [np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8")]


def pack_ints(values: np.ndarray) -> bytes:
    """An int64 array in the narrowest little-endian int type that holds it: one byte
    giving the item size, then the items. NULL_AMOUNT maps to that type's minimum."""
    values = np.asarray(values, dtype=np.int64)
    null = values == NULL_AMOUNT
    real = values[~null]
    lo, hi = (int(real.min()), int(real.max())) if len(real) else (0, 0)
    for dtype in _INT_TYPES:
        info = np.iinfo(dtype)
        if info.min < lo and hi <= info.max:
            out = values.astype(dtype)
            out[null] = info.min
            return bytes([dtype.itemsize]) + out.tobytes()
    raise ValueError("value out of range")  # pragma: no cover - int64 always fits


def unpack_ints(raw: bytes) -> np.ndarray:
    raw = bytes(raw)
    if not raw:
        return np.zeros(0, dtype=np.int64)
    dtype = np.dtype(f"<i{raw[0]}")
    items = np.frombuffer(raw, dtype=dtype, offset=1)
    out = items.astype(np.int64)
    out[items == np.iinfo(dtype).min] = NULL_AMOUNT
    return out


def encode_ids(ids: np.ndarray) -> bytes:
    """Sorted ids as gaps in the narrowest int type (eligible lists are dense: mostly one byte)."""
    return pack_ints(np.diff(np.asarray(ids, dtype=np.int64), prepend=np.int64(0)))


def decode_ids(raw: bytes) -> np.ndarray:
    return np.cumsum(unpack_ints(raw)).astype(np.int64)


def encode_amounts(amounts: np.ndarray) -> bytes:
    return pack_ints(amounts)


def decode_amounts(raw: bytes) -> np.ndarray:
    return unpack_ints(raw)


class SnapshotEnterpriseQuerySet(EnterpriseScopedQuerySet):
    pass


class SnapshotEnterprise(models.Model):
    """One enterprise in one snapshot: the verdicts of every rule version, packed.

    ``verdicts`` holds one int8 per snapshot position (1 eligible, 0 not, -1 unknown);
    ``amounts`` one int64 per position in ``snapshot.amount_positions`` where the
    verdict is eligible, in position order (NULL_AMOUNT when the formula lacked data).
    ``computed_in`` is the snapshot whose run evaluated the row (an incremental run
    copies unchanged enterprises' rows from its base). Foreign keys carry no database
    constraint so bulk writes stay fast; the snapshot owns its rows.
    """

    snapshot = models.ForeignKey(
        RuleSnapshot, on_delete=models.CASCADE, related_name="enterprise_rows", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    # DO_NOTHING: a snapshot is a record of what was evaluated; rows of a deleted
    # enterprise go when the snapshot is pruned (readers always join the live
    # enterprises, and deleting an enterprise never scans millions of rows).
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.DO_NOTHING, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    verdicts = models.BinaryField()
    amounts = models.BinaryField(default=b"", blank=True)
    computed_in = models.PositiveIntegerField(default=0)

    objects = SnapshotEnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise verdicts")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "enterprise"], name="uniq_snapshot_enterprise"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} · {self.enterprise_id}"

    def vector(self) -> np.ndarray:
        return np.frombuffer(bytes(self.verdicts), dtype=VERDICT_DTYPE)

    def decoded(self, snapshot: RuleSnapshot) -> dict[int, tuple[int, int | None]]:
        """{rule version id: (verdict, amount or None)} for every position."""
        vec = self.vector()
        amounts = np.frombuffer(bytes(self.amounts), dtype=AMOUNT_DTYPE).tolist()
        with_amount = set(snapshot.amount_positions)
        out, k = {}, 0
        for pos, (vid, v) in enumerate(zip(snapshot.positions, vec.tolist(), strict=True)):
            amount = None
            if v == 1 and pos in with_amount:
                amount = amounts[k] if amounts[k] != NULL_AMOUNT else None
                k += 1
            out[vid] = (v, amount)
        return out


class SnapshotRule(models.Model):
    """Per snapshot and rule version: counts, and the eligible enterprises as a packed array.

    ``eligible_ids`` (sorted ids, stored as gaps in the narrowest int type: `encode_ids`)
    and ``eligible_amounts`` (aligned, `pack_ints`; empty when the version has no amount
    formula) serve the staff lists, exports and push.
    """

    snapshot = models.ForeignKey(RuleSnapshot, on_delete=models.CASCADE, related_name="rules")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    not_eligible = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    has_amount = models.BooleanField(default=False)
    eligible_ids = models.BinaryField(default=b"", blank=True)
    eligible_amounts = models.BinaryField(default=b"", blank=True)

    class Meta:
        ordering = ["snapshot", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "rule_version"], name="uniq_snapshot_rule_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} · {self.rule_version_id}: {self.eligible}"

    def ids(self) -> np.ndarray:
        return decode_ids(self.eligible_ids)

    def amounts(self) -> np.ndarray | None:
        """int64 amounts aligned with ids() (NULL_AMOUNT unknown), or None without a formula."""
        if not self.has_amount:
            return None
        return decode_amounts(self.eligible_amounts)


class EligibilityNotice(models.Model):
    """An enterprise was told once that it newly meets a rule; never repeated."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    snapshot = models.ForeignKey(
        RuleSnapshot, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    notified_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    objects = EnterpriseScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "rule"], name="uniq_eligibility_notice")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} · {self.rule_id}"
