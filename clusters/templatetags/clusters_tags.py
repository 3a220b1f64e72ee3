"""Template helpers of the register: the officials' panel on the home page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count
from django.utils.translation import get_language

from clusters import industries, selectors
from clusters.models import ClusterMembership

register = template.Library()


@register.inclusion_tag("clusters/_official_panel.html", takes_context=True)
def official_clusters_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The clusters the current user oversees, for the home page (empty for everyone else)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    # The first 12 (and whether there are more), then the firms of those 12 only: counting the
    # memberships of every visible cluster first would read a province's whole register.
    page = list(
        selectors.clusters_visible_to(user)
        .select_related("region")
        .order_by("region__path", "slug")[:13]
    )
    shown = page[:12]
    counts = dict(
        ClusterMembership.objects.filter(cluster__in=[c.pk for c in shown])
        .values("cluster_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("cluster_id", "n")
    )
    for cluster in shown:
        cluster.firm_count = counts.get(cluster.pk, 0)  # type: ignore[attr-defined]
    return {"clusters": shown, "more": len(page) > 12}


@register.filter
def industry_label(code: str) -> str:
    """A GB/T 4754 code with its manufacturing division's name in the page language."""
    parsed = industries.parse(code or "")
    names = industries.MANUFACTURING_DIVISIONS.get(parsed.division) if parsed else None
    if not names:
        return code
    name = names[0] if (get_language() or "zh-hans").startswith("zh") else names[1]
    return f"{code} {name}"
