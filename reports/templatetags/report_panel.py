"""The reports panel on the home page, shown to officials only."""

from __future__ import annotations

from typing import Any

from django import template

from clusters.selectors import clusters_visible_to, regions_visible_to
from reports import pdf
from reports.models import ReportJob
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
        "regions": _top_regions(user) if official else [],
        "jobs": list(recent_jobs(user, limit=5)) if official else [],
        "request": request,
    }


# The programme page lists the user's latest few programme reports.
PROGRAMME_JOBS = 3


@register.inclusion_tag("reports/_programme_report_form.html", takes_context=True)
def programme_report_request(context: dict[str, Any], programme: Any) -> dict[str, Any]:
    """The programme report's request form and the user's latest reports of the programme,
    for the officials who may request it (nothing for anyone else)."""
    from django.utils.translation import get_language

    from reports.selectors import jobs_with_subject, programmes_reportable_by

    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = bool(
        programme is not None
        and user is not None
        and programmes_reportable_by(user).filter(pk=programme.pk).exists()
    )
    jobs = (
        list(
            jobs_with_subject()
            .filter(programme=programme, requested_by=user)
            .order_by("-created_at")[:PROGRAMME_JOBS]
        )
        if allowed
        else []
    )
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return {
        "show": allowed,
        "programme": programme,
        "jobs": jobs,
        "language": language,
        "languages": [("zh-hans", "简体中文"), ("en", "English")],
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


# The home page links to at most this many regional comparisons.
HOME_REGIONS = 10


def _top_regions(user: Any) -> list[Any]:
    """The regions the user oversees whose parent they do not: one comparison link each."""
    visible = regions_visible_to(user)
    return list(visible.exclude(parent__in=visible).order_by("path")[:HOME_REGIONS])


@register.filter
def job_subject(job: ReportJob) -> str:
    """What a report covers, in words: the cluster and round, or the region (load them with
    reports.selectors.jobs_with_subject)."""
    if job.round is not None:
        return f"{job.round.cluster.name} · {job.round.name}"
    if job.region is not None:
        return job.region.name
    if job.programme is not None:
        return job.programme.name
    return ""


@register.filter
def language_name(code: str) -> str:
    """A language code as its own name ("简体中文", "English"), never the raw code."""
    return pdf.language_name(code)
