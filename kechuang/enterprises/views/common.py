"""Helpers shared by the enterprise views."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from kechuang.core.forms import form_error


def submit_record_form(
    request,
    form,
    save,
    *,
    success,
    done,
    context,
    template="enterprises/record_form.html",
    valid=None,
):
    """The shape of every record form: on a valid POST call the service (`save()`); a
    ValidationError from the service lands on the form; success redirects with a message."""
    if request.method == "POST" and (valid() if valid else form.is_valid()):
        try:
            save()
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(done)
    return render(request, template, {"form": form, **context})


def safe_next(request, default: str) -> str:
    """The `next` parameter if it points inside this site, else `default` (no open redirect)."""
    target = request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def wan(value: int | None):
    """Yuan → 万元 for display and export (None stays None)."""
    if value is None:
        return None
    return round(value / 10_000, 2)


def render_filter_fields(form) -> list[dict]:
    """Filter-form fields as HTML, with selects built directly.

    Django renders every <option> through a template; with a few hundred options that
    costs tens of milliseconds per list request, so selects are assembled here instead.
    """
    fields = []
    for bf in form:
        widget = bf.field.widget
        if isinstance(widget, forms.Select):
            value = bf.value()
            values = value if isinstance(value, list | tuple) else [value]
            selected = {str(v) for v in values if v not in (None, "")}
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (str(v), mark_safe(" selected") if str(v) in selected else "", label)  # noqa: S308
                    for v, label in bf.field.choices
                ),
            )
            html = format_html(
                '<select name="{}" id="{}" class="{}"{}>{}</select>',
                bf.html_name,
                bf.auto_id,
                widget.attrs.get("class", ""),
                mark_safe(" multiple size=4") if widget.allow_multiple_selected else "",  # noqa: S308
                options,
            )
        else:
            html = str(bf)
        fields.append({"label": bf.label, "id": bf.auto_id, "html": html, "errors": bf.errors})
    return fields
