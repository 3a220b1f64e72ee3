"""Template tags for the assessments part: the home-page panel of firm users."""

from __future__ import annotations

from typing import Any

from django import template

from assessments import selectors
from clusters import selectors as cluster_selectors

register = template.Library()


@register.inclusion_tag("assessments/_home_firm_panel.html", takes_context=True)
def firm_rounds_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The user's invited rounds with their drafts and results, for the home page."""
    request = context["request"]
    user = request.user
    return {
        "items": selectors.firm_rounds(user),
        "is_official": cluster_selectors.is_official(user) or user.is_staff,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
