"""科技企业库: enterprises, their qualifications and yearly metrics.

Ladder stages, watch-lists, visits and imports build on these registers.
Money is stored as integer yuan and shown in 万元 at the edges.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import BusinessModel, Jurisdiction, Role, ScopedQuerySet


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
        path = user.jurisdiction.path
        return Q(**{f"{prefix}jurisdiction__path__startswith": path}) | Q(
            **{f"{prefix}park__path__startswith": path}
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


class EnterpriseQuerySet(EnterpriseScopedQuerySet):
    enterprise_prefix = ""


class Enterprise(BusinessModel):
    """A tech enterprise registered in the district: the 科技企业库's system of record."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    legal_rep = models.CharField(_("legal representative"), max_length=50, blank=True)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    registered_capital = models.BigIntegerField(
        _("registered capital (yuan)"), null=True, blank=True
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("town / street"),
        on_delete=models.PROTECT,
        related_name="enterprises",
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
    contact_phone = models.CharField(_("contact mobile"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Current cultivation-ladder stage, recomputed by enterprises.services.
    ladder_stage = models.CharField(_("ladder stage"), max_length=16, blank=True, db_index=True)
    # Bumped on every change of the enterprise's own data (incl. qualifications and
    # annual reports) so bulk rule evaluation can re-run only what changed.
    data_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = EnterpriseQuerySet.as_manager()
    audit_exclude = ("created_at", "updated_at", "data_changed_at")

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        indexes = [models.Index(fields=["jurisdiction", "name"])]

    def __str__(self) -> str:
        return self.name


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

    class Meta:
        ordering = ["code"]
        verbose_name = _("qualification type")

    def __str__(self) -> str:
        return self.name


class QualificationQuerySet(EnterpriseScopedQuerySet):
    def valid_on(self, day: datetime.date) -> QualificationQuerySet:
        """Qualifications in force on `day`: the one definition every part uses."""
        return self.filter(
            Q(issued_on__lte=day),
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            Q(revoked_on__isnull=True) | Q(revoked_on__gt=day),
        )

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
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("qualification")
        indexes = [
            models.Index(fields=["type", "issued_on", "expires_on"]),
            models.Index(fields=["enterprise", "type"]),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.type}"

    def is_valid_on(self, day: datetime.date) -> bool:
        return (
            self.issued_on <= day
            and (self.expires_on is None or self.expires_on >= day)
            and (self.revoked_on is None or self.revoked_on > day)
        )


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
    year = models.PositiveSmallIntegerField(_("year"))
    revenue = models.BigIntegerField(_("revenue"), null=True, blank=True)
    rd_expense = models.BigIntegerField(_("R&D expense"), null=True, blank=True)
    hightech_revenue = models.BigIntegerField(_("high-tech product revenue"), null=True, blank=True)
    total_assets = models.BigIntegerField(_("total assets"), null=True, blank=True)
    tax = models.BigIntegerField(_("tax paid"), null=True, blank=True)
    profit = models.BigIntegerField(_("profit"), null=True, blank=True)
    staff = models.PositiveIntegerField(_("staff"), null=True, blank=True)
    tech_staff = models.PositiveIntegerField(_("technical staff"), null=True, blank=True)
    invention_patents_granted = models.PositiveIntegerField(
        _("invention patents granted in the year"), null=True, blank=True
    )
    invention_patents_valid = models.PositiveIntegerField(
        _("valid invention patents"), null=True, blank=True
    )
    ip_count = models.PositiveIntegerField(_("IP items owned"), null=True, blank=True)
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
        indexes = [models.Index(fields=["year", "revenue"])]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.year}"
