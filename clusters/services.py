"""Writes to the register: regions with their paths, firms, memberships and scopes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clusters import sizes
from clusters.models import Cluster, ClusterMembership, Firm, Region


def _path_for(region: Region) -> str:
    parent_path = region.parent.path if region.parent_id else "/"
    return f"{parent_path}{region.pk}/"


@transaction.atomic
def region_create(
    *,
    name_zh: str,
    level: str,
    parent: Region | None = None,
    code: str | None = None,
    name_en: str = "",
) -> Region:
    """Create a region under `parent` and return it with its materialised path set."""
    region = Region.objects.create(
        code=code or None, name_zh=name_zh, name_en=name_en, level=level, parent=parent
    )
    region.path = _path_for(region)
    region.save(update_fields=["path"])
    return region


@transaction.atomic
def region_update_paths(region: Region) -> int:
    """Recompute the path of a region and of its whole subtree; return how many changed.

    Call after creating a region outside `region_create` or after moving it to a new parent.
    """
    old_path = Region.objects.filter(pk=region.pk).values_list("path", flat=True).first() or ""
    if region.parent_id:
        region.parent.refresh_from_db(fields=["path"])
    if region.parent_id and f"/{region.pk}/" in region.parent.path:
        raise ValueError("a region cannot be moved under its own sub-region")
    new_path = _path_for(region)
    changed = 0
    if old_path != new_path:
        Region.objects.filter(pk=region.pk).update(path=new_path)
        changed += 1
        if old_path:
            for child in Region.objects.filter(path__startswith=old_path).exclude(pk=region.pk):
                child.path = new_path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
                changed += 1
    region.path = new_path
    return changed


def firm_size_class(firm: Firm) -> str:
    """The size class the 2017 thresholds give this firm, or "" when a figure is missing."""
    return (
        sizes.size_class(
            firm.industry_division,
            group=firm.industry_group,
            employees=firm.employees,
            revenue=firm.revenue_10k_cny,
            assets=firm.total_assets_10k_cny,
        )
        or ""
    )


@transaction.atomic
def firm_save(firm: Firm) -> Firm:
    """Normalise, derive the size class, validate and save a firm."""
    from clusters import uscc

    firm.uscc = uscc.normalise(firm.uscc)
    firm.size_class = firm_size_class(firm)
    firm.full_clean()
    firm.save()
    return firm


@transaction.atomic
def membership_add(
    *, cluster: Cluster, firm: Firm, start_date: dt.date | None = None
) -> tuple[ClusterMembership, bool]:
    """Add a firm to a cluster (no-op if already a member); return it and whether it is new."""
    return ClusterMembership.objects.get_or_create(
        cluster=cluster, firm=firm, defaults={"start_date": start_date or timezone.localdate()}
    )
