"""科技企业库: enterprises, their qualifications and yearly metrics.

Ladder stages, watch-lists, visits and imports build on these registers.
Money is stored as integer yuan and shown in 万元 at the edges.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import BusinessModel, Jurisdiction, Role, ScopedQuerySet
from kechuang.core.validators import (
    amount_validators,
    count_validators,
    date_validators,
    validate_mobile,
    validate_report_year,
    validate_uscc,
)
from kechuang.enterprises.validity import is_valid_on, valid_on_q


def enterprise_scope_q(user, prefix: str = "") -> Q | None:
    """The Q that narrows records reached through `prefix` to the user's enterprises.

    None means "everything" (commission staff); an empty result is expressed
    by the caller with `.none()`.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_commission:
        return None
    if user.is_station:
        # Ids of the (small) subtree rather than a LIKE over joined paths, so the
        # database can use the jurisdiction_id / park_id indexes.
        subtree = Jurisdiction.objects.filter(path__startswith=user.jurisdiction.path).values("pk")
        return Q(**{f"{prefix}jurisdiction_id__in": subtree}) | Q(
            **{f"{prefix}park_id__in": subtree}
        )
    if user.role == Role.ENTERPRISE and getattr(user, "enterprise_id", None):
        return Q(**{f"{prefix}id" if prefix else "id": user.enterprise_id})
    return Q(pk__in=[])


class EnterpriseScopedQuerySet(ScopedQuerySet):
    """Scoping for the enterprise and every record hanging off it."""

    enterprise_prefix = "enterprise__"

    def visible_to(self, user, action: str = "view"):
        q = enterprise_scope_q(user, self.enterprise_prefix)
        return self if q is None else self.filter(q)


class StaffOnlyQuerySet(models.QuerySet):
    """Reference records that staff read and commission staff change."""

    def visible_to(self, user, action: str = "view"):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_commission or (action == "view" and user.is_staff_member):
            return self
        return self.none()


