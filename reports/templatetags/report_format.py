"""Number formatting for report templates (assessments.wording): a missing or suppressed figure
prints as a dash. Tables print a fixed number of decimals so that their columns line up."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from assessments import wording

register = template.Library()
DASH = wording.DASH


@register.filter
def pct(value: float | Decimal | None) -> str:
    """A percentage with one decimal, e.g. "62.5%"."""
    return wording.percent(value)


@register.filter
def num1(value: float | Decimal | None) -> str:
    """A number with one decimal."""
    return wording.number(value, 1, fixed=True)


@register.filter
def num2(value: float | Decimal | None) -> str:
    """A number with two decimals."""
    return wording.number(value, 2, fixed=True)


@register.filter
def count(value: int | None) -> str:
    """A whole number of firms."""
    return DASH if value is None else str(value)


@register.filter
def points(value: float | Decimal | None) -> str:
    """A change in percentage points with its sign, e.g. "+3.0 pp"."""
    if value is None:
        return DASH
    return _("%(value)s pp") % {"value": wording.number(value, 1, fixed=True, signed=True)}


@register.filter
def weight(value: Decimal | None) -> str:
    """A dimension weight as the framework file gives it, without trailing zeros."""
    return wording.number(value, None)


@register.filter
def flag(figure: object) -> str:
    """ "*" after a programme figure drawn from fewer than 5 projects or assessments (and
    shown); nothing otherwise (programmes.figures.Figure)."""
    if getattr(figure, "small", False) and getattr(figure, "value", None) is not None:
        return "*"
    return ""


@register.filter
def days(value: float | Decimal | None) -> str:
    """A number of days with one decimal, e.g. "41.5"."""
    return wording.number(value, 1, fixed=True)


@register.filter
def signed2(value: float | Decimal | None) -> str:
    """A signed number with two decimals, e.g. "+0.75"."""
    if value is None:
        return DASH
    return wording.number(value, 2, fixed=True, signed=True)
