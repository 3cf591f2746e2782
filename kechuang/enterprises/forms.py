"""Forms for staff and enterprise users; money typed in 万元, stored in yuan."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kechuang.core.forms import add_version_field
from kechuang.core.models import Jurisdiction, JurisdictionLevel
from kechuang.core.parsing import ParseError, parse_amount, parse_int, parse_ratio
from kechuang.core.validators import (
    AMOUNT_MAX,
    REPORT_YEAR_MIN,
    YEAR_MAX,
    count_validators,
    validate_report_year,
    validate_uscc,
)
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    Enterprise,
    LadderCriteria,
    Qualification,
    QualificationType,
    Visit,
    VisitIssue,
    WatchList,
)

DATE = forms.DateInput(attrs={"type": "date"})


def bootstrapify(form) -> None:
    """Give widgets Bootstrap classes (forms, formsets and filter forms alike)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select form-select-sm"
        else:
            css = "form-control form-control-sm"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class BootstrapMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class AmountField(forms.CharField):
    """An amount typed in 万元 (or with its own unit: "1.2亿"), cleaned to integer yuan."""

    def __init__(self, *args, unit: str = "万元", signed: bool = False, **kwargs):
        self.unit = unit
        kwargs.setdefault("required", False)
        self.low = -AMOUNT_MAX if signed else 0
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return format(Decimal(value) / 10_000, "f").rstrip("0").rstrip(".") or "0"
        return value

    def clean(self, value):
        value = super().clean(value)
        try:
            yuan = parse_amount(value, default_unit=self.unit)
        except ParseError as exc:
            raise ValidationError(exc.message) from None
        if yuan is None:
            return None
        yuan = int(yuan.to_integral_value())
        if not self.low <= yuan <= AMOUNT_MAX:
            # The plausible range (core.validators), told in the unit the officer types.
            raise ValidationError(
                _("The amount must be from %(min)s to %(max)s (10k yuan).")
                % {"min": f"{self.low // 10_000:,}", "max": f"{AMOUNT_MAX // 10_000:,}"},
                code="out_of_range",
            )
        return yuan


class CountField(forms.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        try:
            number = parse_int(super().clean(value))
        except ParseError as exc:
            raise ValidationError(exc.message) from None
        if number is not None and number < 0:
            raise ValidationError(_("Must not be negative."))
        if number is not None:
            for validator in count_validators():
                validator(number)
        return number


class PercentField(forms.CharField):
    """A ratio typed in per cent ("5" or "5%"), cleaned to a fraction (0.05)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format(value * 100, "f").rstrip("0").rstrip(".")
        return value

    def clean(self, value):
        try:
            return parse_ratio(super().clean(value), bare="percent")
        except ParseError as exc:
            raise ValidationError(exc.message) from None


class EnterpriseForm(BootstrapMixin, forms.ModelForm):
    registered_capital = AmountField(label=_("registered capital (10k yuan)"))

    class Meta:
        model = Enterprise
        fields = [
            "uscc", "name", "legal_rep", "registered_on", "registered_capital", "address",
            "jurisdiction", "park", "industry", "sectors", "listing_status", "lat", "lng",
            "contact_name", "contact_phone", "contact_email",
        ]  # fmt: skip
        widgets = {"registered_on": DATE, "sectors": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        towns = Jurisdiction.objects.exclude(level=JurisdictionLevel.PARK)
        parks = Jurisdiction.objects.filter(level=JurisdictionLevel.PARK)
        if user is not None and user.is_station and not user.is_commission:
            towns = towns.filter(path__startswith=user.jurisdiction.path)
            parks = parks.filter(path__startswith=user.jurisdiction.path)
        self.fields["jurisdiction"].queryset = towns
        self.fields["park"].queryset = parks
        add_version_field(self, self.instance)

    def clean_uscc(self):
        return validate_uscc(self.cleaned_data["uscc"])

    # Town / park consistency and the station's jurisdiction are checked by
    # services.location_errors, so the API and the importer get the same answer.


class QualificationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["type", "certificate_no", "issued_on", "expires_on", "revoked_on"]
        widgets = {"issued_on": DATE, "expires_on": DATE, "revoked_on": DATE}
        help_texts = {"expires_on": _("Empty: computed from the type's validity.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = QualificationType.objects.filter(is_active=True)
        add_version_field(self, self.instance)


class AnnualReportForm(BootstrapMixin, forms.Form):
    year = forms.IntegerField(
        label=_("year"),
        min_value=REPORT_YEAR_MIN,
        max_value=YEAR_MAX,
        validators=[validate_report_year],
    )

    def __init__(self, *args, instance: AnnualReport | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, unit in ANNUAL_METRICS.items():
            label = AnnualReport._meta.get_field(name).verbose_name
            if unit == "yuan":
                self.fields[name] = AmountField(
                    label=_("%(label)s (10k yuan)") % {"label": label}, signed=name == "profit"
                )
            else:
                self.fields[name] = CountField(label=label)
        if instance is not None:
            self.initial.update({name: getattr(instance, name) for name in ANNUAL_METRICS})
            self.initial["year"] = instance.year
        add_version_field(self, instance)
        bootstrapify(self)

    def clean(self):
        data = super().clean()
        revenue, rd = data.get("revenue"), data.get("rd_expense")
        if revenue is not None and rd is not None and rd > revenue > 0:
            self.add_error("rd_expense", _("R&D expense is larger than revenue; please check."))
        staff, tech = data.get("staff"), data.get("tech_staff")
        if staff is not None and tech is not None and tech > staff:
            self.add_error("tech_staff", _("Technical staff cannot exceed total staff."))
        return data

    def metrics(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ANNUAL_METRICS}


class VisitForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Visit
        fields = ["visited_on", "participants", "summary"]
        widgets = {"visited_on": DATE, "summary": forms.Textarea(attrs={"rows": 3})}


class VisitIssueForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = VisitIssue
        fields = ["category", "description", "due_on"]
        widgets = {"due_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}


VisitIssueFormSet = forms.formset_factory(VisitIssueForm, extra=3, max_num=20)


class IssueUpdateForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = VisitIssue
        fields = ["status", "due_on", "follow_up"]
        widgets = {"due_on": DATE, "follow_up": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_version_field(self, self.instance)


class WatchListForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = WatchList
        fields = ["code", "name", "purpose"]


class WatchListAddForm(BootstrapMixin, forms.Form):
    watch_list = forms.ModelChoiceField(label=_("watch-list"), queryset=WatchList.objects.all())
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)
    added_on = forms.DateField(label=_("added on"), required=False, widget=DATE)


class WatchListRemoveForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("reason for removal"), max_length=255, required=False)
    removed_on = forms.DateField(label=_("removed on"), required=False, widget=DATE)


class QualificationTypeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = QualificationType
        fields = [
            "code",
            "name",
            "level",
            "validity_years",
            "description",
            "is_active",
            "sort_order",
        ]


class LadderCriteriaForm(BootstrapMixin, forms.ModelForm):
    min_revenue = AmountField(label=_("minimum revenue (10k yuan)"))
    min_revenue_growth = PercentField(label=_("minimum revenue growth (%)"))
    min_rd_ratio = PercentField(label=_("minimum R&D expense / revenue (%)"))

    class Meta:
        model = LadderCriteria
        fields = [
            "min_revenue", "min_revenue_growth", "min_rd_ratio", "min_invention_patents",
            "requires_hte",
        ]  # fmt: skip
