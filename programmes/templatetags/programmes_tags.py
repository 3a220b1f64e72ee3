"""Template helpers of the programme: the home page's panel, the firm file's projects, and
the "Programmes" link of the cluster dashboard. Each shows only what the user may see."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Exists, OuterRef

from clusters import selectors as cluster_selectors
from programmes import selectors
from programmes.models import ProviderRating

register = template.Library()


def _user(context: Any) -> Any:
    return getattr(context.get("request"), "user", None)


@register.inclusion_tag("programmes/_home_programmes.html", takes_context=True)
def programmes_home_panel(context: Any) -> dict[str, Any]:
    """Officials: their programmes; a provider's users: "our projects"; a firm's users: their
    firm's projects (with a reminder to rate the provider once accepted)."""
    user = _user(context)
    programmes: list[Any] = []
    if getattr(user, "is_staff", False) or cluster_selectors.is_official(user):
        programmes = list(
            selectors.programmes_visible_to(user)
            .select_related("region")
            .order_by("-starts_on")[:8]
        )
    firm_projects = list(
        selectors.projects_visible_to(user)
        .filter(firm__in=cluster_selectors.user_firms(user))
        .select_related("programme")
        .annotate(rated=Exists(ProviderRating.objects.filter(project=OuterRef("pk"))))
        .order_by("-created_at")[:8]
    )
    return {
        "programmes": programmes,
        "our_projects": selectors.is_provider_user(user),
        "firm_projects": firm_projects,
    }


@register.inclusion_tag("programmes/_firm_projects.html", takes_context=True)
def firm_projects_panel(context: Any, firm: Any) -> dict[str, Any]:
    """The firm's retrofit projects that the user may see (none: nothing is shown)."""
    user = _user(context)
    projects = (
        selectors.projects_visible_to(user)
        .filter(firm=firm)
        .select_related("programme", "provider")
        .order_by("-created_at")
    )
    return {"projects": list(projects)}


@register.inclusion_tag("programmes/_programmes_link.html", takes_context=True)
def programmes_link(context: Any) -> dict[str, Any]:
    """A "Programmes" button, for users who see any programme."""
    return {"show": selectors.programmes_visible_to(_user(context)).exists()}
