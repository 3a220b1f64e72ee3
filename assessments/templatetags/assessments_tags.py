"""Template tags for the assessments part: the home-page panel of firm users."""

from __future__ import annotations

from typing import Any

from django import template

from assessments import selectors
from assessments.questionnaire import draft_progress
from assessments.results import level_title
from clusters import selectors as cluster_selectors

register = template.Library()


@register.inclusion_tag("assessments/_home_firm_panel.html", takes_context=True)
def firm_rounds_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The user's invited rounds with their drafts and results, for the home page."""
    request = context["request"]
    user = request.user
    items = selectors.firm_rounds(user)
    rows = [
        {
            "item": item,
            "progress": draft_progress(item.assessment)
            if item.assessment is not None and not item.assessment.is_submitted and item.is_open
            else None,
            "level": level_title(item.assessment)
            if item.assessment is not None and item.assessment.is_submitted
            else "",
        }
        for item in items
    ]
    return {
        "items": items,
        "rows": rows,
        "is_official": cluster_selectors.is_official(user) or user.is_staff,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
