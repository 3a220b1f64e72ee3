"""The regional comparison on screen: the regional report's figures (reports/context.py, the
same function the PDF and XLSX use), sorted by a column the official picks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assessment, Framework, FrameworkVersion, Invitation, Round
from clusters.models import Cluster, Region
from reports import context
from reports.context import RegionClusterRow, RegionGroup, RegionReport
from reports.services import CODE_VERSION

# The columns of the comparison table, in order: (key, numeric). The cluster's cell also
# names its region and round, to keep the table narrow enough for a phone.
COLUMN_KEYS: tuple[tuple[str, bool], ...] = (
    ("cluster", False),
    ("invited", True),
    ("assessed", True),
    ("response", True),
    ("basic", True),
    ("advanced", True),
    ("basic_change", True),
    ("advanced_change", True),
    ("homogeneity", True),
)
_VALUES: dict[str, Callable[[RegionClusterRow], Any]] = {
    "cluster": lambda r: r.cluster,
    "region": lambda r: r.region,
    "round": lambda r: r.round,
    "invited": lambda r: r.invited,
    "assessed": lambda r: r.assessed,
    "response": lambda r: r.response_rate,
    "basic": lambda r: r.basic_share,
    "advanced": lambda r: r.advanced_share,
    "basic_change": lambda r: r.basic_change,
    "advanced_change": lambda r: r.advanced_change,
    "homogeneity": lambda r: r.homogeneity,
}
DEFAULT_SORT = "-basic"


@dataclass(frozen=True)
class Column:
    """A header of the comparison table; on screen a link that sorts by it."""

    key: str
    label: str
    numeric: bool
    url: str = ""
    active: bool = False
    descending: bool = False


def _labels() -> dict[str, str]:
    return {
        "cluster": _("Cluster"),
        "region": _("Region"),
        "round": _("Round"),
        "invited": _("Invited"),
        "assessed": _("Submitted"),
        "response": _("Response rate"),
        "basic": _("Basic or above"),
        "advanced": _("Advanced or above"),
        "basic_change": _("Change, basic"),
        "advanced_change": _("Change, advanced"),
        "homogeneity": _("Homogeneity"),
    }


def parse_sort(value: str | None) -> tuple[str, bool]:
    """(column key, descending) from ?sort=key or ?sort=-key; the default for anything else."""
    raw = (value or "")[:40]
    key = raw.lstrip("-")
    if key not in _VALUES:
        raw = DEFAULT_SORT
        key = raw.lstrip("-")
    return key, raw.startswith("-")


def columns(
    sort: tuple[str, bool] | None = None, params: dict[str, str] | None = None
) -> list[Column]:
    """The table's headers; given the current sort and query, each links to its own sort
    (a second click on the active column reverses it)."""
    labels = _labels()
    out = []
    for key, numeric in COLUMN_KEYS:
        if sort is None:
            out.append(Column(key, labels[key], numeric))
            continue
        active = sort[0] == key
        # Numbers sort highest first on the first click, names A to Z.
        descending = (not sort[1]) if active else numeric
        query = urlencode({**(params or {}), "sort": ("-" if descending else "") + key})
        out.append(
            Column(key, labels[key], numeric, f"?{query}", active, sort[1] if active else False)
        )
    return out


def sorted_group(group: RegionGroup, key: str, descending: bool) -> RegionGroup:
    """The group with its rows sorted by the column; missing figures always last."""
    value = _VALUES[key]
    present = [r for r in group.rows if value(r) is not None]
    missing = [r for r in group.rows if value(r) is None]
    present.sort(key=lambda r: (value(r), r.cluster), reverse=descending)
    return replace(group, rows=tuple(present + missing))


def sorted_report(report: RegionReport, key: str, descending: bool) -> RegionReport:
    """The report with every group's rows sorted by the column."""
    return replace(report, groups=tuple(sorted_group(g, key, descending) for g in report.groups))


# --- Provincial scale (issue 14): the page's figures from the cache while nothing changed -----

# How long cached figures stay. Their key changes with every submission, invitation, round,
# cluster, comparability declaration or round closing; the timeout bounds what it does not see
# (a renamed region, say).
CACHE_SECONDS = 600


def data_key(region: Region) -> str:
    """A key that changes whenever the region's comparison could: the same inputs as the
    regional report's fingerprint (reports.services.report_fingerprint: the region's rounds,
    the count, last id, last submission and last change of their submitted assessments, their
    invitations, its clusters and their names), plus which of its rounds have closed (closing
    makes a round without submissions count). The submitted assessments are read in one
    aggregate, an index-only scan of `assessment_round_fingerprint` (docs/queries.md)."""
    rounds = Round.objects.filter(cluster__region__path__startswith=region.path)
    now = timezone.now()
    submitted = (
        Assessment.objects.submitted()
        .filter(round__in=rounds)
        .aggregate(n=Count("id"), last=Max("id"), sub=Max("submitted_at"), upd=Max("updated_at"))
    )
    inputs = [
        region.pk,
        region.path,
        [
            [pk, closes <= now]
            for pk, closes in rounds.order_by("id").values_list("id", "closes_at")
        ],
        [submitted["n"], submitted["last"], str(submitted["sub"]), str(submitted["upd"])],
        Invitation.objects.filter(round__in=rounds).count(),
        list(
            Cluster.objects.filter(region__path__startswith=region.path)
            .order_by("id")
            .values_list("id", "name_zh", "name_en", "region_id")
        ),
    ]
    raw = json.dumps(inputs, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def frameworks_cached(region: Region, key: str) -> list[tuple[Framework, int]]:
    """`context.region_frameworks`, from the cache while `key` (see `data_key`) holds."""
    cache_key = f"region-frameworks:{key}"
    found = cache.get(cache_key)
    if found is None:
        found = context.region_frameworks(region)
        cache.set(cache_key, found, CACHE_SECONDS)
    return found


def report_cached(
    region: Region, key: str, *, language: str, framework: Framework, year: int | None
) -> RegionReport:
    """`context.region_report` (the officials' edition), from the cache while `key` holds and
    the framework's versions and their comparability are the same."""
    versions = list(
        FrameworkVersion.objects.filter(framework=framework)
        .order_by("id")
        .values_list("id", "levels_comparable_with_id")
    )
    raw = json.dumps([key, framework.pk, versions, year, language, CODE_VERSION])
    cache_key = "region-report:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(cache_key)
    if found is None:
        found = context.region_report(region, language=language, framework=framework, year=year)
        cache.set(cache_key, found, CACHE_SECONDS)
    return found
