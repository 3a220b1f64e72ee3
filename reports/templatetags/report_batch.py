"""The report batch request form on the reports page, for the officials of a region."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("reports/batch/_request_panel.html", takes_context=True)
def batch_request_panel(context: dict[str, Any]) -> dict[str, Any]:
    """The form (shown only to a user who oversees a region) and the user's recent batches."""
    from reports.batch import recent_batches
    from reports.views_batch import batch_form

    request = context.get("request")
    user = getattr(request, "user", None)
    form = batch_form(user)
    return {
        "form": form,
        "batches": recent_batches(user) if form.can_request else [],
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