class Sector(models.Model):
    """A strategic-emerging-industry tag (战略性新兴产业), e.g. 集成电路, 生物医药."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sector")

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    """GB/T 4754-2017 national economic industry classification (门类 / 大类)."""

    code = models.CharField(_("code"), max_length=8, unique=True)  # "C", "C39"
    name = models.CharField(_("name"), max_length=100)
    section = models.CharField(_("section"), max_length=1, db_index=True)  # 门类 letter

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ListingStatus(models.TextChoices):
    UNLISTED = "unlisted", _("Not listed")
    PREPARING = "preparing", _("Preparing to list")
    NEEQ = "neeq", _("NEEQ (新三板)")
    STAR = "star", _("STAR Market (科创板)")
    MAIN = "main", _("Main board")
    CHINEXT = "chinext", _("ChiNext (创业板)")
    BSE = "bse", _("Beijing Stock Exchange")
    OVERSEAS = "overseas", _("Listed overseas")


class LadderStage(models.TextChoices):
    """The 科创企业梯队, lowest first; an enterprise sits on the highest stage it reaches."""

    CONTEST = "contest", _("Contest award winner")
    RISING = "rising", _("Rising enterprise")
    HTE = "hte", _("High-tech enterprise")
    LITTLE_GIANT = "little_giant", _("Little giant")
    LEADER = "leader", _("Industry leader")


LADDER_ORDER: dict[str, int] = {"": 0} | {
    stage: i for i, stage in enumerate(LadderStage.values, start=1)
}


class EnterpriseQuerySet(EnterpriseScopedQuerySet):
    enterprise_prefix = ""


class Enterprise(BusinessModel):
    """A tech enterprise registered in the district: the 科技企业库's system of record."""

    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=200)  # indexed in Meta (no LIKE copy)
    legal_rep = models.CharField(_("legal representative"), max_length=50, blank=True)
    registered_on = models.DateField(
        _("registered on"), null=True, blank=True, db_index=True, validators=date_validators()
    )
    registered_capital = models.BigIntegerField(
        _("registered capital (yuan)"), null=True, blank=True, validators=amount_validators()
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    # Not indexed alone: Index(jurisdiction, name) below serves it, and every index
    # costs bulk imports (docs/benchmarks.md, import section).
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("town / street"),
        on_delete=models.PROTECT,
        related_name="enterprises",
        db_index=False,
    )
    park = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("park"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="park_enterprises",
    )
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), null=True, blank=True, on_delete=models.PROTECT
    )
    sectors = models.ManyToManyField(Sector, verbose_name=_("sectors"), blank=True)
    listing_status = models.CharField(
        _("listing status"),
        max_length=16,
        choices=ListingStatus.choices,
        default=ListingStatus.UNLISTED,
    )
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(
        _("contact mobile"), max_length=20, blank=True, validators=[validate_mobile]
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Current cultivation-ladder stage, recomputed by enterprises.services.
    ladder_stage = models.CharField(
        _("ladder stage"), max_length=16, blank=True, choices=LadderStage.choices
    )
    # Bumped on every change of the enterprise's own data (incl. qualifications and
    # annual reports) so bulk rule evaluation can re-run only what changed.
    data_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = EnterpriseQuerySet.as_manager()
    audit_exclude = ("created_at", "updated_at", "row_version", "data_changed_at")

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        # Plain B-tree indexes: name search is icontains, so PostgreSQL's varchar_pattern_ops
        # copies that db_index=True adds would only slow writes.
        indexes = [
            models.Index(fields=["jurisdiction", "name"]),
            models.Index(fields=["name"], name="ent_name_idx"),
            models.Index(fields=["ladder_stage"], name="ent_ladder_stage_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("enterprises:detail", args=[self.pk])


class QualificationLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")


class QualificationType(models.Model):
    """A kind of recognition that expires (高新技术企业 3 years, 科技型中小企业 1 year …)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    level = models.CharField(_("level"), max_length=16, choices=QualificationLevel.choices)
    validity_years = models.PositiveSmallIntegerField(
        _("validity (years)"), null=True, blank=True, help_text=_("Empty: does not expire.")
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Types no longer awarded stay for history.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("qualification type")

    def __str__(self) -> str:
        return self.name


class QualificationQuerySet(EnterpriseScopedQuerySet):
    def valid_on(self, day: datetime.date) -> QualificationQuerySet:
        """Qualifications in force on `day` (kechuang.enterprises.validity)."""
        return self.filter(valid_on_q(day))

    def expiring_between(self, start: datetime.date, end: datetime.date):
        return self.filter(
            expires_on__gte=start, expires_on__lte=end, revoked_on__isnull=True
        ).order_by("expires_on")


class Qualification(BusinessModel):
    """One certificate an enterprise holds, valid from issue to expiry unless revoked."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="qualifications"
    )
    type = models.ForeignKey(
        QualificationType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    certificate_no = models.CharField(_("certificate no."), max_length=64, blank=True)
    issued_on = models.DateField(_("issued on"), validators=date_validators())
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True, validators=date_validators()
    )
    revoked_on = models.DateField(
        _("revoked on"), null=True, blank=True, validators=date_validators()
    )

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("qualification")
        indexes = [
            # Covers `valid_on(D).filter(type=…)` entirely, so the list filter
            # "qualification valid at D" never touches the table rows.
            models.Index(
                fields=["type", "issued_on", "expires_on", "revoked_on", "enterprise"],
                name="qual_valid_on_idx",
            ),
            # All certificates of one type with their dates, expiry first: the list's
            # "valid on D" filter and counts read it index-only (a partial index on
            # "currently valid" would go stale as today moves).
            models.Index(
                fields=["type", "expires_on", "issued_on", "revoked_on", "enterprise"],
                name="qual_type_expiry_idx",
            ),
            # One enterprise's certificates of a type, dates included: the profile, the
            # page facts and the list's semi-join probes ("valid HTE, newest first" walks
            # the sort index and asks this one per row) never touch the table rows.
            models.Index(
                fields=["enterprise", "type", "expires_on", "issued_on", "revoked_on"],
                name="qual_enterprise_valid_idx",
            ),
            models.Index(fields=["expires_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.type}"

    def clean(self) -> None:
        errors = {}
        if self.issued_on and self.expires_on and self.expires_on < self.issued_on:
            errors["expires_on"] = _("The expiry date is before the issue date.")
        if self.issued_on and self.revoked_on and self.revoked_on < self.issued_on:
            errors["revoked_on"] = _("The revocation date is before the issue date.")
        if errors:
            raise ValidationError(errors)

    def is_valid_on(self, day: datetime.date) -> bool:
        return is_valid_on(self.issued_on, self.expires_on, self.revoked_on, day)


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    CONFIRMED = "confirmed", _("Confirmed")


class ReportSource(models.TextChoices):
    STAFF = "staff", _("Entered by staff")
    IMPORT = "import", _("Imported")
    ENTERPRISE = "enterprise", _("Filed by the enterprise")


# The yearly metrics, in one place so imports, rules variables and exports agree.
# (field name, unit) — unit "yuan" is stored in yuan and shown in 万元.
ANNUAL_METRICS: dict[str, str] = {
    "revenue": "yuan",
    "rd_expense": "yuan",
    "hightech_revenue": "yuan",
    "total_assets": "yuan",
    "tax": "yuan",
    "profit": "yuan",
    "staff": "person",
    "tech_staff": "person",
    "invention_patents_granted": "item",
    "invention_patents_valid": "item",
    "ip_count": "item",
}


class AnnualReport(BusinessModel):
    """One enterprise-year of metrics (营业收入, 研发费用 …)."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="annual_reports"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[validate_report_year])
    revenue = models.BigIntegerField(
        _("revenue"), null=True, blank=True, validators=amount_validators()
    )
    rd_expense = models.BigIntegerField(
        _("R&D expense"), null=True, blank=True, validators=amount_validators()
    )
    hightech_revenue = models.BigIntegerField(
        _("high-tech product revenue"), null=True, blank=True, validators=amount_validators()
    )
    total_assets = models.BigIntegerField(
        _("total assets"), null=True, blank=True, validators=amount_validators()
    )
    tax = models.BigIntegerField(
        _("tax paid"), null=True, blank=True, validators=amount_validators()
    )
    profit = models.BigIntegerField(
        _("profit"), null=True, blank=True, validators=amount_validators(signed=True)
    )
    staff = models.PositiveIntegerField(
        _("staff"), null=True, blank=True, validators=count_validators()
    )
    tech_staff = models.PositiveIntegerField(
        _("technical staff"), null=True, blank=True, validators=count_validators()
    )
    invention_patents_granted = models.PositiveIntegerField(
        _("invention patents granted in the year"),
        null=True,
        blank=True,
        validators=count_validators(),
    )
    invention_patents_valid = models.PositiveIntegerField(
        _("valid invention patents"), null=True, blank=True, validators=count_validators()
    )
    ip_count = models.PositiveIntegerField(
        _("IP items owned"), null=True, blank=True, validators=count_validators()
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.CONFIRMED
    )
    source = models.CharField(
        _("source"), max_length=16, choices=ReportSource.choices, default=ReportSource.STAFF
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EnterpriseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "-year"]
        verbose_name = _("annual report")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="uniq_report_year")
        ]
        indexes = [
            # Covers the list's metric filters (revenue range, R&D ratio) for one year.
            models.Index(
                fields=["year", "revenue", "rd_expense", "status", "enterprise"],
                name="report_year_metrics_idx",
            ),
            models.Index(fields=["year", "enterprise"]),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.year}"


# ---------------------------------------------------------------------------
# Cultivation ladder (科创企业梯队)
# ---------------------------------------------------------------------------


class LadderCriteria(BusinessModel):
    """Thresholds that define 新锐 (rising) and 行业领军 (leader) enterprises.

    Every threshold that is set must hold on the enterprise's latest confirmed
    annual report (growth is measured against the report of the year before);
    thresholds left empty are not checked. A stage with no threshold set is
    never reached, so nobody becomes a leader until staff define what it means.
    """

    stage = models.CharField(
        _("stage"),
        max_length=16,
        unique=True,
        choices=[
            (LadderStage.RISING, LadderStage.RISING.label),
            (LadderStage.LEADER, LadderStage.LEADER.label),
        ],
    )
    min_revenue = models.BigIntegerField(
        _("minimum revenue (yuan)"), null=True, blank=True, validators=amount_validators()
    )
    min_revenue_growth = models.DecimalField(
        _("minimum revenue growth"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("As a fraction: 0.2 means 20 %."),
    )
    min_rd_ratio = models.DecimalField(
        _("minimum R&D expense / revenue"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("As a fraction: 0.05 means 5 %."),
    )
    min_invention_patents = models.PositiveIntegerField(
        _("minimum valid invention patents"), null=True, blank=True, validators=count_validators()
    )
    requires_hte = models.BooleanField(_("must be a valid high-tech enterprise"), default=False)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["stage"]
        verbose_name = _("ladder criteria")
        verbose_name_plural = _("ladder criteria")

    def __str__(self) -> str:
        return str(self.get_stage_display())

    @property
    def is_defined(self) -> bool:
        return any(
            v is not None
            for v in (
                self.min_revenue,
                self.min_revenue_growth,
                self.min_rd_ratio,
                self.min_invention_patents,
            )
        )


class LadderStageChange(models.Model):
    """One move of an enterprise on the ladder (written by the recompute, never by hand)."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="ladder_changes"
    )
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    from_stage = models.CharField(_("from"), max_length=16, blank=True, choices=LadderStage.choices)
    to_stage = models.CharField(_("to"), max_length=16, blank=True, choices=LadderStage.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    objects = EnterpriseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("ladder stage change")

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.from_stage or '-'} → {self.to_stage or '-'}"


# ---------------------------------------------------------------------------
# Watch-lists (拟上市后备库, 百企成长计划 …)
# ---------------------------------------------------------------------------


class WatchList(BusinessModel):
    """A named list of enterprises followed for a purpose (e.g. 拟上市企业后备库)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    purpose = models.TextField(_("purpose"), blank=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("watch-list")
        verbose_name_plural = _("watch-lists")

    def __str__(self) -> str:
        return self.name


class WatchListMemberQuerySet(EnterpriseScopedQuerySet):
    def current(self):
        return self.filter(removed_on__isnull=True)


class WatchListMember(BusinessModel):
    """An enterprise's stay on a watch-list; removal closes the row (history is kept)."""

    watch_list = models.ForeignKey(
        WatchList, verbose_name=_("watch-list"), on_delete=models.CASCADE, related_name="members"
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="watch_memberships",
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    added_on = models.DateField(_("added on"), validators=date_validators())
    removed_on = models.DateField(
        _("removed on"), null=True, blank=True, validators=date_validators()
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=255, blank=True)

    objects = WatchListMemberQuerySet.as_manager()

    class Meta:
        ordering = ["-added_on", "-id"]
        verbose_name = _("watch-list member")
        constraints = [
            models.UniqueConstraint(
                fields=["watch_list", "enterprise"],
                condition=Q(removed_on__isnull=True),
                name="uniq_current_watch_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.watch_list} · {self.enterprise}"


# ---------------------------------------------------------------------------
# Visits (走访) and the issues raised (诉求)
# ---------------------------------------------------------------------------


class Visit(BusinessModel):
    """A visit to an enterprise by station or commission staff."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="visits"
    )
    visited_on = models.DateField(_("visited on"), validators=date_validators())
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visiting staff"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    participants = models.CharField(_("participants"), max_length=255, blank=True)
    station = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.TextField(_("summary"), blank=True)

    objects = EnterpriseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.visited_on}"


class IssueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class VisitIssueQuerySet(EnterpriseScopedQuerySet):
    def overdue(self, day: datetime.date):
        return self.exclude(status=IssueStatus.CLOSED).filter(due_on__lt=day)


class VisitIssue(BusinessModel):
    """A need raised during a visit (诉求), followed up until closed."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="issues")
    # Denormalised from the visit so scoping and overdue lists need no extra join.
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="issues"
    )
    category = models.CharField(_("category"), max_length=50, blank=True)
    description = models.TextField(_("issue raised"))
    status = models.CharField(
        _("status"), max_length=16, choices=IssueStatus.choices, default=IssueStatus.OPEN
    )
    due_on = models.DateField(_("due on"), null=True, blank=True, validators=date_validators())
    closed_on = models.DateField(
        _("closed on"), null=True, blank=True, validators=date_validators()
    )
    follow_up = models.TextField(_("follow-up"), blank=True)

    objects = VisitIssueQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("visit issue")
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.description[:30]}"


# ---------------------------------------------------------------------------
# Data versions (cache keys of list counts and computed indicators)
# ---------------------------------------------------------------------------


class DataVersion(models.Model):
    """A counter per register table, bumped just after every write to it commits
    (kechuang.enterprises.versioning): the key of every cache of figures computed from it."""

    name = models.CharField(max_length=16, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("data version")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
