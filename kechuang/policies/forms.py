"""Forms of the policy library pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kechuang.core.forms import add_version_field
from kechuang.core.models import Jurisdiction
from kechuang.policies.models import Policy, PolicyItem

DATE = forms.DateInput(attrs={"type": "date"})


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        # The status changes only by the publication steps (workflows.POLICY), not here.
        fields = ["title", "issuer", "doc_no", "published_on", "valid_from", "valid_until",
                  "summary", "text"]  # fmt: skip
        widgets = {"published_on": DATE, "valid_from": DATE, "valid_until": DATE,
                   "text": forms.Textarea(attrs={"rows": 10})}  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_version_field(self, self.instance)


class PolicyItemForm(forms.ModelForm):
    class Meta:
        model = PolicyItem
        fields = [
            "title",
            "clause_text",
            "rule",
            "benefit",
            "window_start",
            "window_end",
            "sort_order",
        ]
        widgets = {"window_start": DATE, "window_end": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_version_field(self, self.instance)


class AttachmentForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    file = forms.FileField(label=_("file"))


class PushForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    message = forms.CharField(
        label=_("message"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    jurisdiction = forms.ModelChoiceField(
        label=_("town / street"), queryset=Jurisdiction.objects.none(), required=False
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Jurisdiction.objects.filter(level="town")
        if user is not None and not user.is_commission and user.jurisdiction_id:
            qs = qs.filter(path__startswith=user.jurisdiction.path)
        self.fields["jurisdiction"].queryset = qs
