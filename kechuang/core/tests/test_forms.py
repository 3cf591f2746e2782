from django import forms
from django.core.exceptions import ValidationError

from kechuang.core.forms import form_error


class _NameForm(forms.Form):
    name = forms.CharField()


def test_service_errors_land_on_their_field_or_on_top():
    form = _NameForm({"name": "x"})
    assert form.is_valid()
    form_error(form, ValidationError({"name": "重名", "uscc": "统一社会信用代码有误"}))
    assert form.errors["name"] == ["重名"]
    assert form.non_field_errors() == ["统一社会信用代码有误"]


def test_plain_service_error_goes_on_top():
    form = _NameForm({"name": "x"})
    assert form.is_valid()
    form_error(form, ValidationError("窗口期已结束"))
    assert form.non_field_errors() == ["窗口期已结束"]
