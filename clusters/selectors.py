"""Who may see what: every scoped read of the register goes through here.

Pages, the API, assessments and reports all ask these functions, never their own filters:
- a firm user sees their own firm(s);
- a cluster official sees the firms of their clusters;
- a regional official sees every cluster and firm under their region, sub-regions included;
- staff see everything; anyone else sees nothing.

A firm counts as "under a region" when one of its clusters lies in the region's subtree or
when the firm itself is registered there.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404

from clusters.models import Cluster, Firm, OfficialScope, Region

# Bumped whenever an official's scope or a region changes in this process, so that the paths
# remembered on a user object (below) are not used after the change. Other processes hold
# their user objects for one request only.
_scope_generation = 0


def is_anonymous(user: Any) -> bool:
    """True for nobody: no user, not signed in, or deactivated."""
    return user is None or not getattr(user, "is_authenticated", False) or not user.is_active


_is_anonymous = is_anonymous


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


@receiver([post_save, post_delete], sender=OfficialScope)
@receiver([post_save, post_delete], sender=Region)
def _scope_changed(**kwargs: Any) -> None:
    global _scope_generation
    _scope_generation += 1


def _scope_region_paths(user: Any) -> list[str]:
    """The materialised paths of the regions this user oversees.

    A page asks the selectors many times (the scope, each block, each link); the paths are
    read once and remembered on the user object, which lives for one request.
    """
    remembered = getattr(user, "_gradient_region_paths", None)
    if remembered is not None and remembered[0] == _scope_generation:
        return list(remembered[1])
    generation = _scope_generation
    paths = list(
        OfficialScope.objects.filter(user=user, region__isnull=False).values_list(
            "region__path", flat=True
        )
    )
    with contextlib.suppress(AttributeError):  # an object without attributes: ask each time
        user._gradient_region_paths = (generation, tuple(paths))
    return paths


def _scope_cluster_ids(user: Any) -> QuerySet[OfficialScope, Any]:
    """The ids of the clusters this user is an official of, as a subquery."""
    return OfficialScope.objects.filter(user=user, cluster__isnull=False).values("cluster_id")


def _path_q(paths: list[str], field: str) -> Q:
    """A Q matching rows whose `field` (a Region path) lies under any of `paths`."""
    condition = Q(pk__in=[])
    for path in paths:
        if path:  # an unset path would match everything: never let it through
            condition |= Q(**{f"{field}__startswith": path})
    return condition


def is_official(user: Any) -> bool:
    """True when the user oversees at least one cluster or region."""
    if _is_anonymous(user):
        return False
    return OfficialScope.objects.filter(user=user).exists()


def is_firm_user(user: Any) -> bool:
    """True when the user answers for at least one firm."""
    if _is_anonymous(user):
        return False
    return user.firm_memberships.exists()


def user_firms(user: Any) -> QuerySet[Firm]:
    """The firms the user is a member (or owner) of."""
    if _is_anonymous(user):
        return Firm.objects.none()
    return Firm.objects.filter(members__user=user).distinct()


def regions_visible_to(user: Any) -> QuerySet[Region]:
    """Regions the user oversees, with all their sub-regions (everything for staff)."""
    if _is_anonymous(user):
        return Region.objects.none()
    if _is_staff(user):
        return Region.objects.all()
    paths = _scope_region_paths(user)
    if not paths:
        return Region.objects.none()
    return Region.objects.filter(_path_q(paths, "path"))


def clusters_visible_to(user: Any) -> QuerySet[Cluster]:
    """Clusters the user oversees: their own as an official, all under their regions.

    Firm users get none here: a cluster's register and reports are for officials. Use
    `firm_clusters` for the clusters a firm belongs to.
    """
    if _is_anonymous(user):
        return Cluster.objects.none()
    if _is_staff(user):
        return Cluster.objects.all()
    condition = Q(pk__in=_scope_cluster_ids(user))
    paths = _scope_region_paths(user)
    if paths:
        condition |= _path_q(paths, "region__path")
    return Cluster.objects.filter(condition).distinct()


def firm_clusters(user: Any) -> QuerySet[Cluster]:
    """Clusters the user's own firms belong to (for peer comparisons, not official pages)."""
    if _is_anonymous(user):
        return Cluster.objects.none()
    return Cluster.objects.filter(memberships__firm__members__user=user).distinct()


def firms_visible_to(user: Any) -> QuerySet[Firm]:
    """Firms the user may see: their own, their clusters' firms, or all under their regions."""
    if _is_anonymous(user):
        return Firm.objects.none()
    if _is_staff(user):
        return Firm.objects.all()
    # The joins can repeat a firm; filter by id so callers get a clean queryset.
    return Firm.objects.filter(pk__in=Firm.objects.filter(firm_scope_q(user)).values("pk"))


def firm_scope_q(user: Any, prefix: str = "") -> Q:
    """The condition of `firms_visible_to` (for a signed-in user who is not staff) on a firm
    reached through `prefix` (for example "firm__"), for querysets of few rows that point at
    firms: checked through their own joins instead of against every firm the user sees, which
    is a province's hundreds of thousands. The joins can repeat a row: filter by id after."""
    condition = Q(**{f"{prefix}members__user": user})
    condition |= Q(**{f"{prefix}memberships__cluster_id__in": _scope_cluster_ids(user)})
    paths = _scope_region_paths(user)
    if paths:
        condition |= _path_q(paths, f"{prefix}memberships__cluster__region__path")
        condition |= _path_q(paths, f"{prefix}region__path")
    return condition


def can_view_cluster(user: Any, cluster: Cluster) -> bool:
    """True when the cluster is within the user's official scope (or the user is staff)."""
    return clusters_visible_to(user).filter(pk=cluster.pk).exists()


def can_manage_cluster(user: Any, cluster: Cluster) -> bool:
    """True when the user may import into and export the cluster's register."""
    return can_view_cluster(user, cluster)


def can_view_firm(user: Any, firm: Firm) -> bool:
    """True when the firm is visible to the user."""
    return firms_visible_to(user).filter(pk=firm.pk).exists()


def cluster_firms(user: Any, cluster: Cluster) -> QuerySet[Firm]:
    """The firms of one cluster, restricted to what the user may see."""
    if can_view_cluster(user, cluster):
        # Whoever oversees a cluster sees all of its firms (the rules above say so); skipping
        # the general visibility query keeps large registers fast.
        return Firm.objects.filter(memberships__cluster=cluster)
    return firms_visible_to(user).filter(memberships__cluster=cluster)


def firm_for_user(user: Any, pk: int) -> Firm:
    """One firm the user may see (their own, or one under their clusters or regions), or
    Http404: a firm outside the scope answers exactly like one that does not exist."""
    firm = firms_visible_to(user).select_related("region").filter(pk=pk).first()
    if firm is None:
        raise Http404
    return firm
