"""Money is stored in yuan and shown in 万元 (10k yuan), the unit officers work in."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def wan(value, places: int = 2) -> str:
    """12345600 -> "1,234.56"; blank for None. Exact: Decimal, never float."""
    if value is None or value == "":
        return ""
    amount = (Decimal(str(value)) / 10000).quantize(Decimal(1).scaleb(-int(places)))
    text = f"{amount:,.{int(places)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
