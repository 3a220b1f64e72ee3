"""Template helpers of the register: the officials' panel on the home page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count

from clusters import selectors

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
