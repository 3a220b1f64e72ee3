"""Number formatting for report templates: a missing or suppressed figure prints as a dash."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()
DASH = "—"


@register.filter
def pct(value: float | Decimal | None) -> str:
    """A percentage with one decimal, e.g. "62.5%"."""
    return DASH if value is None else f"{float(value):.1f}%"


@register.filter
def num1(value: float | Decimal | None) -> str:
    """A number with one decimal."""
    return DASH if value is None else f"{float(value):.1f}"


@register.filter
def num2(value: float | Decimal | None) -> str:
    """A number with two decimals."""
    return DASH if value is None else f"{float(value):.2f}"


@register.filter
def count(value: int | None) -> str:
    """A whole number of firms."""
    return DASH if value is None else str(value)


@register.filter
def points(value: float | Decimal | None) -> str:
    """A change in percentage points with its sign, e.g. "+3.0 pp"."""
    if value is None:
        return DASH
    return _("%(value)s pp") % {"value": f"{float(value):+.1f}"}


@register.filter
def weight(value: Decimal | None) -> str:
    """A dimension weight without trailing zeros."""
    if value is None:
        return DASH
    d = Decimal(value)
    return f"{d.normalize():f}" if d == d.to_integral() else f"{d:f}"
