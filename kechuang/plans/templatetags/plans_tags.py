"""Template helpers for plan pages: status labels and colours, numbers in the indicator's unit."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS = {
    "on_track": (_("On track"), "success"),
    "at_risk": (_("At risk"), "warning"),
    "off_track": (_("Off track"), "danger"),
    "unknown": (_("No data"), "secondary"),
}


@register.filter
def status_label(value):
    return STATUS.get(value, STATUS["unknown"])[0]


@register.filter
def status_colour(value):
    return STATUS.get(value, STATUS["unknown"])[1]


@register.filter
def num(value, digits=2):
    """1234.5 → 1,234.5; whole numbers without decimals; None → —."""
    if value is None or value == "":
        return "—"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return value
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    text = f"{value:,.{int(digits)}f}".rstrip("0").rstrip(".")
    return text


@register.filter
def signed(value):
    if value is None:
        return "—"
    return ("+" if value >= 0 else "−") + num(abs(value))
