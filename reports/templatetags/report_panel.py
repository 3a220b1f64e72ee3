"""The reports panel on the home page, shown to officials only."""

from __future__ import annotations

from typing import Any

from django import template

from clusters.selectors import clusters_visible_to
from reports.selectors import recent_jobs

register = template.Library()


@register.inclusion_tag("reports/_home_reports_panel.html", takes_context=True)
def reports_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The user's recent report jobs, and whether they may request any."""
    request = context.get("request")
    user = getattr(request, "user", None)
    official = bool(user is not None and clusters_visible_to(user).exists())
    return {
        "show": official,
        "jobs": list(recent_jobs(user, limit=5)) if official else [],
        "request": request,
    }
