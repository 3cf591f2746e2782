"""规划落实跟踪: plans, their indicators and tasks, responsible units and progress reports.

A plan (五年规划 / 三年行动计划 / 年度工作要点 / 报告) sets quantitative indicators
(baseline → target) and assigns tasks to responsible units (责任单位). Indicators
are either computed from the platform's registers (`source` is an aggregate spec,
see kechuang/plans/aggregates.py) or reported by a unit with evidence.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import BusinessModel, Role, ScopedQuerySet
from kechuang.core.validators import date_validators, year_validators


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def is_unit_user(user) -> bool:
    return _active(user) and user.role == Role.UNIT and not user.is_superuser


class PlanKind(models.TextChoices):
    FIVE_YEAR = "five_year", _("Five-year plan")
    THREE_YEAR = "three_year", _("Three-year action plan")
    ANNUAL = "annual", _("Annual work points")
    REPORT = "report", _("Report")
    OTHER = "other", _("Other")


# The extraction package speaks in the documents' own words.
KIND_FROM_EXTRACTION = {
    "五年规划": PlanKind.FIVE_YEAR,
    "三年行动计划": PlanKind.THREE_YEAR,
    "年度工作要点": PlanKind.ANNUAL,
    "报告": PlanKind.REPORT,
}


class ReportFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEAR = "half_year", _("Half-yearly")


class PlanQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view"):
        if not _active(user):
            return self.none()
        if user.is_commission:
            return self
        if action != "view":
            return self.none()
        if user.is_station:
            return self
        if user.role == Role.UNIT:
            return self.filter(
                Q(tasks__assignments__unit__members=user)
                | Q(indicators__responsible_unit__members=user)
            ).distinct()
        return self.none()


class Plan(BusinessModel):
    """A plan document and the period it covers; its full text is kept for reference."""

    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(
        _("kind"), max_length=16, choices=PlanKind.choices, default=PlanKind.OTHER
    )
    issuer = models.CharField(_("issuer"), max_length=100, blank=True)
    doc_number = models.CharField(_("document number"), max_length=64, blank=True)
    published_on = models.DateField(
        _("published on"), null=True, blank=True, validators=date_validators()
    )
    period_start = models.PositiveSmallIntegerField(
        _("period start (year)"), null=True, blank=True, validators=year_validators()
    )
    period_end = models.PositiveSmallIntegerField(
        _("period end (year)"), null=True, blank=True, validators=year_validators()
    )
    report_frequency = models.CharField(
        _("progress report frequency"),
        max_length=16,
        choices=ReportFrequency.choices,
        default=ReportFrequency.QUARTERLY,
    )
    source_text = models.TextField(_("source text"), blank=True)
    source_file = models.FileField(_("source file"), upload_to="plans/sources/", blank=True)

    objects = PlanQuerySet.as_manager()
    audit_exclude = ("created_at", "updated_at", "row_version", "source_text")

    class Meta:
        ordering = ["-period_end", "-published_on", "title"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.title

    @property
    def period_label(self) -> str:
        if self.period_start and self.period_end and self.period_start != self.period_end:
            return f"{self.period_start}–{self.period_end}"
        return str(self.period_end or self.period_start or "")


class UnitQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view"):
        if not _active(user):
            return self.none()
        if user.is_commission:
            return self
        if action == "view" and user.is_station:
            return self
        if user.role == Role.UNIT:
            return self.filter(members=user) if action == "view" else self.none()
        return self.none()


class ResponsibleUnit(BusinessModel):
    """A 责任单位 (区科委, 区发改委, a town …); its members file its progress reports."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="responsible_units",
        limit_choices_to={"role": Role.UNIT},
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("responsible unit")
        verbose_name_plural = _("responsible units")

    def __str__(self) -> str:
        return self.name


class IndicatorKind(models.TextChoices):
    LEVEL = "level", _("Level (reach X)")
    INCREMENT = "increment", _("Increment (add X)")
    RATIO = "ratio", _("Ratio / share")


class Direction(models.TextChoices):
    UP = "up", _("Higher is better")
    DOWN = "down", _("Lower is better")


class SourceKind(models.TextChoices):
    COMPUTED = "computed", _("Computed from platform data")
    REPORTED = "reported", _("Reported by a responsible unit")


