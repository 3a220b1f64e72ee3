"""Template helpers of the register: the officials' panel on the home page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count
from django.utils.translation import get_language

from clusters import industries, selectors

register = template.Library()


@register.inclusion_tag("clusters/_official_panel.html", takes_context=True)
def official_clusters_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The clusters the current user oversees, for the home page (empty for everyone else)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    clusters = (
        selectors.clusters_visible_to(user)
        .select_related("region")
        .annotate(firm_count=Count("memberships"))
        .order_by("region__path", "slug")
    )
    shown = list(clusters[:12])
    return {"clusters": shown, "more": len(shown) == 12 and clusters.count() > 12}


@register.filter
def industry_label(code: str) -> str:
    """A GB/T 4754 code with its manufacturing division's name in the page language."""
    parsed = industries.parse(code or "")
    names = industries.MANUFACTURING_DIVISIONS.get(parsed.division) if parsed else None
    if not names:
        return code
    name = names[0] if (get_language() or "zh-hans").startswith("zh") else names[1]
    return f"{code} {name}"
