"""Forms of the rules pages; engine errors come back as field errors with line and column."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.rules.models import Variable, VariableSource


class RuleVersionForm(forms.Form):
    expression = forms.CharField(
        label=_("conditions"), widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"})
    )
    amount_formula = forms.CharField(
        label=_("amount formula"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
    )
    manual_conditions = forms.CharField(
        label=_("conditions checked by staff (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    effective_from = forms.DateField(
        label=_("effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("change note"), required=False, max_length=255)


class RuleCreateForm(RuleVersionForm):
    code = forms.SlugField(label=_("code"), max_length=64)
    name = forms.CharField(label=_("name"), max_length=200)
    clause_ref = forms.CharField(label=_("policy clause"), required=False, max_length=255)
    field_order = [
        "code",
        "name",
        "clause_ref",
        "expression",
        "amount_formula",
        "manual_conditions",
        "effective_from",
        "note",
    ]


class FormulaVariableForm(forms.ModelForm):
    class Meta:
        model = Variable
        fields = ["code", "label_zh", "label_en", "type", "unit", "formula", "description"]
        widgets = {"formula": forms.Textarea(attrs={"rows": 2, "class": "font-monospace"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.source = VariableSource.FORMULA
        self.fields["formula"].required = True