class PathKind(models.TextChoices):
    LINEAR = "linear", _("Linear")
    FRONT_LOADED = "front_loaded", _("Front-loaded")
    BACK_LOADED = "back_loaded", _("Back-loaded")
    CUSTOM = "custom", _("Custom yearly milestones")


_PUNCT_RE = re.compile(r"[\s\"“”‘’'()（）《》〈〉【】\[\]、,，.。:：;；·\-—_/]+")
_NAME_NOISE_RE = re.compile(
    r"^(?:全区|本区|我区|有效期内|区级以上|新增|新认定|累计)|(?:数量|总数|总量|数|个数)$"
)


def normalise_name(name: str) -> str:
    """Key for matching the same indicator across plans: width-folded, punctuation and filler removed."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _PUNCT_RE.sub("", text)
    previous = None
    while previous != text:
        previous = text
        text = _NAME_NOISE_RE.sub("", text)
    return text[:120]


class UnitScopedQuerySet(ScopedQuerySet):
    """Commission staff: everything; station staff: read everything; a responsible unit's
    members: the records reached through `unit_lookup` (a filter naming the unit's members).
    """

    unit_lookup: tuple[str, ...] = ()
    distinct_for_units = False

    def visible_to(self, user, action: str = "view"):
        if not _active(user):
            return self.none()
        if user.is_commission:
            return self
        if action == "view" and user.is_station:
            return self
        if user.role == Role.UNIT:
            qs = self.filter(**dict.fromkeys(self.unit_lookup, user))
            return qs.distinct() if self.distinct_for_units else qs
        return self.none()


class IndicatorQuerySet(UnitScopedQuerySet):
    unit_lookup = ("responsible_unit__members",)


class Indicator(BusinessModel):
    """A quantitative target of a plan: baseline → target, and where its actual value comes from."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    match_key = models.CharField(max_length=120, db_index=True, editable=False)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=IndicatorKind.choices, default=IndicatorKind.LEVEL
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.UP
    )
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    baseline_year = models.PositiveSmallIntegerField(
        _("baseline year"), null=True, blank=True, validators=year_validators()
    )
    target_value = models.DecimalField(_("target"), max_digits=20, decimal_places=4)
    target_year = models.PositiveSmallIntegerField(_("target year"), validators=year_validators())
    definition = models.TextField(
        _("definition"),
        blank=True,
        help_text=_("How the figure is calculated, e.g. numerator / denominator."),
    )
    quote = models.TextField(_("quote from the source"), blank=True)
    source_kind = models.CharField(
        _("data source"), max_length=16, choices=SourceKind.choices, default=SourceKind.REPORTED
    )
    # The aggregate spec for computed indicators (see aggregates.validate_spec).
    source = models.JSONField(_("computation"), default=dict, blank=True)
    path_kind = models.CharField(
        _("target path"), max_length=16, choices=PathKind.choices, default=PathKind.LINEAR
    )
    # {"2024": 3100, "2025": 3500}: the expected value at the end of each year (custom path).
    path_points = models.JSONField(_("yearly milestones"), default=dict, blank=True)
    responsible_unit = models.ForeignKey(
        ResponsibleUnit,
        verbose_name=_("responsible unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="indicators",
    )

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.match_key = normalise_name(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "match_key"}  # derived from the name
        super().save(*args, **kwargs)

    @property
    def is_computed(self) -> bool:
        return self.source_kind == SourceKind.COMPUTED and bool(self.source)


class IndicatorReportQuerySet(UnitScopedQuerySet):
    unit_lookup = ("indicator__responsible_unit__members",)


class IndicatorReport(BusinessModel):
    """A value of a reported indicator for a period, filed by its responsible unit with evidence."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="reports")
    period_end = models.DateField(_("as of"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    note = models.TextField(_("note"), blank=True)
    attachment = models.FileField(_("evidence"), upload_to="plans/evidence/", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = IndicatorReportQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "-period_end", "-id"]
        verbose_name = _("indicator report")

    def __str__(self) -> str:
        return f"{self.indicator} · {self.period_end}"


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    SUSPENDED = "suspended", _("Suspended")


class TaskQuerySet(UnitScopedQuerySet):
    """A unit sees only the tasks assigned to its units."""

    unit_lookup = ("assignments__unit__members",)
    distinct_for_units = True


class Task(BusinessModel):
    """A 重点任务 of a plan with its responsible units (one lead) and milestones."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveIntegerField(_("order"), default=0)
    number = models.CharField(_("no."), max_length=32, blank=True)
    area = models.CharField(_("area"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=255)
    content = models.TextField(_("content"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    units = models.ManyToManyField(
        ResponsibleUnit, through="TaskAssignment", related_name="tasks", verbose_name=_("units")
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()


class TaskAssignment(models.Model):
    """A responsible unit of a task; exactly one per task is the lead (牵头单位)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(ResponsibleUnit, on_delete=models.PROTECT, related_name="assignments")
    is_lead = models.BooleanField(_("lead unit"), default=False)

    class Meta:
        ordering = ["-is_lead", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="plans_uniq_task_unit"),
            models.UniqueConstraint(
                fields=["task"], condition=Q(is_lead=True), name="plans_one_lead_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.unit}"


class MilestoneQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view"):
        return self.filter(task__in=Task.objects.visible_to(user, action))


class Milestone(BusinessModel):
    """A dated step of a task; a task is overdue when a milestone's date passed undone."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    due_on = models.DateField(_("due on"), validators=date_validators())
    description = models.CharField(_("description"), max_length=255)
    done = models.BooleanField(_("done"), default=False)
    done_on = models.DateField(_("done on"), null=True, blank=True, validators=date_validators())

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["task", "due_on", "id"]
        verbose_name = _("milestone")

    def __str__(self) -> str:
        return f"{self.due_on} {self.description}"


class ProgressReportQuerySet(UnitScopedQuerySet):
    # Its own unit's reports, and only on tasks still assigned to that unit.
    unit_lookup = ("unit__members", "task__assignments__unit__members")
    distinct_for_units = True


class ProgressReport(BusinessModel):
    """A responsible unit's report on a task for one reporting period (text, figures, attachment)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    unit = models.ForeignKey(ResponsibleUnit, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField(_("period"), max_length=16)  # 2025-03, 2025Q1, 2025H1
    period_end = models.DateField(_("period end"))
    text = models.TextField(_("progress"))
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="plans/progress/", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("progress report")
        constraints = [
            models.UniqueConstraint(
                fields=["task", "unit", "period"], name="plans_uniq_report_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.unit} · {self.period}"


class PlanImportQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view"):
        if _active(user) and user.is_commission:
            return self
        return self.none()


class PlanImport(BusinessModel):
    """An uploaded or pasted plan and what the extraction proposed, awaiting staff review."""

    filename = models.CharField(_("file name"), max_length=255, blank=True)
    source_file = models.FileField(_("source file"), upload_to="plans/imports/", blank=True)
    text = models.TextField(_("text"))
    draft = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PlanImportQuerySet.as_manager()
    audit_exclude = ("created_at", "updated_at", "row_version", "text", "draft")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("plan import")

    def __str__(self) -> str:
        return self.filename or f"import {self.pk}"


# ---------------------------------------------------------------------------
# Derived storage of kechuang.plans.aggregates (computed-indicator cache that survives
# restarts): the figures of closed years. The data versions are enterprises.DataVersion.
# ---------------------------------------------------------------------------


class StoredFigure(models.Model):
    """A leaf's figure at a date of a closed year, kept across cache flushes and restarts.

    `version` is the leaf's cache stamp (the data versions of the tables it reads) when it was
    computed: equal → the figure is current. Otherwise `fingerprint` — of exactly the rows the
    figure depends on (`_fingerprints`) — decides: equal → still current (only its version is
    renewed), different → recomputed. Derived data: rebuilt on demand, never edited.
    """

    leaf = models.CharField(max_length=16)
    day = models.DateField()
    value = models.BigIntegerField(null=True)
    version = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=20)

    class Meta:
        verbose_name = "stored computed figure"
        constraints = [
            models.UniqueConstraint(fields=["leaf", "day"], name="plans_storedfigure_leaf_day")
        ]

    def __str__(self) -> str:
        return f"{self.leaf}@{self.day}={self.value}"
