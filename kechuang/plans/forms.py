"""Forms of the plans pages: import and review, indicator editing, reports, milestones."""

from __future__ import annotations

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.core.forms import add_version_field
from kechuang.plans import aggregates
from kechuang.plans.models import (
    Direction,
    Indicator,
    IndicatorKind,
    PathKind,
    Plan,
    PlanKind,
    ReportFrequency,
    ResponsibleUnit,
)

MAX_UPLOAD = 20 * 1024 * 1024


class BootstrapMixin:
    """Bootstrap classes on every widget (small controls: the review page is dense)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.DateInput):
                widget.input_type = "date"
                widget.format = "%Y-%m-%d"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()


def _source_field(required=False):
    return forms.CharField(
        label=_("computation"),
        required=required,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace small"}),
        help_text=_(
            'Empty: reported by a unit. Example: {"aggregate": "count_valid", "qualification": ["HTE"]}'
        ),
    )


def clean_source_text(text: str) -> dict:
    text = (text or "").strip()
    if not text or text in ("{}", "null"):
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from None
    try:
        return aggregates.validate_spec(data)
    except aggregates.SpecError as exc:
        raise forms.ValidationError(str(exc)) from None


class ImportForm(BootstrapMixin, forms.Form):
    text = forms.CharField(
        label=_("Paste the plan's text"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )
    file = forms.FileField(
        label=_("or upload a file (.txt, .docx, .pdf with a text layer)"), required=False
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if not data.get("text", "").strip() and not upload:
            raise forms.ValidationError(_("Paste the text or choose a file."))
        if upload and upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return data


class ReviewMetaForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("title"), max_length=255)
    kind = forms.ChoiceField(label=_("kind"), choices=PlanKind.choices)
    issuer = forms.CharField(label=_("issuer"), max_length=100, required=False)
    doc_number = forms.CharField(label=_("document number"), max_length=64, required=False)
    published_on = forms.DateField(label=_("published on"), required=False)
    period_start = forms.IntegerField(
        label=_("period start (year)"), min_value=1949, max_value=2100, required=False
    )
    period_end = forms.IntegerField(
        label=_("period end (year)"), min_value=1949, max_value=2100, required=False
    )
    report_frequency = forms.ChoiceField(
        label=_("progress report frequency"), choices=ReportFrequency.choices, initial="quarterly"
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class ReviewIndicatorForm(BootstrapMixin, forms.Form):
    keep = forms.BooleanField(label=_("keep"), required=False, initial=True)
    name = forms.CharField(label=_("indicator"), max_length=200)
    unit = forms.CharField(label=_("unit"), max_length=20, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=IndicatorKind.choices)
    direction = forms.ChoiceField(label=_("direction"), choices=Direction.choices, initial="up")
    baseline_value = forms.DecimalField(
        label=_("baseline"), required=False, max_digits=20, decimal_places=4
    )
    baseline_year = forms.IntegerField(
        label=_("baseline year"), required=False, min_value=1949, max_value=2100
    )
    target_value = forms.DecimalField(
        label=_("target"), required=False, max_digits=20, decimal_places=4
    )
    target_year = forms.IntegerField(
        label=_("target year"), required=False, min_value=1949, max_value=2100
    )
    quote = forms.CharField(
        label=_("quote"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    source = _source_field()

    def clean_source(self):
        return clean_source_text(self.cleaned_data.get("source"))

    def clean(self):
        data = super().clean()
        if data.get("keep") and data.get("target_value") is None:
            self.add_error("target_value", _("A kept indicator needs a target value."))
        return data


class ReviewTaskForm(BootstrapMixin, forms.Form):
    keep = forms.BooleanField(label=_("keep"), required=False, initial=True)
    number = forms.CharField(label=_("no."), max_length=32, required=False)
    area = forms.CharField(label=_("area"), max_length=200, required=False)
    title = forms.CharField(label=_("title"), max_length=255)
    content = forms.CharField(
        label=_("content"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    units = forms.CharField(
        label=_("responsible units"),
        required=False,
        max_length=500,
        help_text=_("Separated by 、 or commas; the first is the lead unit."),
    )

    def clean_units(self):
        text = self.cleaned_data.get("units") or ""
        names = [p.strip() for p in re.split(r"[、,，;；/\n]+", text) if p.strip()]
        for name in names:
            if len(name) > 100:
                raise forms.ValidationError(_("A unit name is longer than 100 characters."))
        return names


ReviewIndicatorFormSet = forms.formset_factory(ReviewIndicatorForm, extra=0)
ReviewTaskFormSet = forms.formset_factory(ReviewTaskForm, extra=0)


class PlanForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Plan
        fields = [
            "title", "kind", "issuer", "doc_number", "published_on", "period_start", "period_end",
            "report_frequency",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_version_field(self, self.instance)


class IndicatorForm(BootstrapMixin, forms.ModelForm):
    source = _source_field()
    path_points = forms.CharField(
        label=_("yearly milestones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace small"}),
        help_text=_(
            'For a custom path: {"2024": 3100, "2025": 3500} (value expected at each year end).'
        ),
    )

    class Meta:
        model = Indicator
        fields = [
            "name", "unit", "kind", "direction", "baseline_value", "baseline_year", "target_value",
            "target_year", "definition", "responsible_unit", "path_kind",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_version_field(self, self.instance)
        if self.instance.pk:
            self.initial["source"] = (
                json.dumps(self.instance.source, ensure_ascii=False) if self.instance.source else ""
            )
            self.initial["path_points"] = (
                json.dumps(self.instance.path_points, ensure_ascii=False)
                if self.instance.path_points
                else ""
            )

    def clean_source(self):
        return clean_source_text(self.cleaned_data.get("source"))

    def clean_path_points(self):
        text = (self.cleaned_data.get("path_points") or "").strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
            return {str(int(k)): float(v) for k, v in data.items()}
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            raise forms.ValidationError(
                _('Write the milestones as {"2024": 3100, "2025": 3500}.')
            ) from None

    def clean(self):
        data = super().clean()
        if data.get("path_kind") == PathKind.CUSTOM and not data.get("path_points"):
            self.add_error("path_points", _("A custom path needs yearly milestones."))
        return data


def parse_figures(text: str) -> dict:
    """'新增高企: 35\\n研发投入: 1.2' → {"新增高企": "35", "研发投入": "1.2"}."""
    out = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"[:：=]", line, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip():
            raise forms.ValidationError(
                _("Line %(n)s of the figures: write “name: value”.") % {"n": n}
            )
        out[parts[0].strip()[:100]] = parts[1].strip()[:100]
    return out


class ProgressReportForm(BootstrapMixin, forms.Form):
    unit = forms.ModelChoiceField(
        label=_("responsible unit"), queryset=ResponsibleUnit.objects.none()
    )
    period = forms.ChoiceField(label=_("period"))
    text = forms.CharField(label=_("progress"), widget=forms.Textarea(attrs={"rows": 4}))
    figures = forms.CharField(
        label=_("figures"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, “name: value”."),
    )
    attachment = forms.FileField(label=_("attachment"), required=False)

    def __init__(self, *args, units=None, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            units if units is not None else ResponsibleUnit.objects.none()
        )
        self.periods = {p.label: p for p in periods}
        self.fields["period"].choices = [(p.label, p.label) for p in periods]

    def clean_figures(self):
        return parse_figures(self.cleaned_data.get("figures"))

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


class IndicatorReportForm(BootstrapMixin, forms.Form):
    period_end = forms.DateField(label=_("as of"))
    value = forms.DecimalField(label=_("value"), max_digits=20, decimal_places=4)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    attachment = forms.FileField(label=_("evidence"), required=False)


class MilestoneForm(BootstrapMixin, forms.Form):
    due_on = forms.DateField(label=_("due on"))
    description = forms.CharField(label=_("description"), max_length=255)


class UnitForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
