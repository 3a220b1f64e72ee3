"""Targets: set one (with its checks), and count the progress towards it.

A target reads "by `deadline`, `firms` firms at `level` or above on `framework`". Progress is
counted on stored results, never re-scored: for a cluster, on its latest round of the framework
that has submissions; for a region, on that round of every cluster in the region and its
sub-regions, each firm counted once. The trend is the same count on every earlier round of the
cluster on the framework. Each count is one GROUP BY, whatever the number of firms or rounds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import wording
from assessments.framework import Framework as ParsedFramework
from assessments.framework import text
from assessments.models import Assessment, Framework, FrameworkVersion, Round
from assessments.versions import framework_for
from clusters import industries
from clusters.models import Cluster, Region
from clusters.selectors import clusters_visible_to, regions_visible_to
from reports.models import Target

if TYPE_CHECKING:
    from reports.context import ClusterReport

# Caps checked before anything is stored (a count beyond any region's register is a typo).
MAX_FIRMS = 1_000_000
MAX_YEARS_AHEAD = 20
# How many firms "would count next" a dashboard lists, and how many nearest candidates it reads.
NEXT_LIMIT = 10
NEXT_CANDIDATES = 500


@dataclass(frozen=True)
class TrendPoint:
    """The count at or above the target's level on one round."""

    round_id: int
    round: str
    opens_at: dt.datetime
    count: int


@dataclass(frozen=True)
class TargetProgress:
    """How far a target has got: the count now, the goal, the date and the trend."""

    target_id: int
    subject: str
    framework: str
    version: str  # "" when any version counts
    level: str  # the level's title
    level_code: str
    industry: str
    goal: int
    deadline: dt.date
    days_left: int
    round: str | None  # the round counted, None when there is none with submissions yet
    current: int | None
    share: float | None  # percent of the goal reached, capped at 100
    met: bool
    trend: tuple[TrendPoint, ...]


@dataclass(frozen=True)
class NextFirm:
    """A firm just below the target's level: what it lacks to count."""

    firm_id: int | None  # None when taken from the support list, which names firms by code
    name: str
    uscc: str
    total: Decimal | None
    unmet: int
    lacks: tuple[str, ...]


# --- Writes ---------------------------------------------------------------------------------


def _level_codes(version: FrameworkVersion) -> dict[str, str]:
    fw = framework_for(version)
    return {lv.code: text(lv.title, "en") for lv in fw.levels}


def reference_version(framework: Framework, version: FrameworkVersion | None) -> FrameworkVersion:
    if version is not None:
        return version
    latest = FrameworkVersion.objects.published().filter(framework=framework).order_by("-id")
    found = latest.first()
    if found is None:
        raise ValidationError({"framework": _("This framework has no published version.")})
    return found


@transaction.atomic
def target_set(
    user: Any,
    *,
    framework: Framework,
    level: str,
    firms: int,
    deadline: dt.date,
    cluster: Cluster | None = None,
    region: Region | None = None,
    framework_version: FrameworkVersion | None = None,
    industry: str = "",
) -> Target:
    """Store a new target for a cluster or a region the user oversees; ValidationError (per
    field, in the user's language) when it is out of scope or does not make sense."""
    if (cluster is None) == (region is None):
        raise ValidationError(_("A target is for one cluster or one region."))
    if cluster is not None and not clusters_visible_to(user).filter(pk=cluster.pk).exists():
        raise ValidationError({"cluster": _("No such cluster.")})
    if region is not None and not regions_visible_to(user).filter(pk=region.pk).exists():
        raise ValidationError({"region": _("No such region.")})
    errors: dict[str, str] = {}
    if framework_version is not None and framework_version.framework_id != framework.pk:
        errors["framework_version"] = _("This version belongs to another framework.")
    if framework_version is not None and not framework_version.is_published:
        errors["framework_version"] = _("This framework version is not published.")
    if errors:
        raise ValidationError(errors)
    reference = reference_version(framework, framework_version)
    if level not in _level_codes(reference):
        errors["level"] = _("%(level)s is not a level of %(framework)s %(version)s.") % {
            "level": level or "—",
            "framework": framework.slug,
            "version": reference.version,
        }
    if not 1 <= firms <= MAX_FIRMS:
        errors["firms"] = _("The number of firms must be between 1 and %(max)s.") % {
            "max": f"{MAX_FIRMS:,}"
        }
    today = timezone.localdate()
    if deadline <= today:
        errors["deadline"] = _("The deadline must be after today (%(today)s).") % {
            "today": today.isoformat()
        }
    elif deadline.year > today.year + MAX_YEARS_AHEAD:
        errors["deadline"] = _("The deadline must be within %(years)s years.") % {
            "years": MAX_YEARS_AHEAD
        }
    code = ""
    if industry.strip():
        parsed = industries.parse(industry)
        if parsed is None:
            errors["industry"] = _(
                "%(code)s is not a GB/T 4754 industry code (for example C34)."
            ) % {"code": industry.strip()[:20]}
        else:
            code = f"{parsed.section}{parsed.division}"
    if errors:
        raise ValidationError(errors)
    return Target.objects.create(
        cluster=cluster,
        region=region,
        framework=framework,
        framework_version=framework_version,
        level=level,
        firms=firms,
        deadline=deadline,
        industry=code,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


@transaction.atomic
def target_delete(user: Any, target: Target) -> None:
    """Remove a target of a cluster or region the user oversees; ValidationError otherwise."""
    if targets_visible_to(user).filter(pk=target.pk).exists():
        target.delete()
        return
    raise ValidationError(_("No such target."))


# --- Reads ----------------------------------------------------------------------------------


def targets_visible_to(user: Any) -> QuerySet[Target]:
    """Targets of the clusters and regions the user oversees."""
    return Target.objects.filter(
        Q(cluster__in=clusters_visible_to(user)) | Q(region__in=regions_visible_to(user))
    )


def _targets_on(
    framework: Framework | str, **subject: Any
) -> tuple[Framework | None, list[Target]]:
    """The framework row (from a row or a slug) and the subject's targets on it."""
    row = (
        framework
        if isinstance(framework, Framework)
        else Framework.objects.filter(slug=framework).first()
    )
    if row is None:
        return None, []
    found = Target.objects.filter(framework=row, **subject).select_related(
        "framework", "framework_version"
    )
    return row, list(found)


def _at_or_above(target: Target, fw: ParsedFramework) -> int | None:
    """The level rank from which a result counts, in this framework version; None when the
    version has no such level."""
    codes = [lv.code for lv in fw.levels]
    return codes.index(target.level) if target.level in codes else None


def _firm_filter(target: Target) -> Q:
    if not target.industry:
        return Q()
    parsed = industries.parse(target.industry)
    return Q(firm__industry_division=parsed.division) if parsed else Q(pk__in=[])


def _rank_counts(round_ids: Iterable[int], target: Target) -> dict[int, dict[int, int]]:
    """{round id: {level rank: submitted firms}}: one GROUP BY over every round."""
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    rows = (
        Assessment.objects.submitted()
        .filter(_firm_filter(target), round_id__in=list(round_ids))
        .values("round_id", "level_rank")
        .annotate(c=Count("id"))
    )
    for row in rows:
        counts[row["round_id"]][row["level_rank"] if row["level_rank"] is not None else -1] = row[
            "c"
        ]
    return counts


def _rounds_on(target: Target, cluster_ids: Iterable[int]) -> list[Round]:
    rounds = Round.objects.filter(
        cluster_id__in=list(cluster_ids), framework_version__framework_id=target.framework_id
    ).select_related("framework_version")
    if target.framework_version_id:
        rounds = rounds.filter(framework_version_id=target.framework_version_id)
    return list(rounds.order_by("opens_at", "id"))


def _count(round_: Round, target: Target, by_rank: dict[int, int]) -> int | None:
    rank = _at_or_above(target, framework_for(round_.framework_version))
    if rank is None:
        return None
    return sum(c for r, c in by_rank.items() if r >= rank)


def _level_title(target: Target, rounds: list[Round], language: str) -> str:
    for r in reversed(rounds):
        fw = framework_for(r.framework_version)
        for lv in fw.levels:
            if lv.code == target.level:
                return text(lv.title, language)
    return target.level


def _progress(
    target: Target,
    subject: str,
    rounds: list[Round],
    current_round: Round | None,
    current: int | None,
    trend: tuple[TrendPoint, ...],
    language: str,
) -> TargetProgress:
    today = timezone.localdate()
    share = None
    if current is not None:
        share = min(100.0, round(100.0 * current / target.firms, 1))
    return TargetProgress(
        target_id=target.pk,
        subject=subject,
        framework=str(target.framework),
        version=target.framework_version.version if target.framework_version else "",
        level=_level_title(target, rounds, language),
        level_code=target.level,
        industry=target.industry,
        goal=target.firms,
        deadline=target.deadline,
        days_left=(target.deadline - today).days,
        round=current_round.name if current_round else None,
        current=current,
        share=share,
        met=current is not None and current >= target.firms,
        trend=trend,
    )


def progress_for_cluster(
    cluster: Cluster,
    framework: Framework | str,
    *,
    language: str = "zh-hans",
    all_industries: dict[int, dict[int, int]] | None = None,
) -> list[TargetProgress]:
    """Progress of every target of the cluster on the framework (a row or its slug), counted
    on the cluster's latest round of it with submissions, with the trend over all its rounds.

    `all_industries`: {round id: {level rank: submitted firms}} of the cluster's rounds, when
    the caller has counted them already (the dashboard); targets of one industry count their
    own, and without it each distinct industry is counted once."""
    fw_row, targets = _targets_on(framework, cluster=cluster)
    if fw_row is None:
        return []
    out = []
    subject = cluster.name_for(language)
    known: dict[str, dict[int, dict[int, int]]] = {}
    if all_industries is not None:
        known[""] = all_industries
    on_framework = list(
        Round.objects.filter(cluster=cluster, framework_version__framework=fw_row)
        .select_related("framework_version")
        .order_by("opens_at", "id")
    )
    for target in targets:
        rounds = [
            r
            for r in on_framework
            if not target.framework_version_id
            or r.framework_version_id == target.framework_version_id
        ]
        if target.industry not in known:
            known[target.industry] = _rank_counts([r.pk for r in on_framework], target)
        counts = known[target.industry]
        trend = []
        for r in rounds:
            if not counts.get(r.pk):
                continue  # no submissions yet: not a point of the trend
            value = _count(r, target, counts[r.pk])
            if value is not None:
                trend.append(TrendPoint(r.pk, r.name, r.opens_at, value))
        current_round = next((r for r in reversed(rounds) if counts.get(r.pk)), None)
        current = _count(current_round, target, counts[current_round.pk]) if current_round else None
        out.append(
            _progress(target, subject, rounds, current_round, current, tuple(trend), language)
        )
    return out


def progress_for_region(
    region: Region, framework: Framework | str, *, language: str = "zh-hans"
) -> list[TargetProgress]:
    """Progress of every target of the region on the framework: firms at or above the level on
    the latest round with submissions of each cluster in the region's subtree, each firm once."""
    fw_row, targets = _targets_on(framework, region=region)
    if fw_row is None or not targets:
        return []
    cluster_ids = list(
        Cluster.objects.filter(region__path__startswith=region.path).values_list("pk", flat=True)
    )
    out = []
    subject = region.name_for(language)
    for target in targets:
        rounds = _rounds_on(target, cluster_ids)
        counts = _rank_counts([r.pk for r in rounds], target)
        latest: dict[int, Round] = {}
        for r in rounds:  # oldest first: the last one with submissions wins
            if counts.get(r.pk):
                latest[r.cluster_id] = r
        condition = Q(pk__in=[])
        for r in latest.values():
            rank = _at_or_above(target, framework_for(r.framework_version))
            if rank is not None:
                condition |= Q(round_id=r.pk, level_rank__gte=rank)
        current = None
        if latest:
            current = (
                Assessment.objects.submitted()
                .filter(condition, _firm_filter(target))
                .values("firm_id")
                .distinct()
                .count()
            )
        newest = max(latest.values(), key=lambda r: (r.opens_at, r.pk), default=None)
        out.append(_progress(target, subject, rounds, newest, current, (), language))
    return out


def next_to_count(round_: Round, target: Target, *, language: str) -> list[NextFirm]:
    """The firms of the round one level below the target's, nearest first (fewest unmet gate
    conditions, then highest total), with what each lacks, from the stored next-level gaps."""
    fw = framework_for(round_.framework_version)
    rank = _at_or_above(target, fw)
    if rank is None:
        return []
    rows = (
        Assessment.objects.submitted()
        .filter(_firm_filter(target), round=round_, level_rank=rank - 1)
        .values("firm_id", "firm__name", "firm__uscc", "total", "result__next_level")
        .order_by("-total", "firm__name")[:NEXT_CANDIDATES]
    )
    said: dict[str, str] = {}
    found = []
    for row in rows:
        nxt = row["result__next_level"] or {}
        if nxt.get("code") != target.level:
            continue
        unmet = nxt.get("unmet") or []
        lacks = []
        for u in unmet:
            key = repr((u.get("condition"), u.get("actual")))
            if key not in said:
                said[key] = wording.describe_condition(
                    u.get("condition", {}), fw, language, u.get("actual"), with_actual=True
                )
            lacks.append(said[key])
        found.append(
            NextFirm(
                firm_id=row["firm_id"],
                name=row["firm__name"],
                uscc=row["firm__uscc"],
                total=row["total"],
                unmet=len(unmet),
                lacks=tuple(lacks),
            )
        )
    found.sort(key=lambda f: (f.unmet, -(f.total or 0), f.name))
    return found[:NEXT_LIMIT]


def next_from_support(
    report: ClusterReport, target: Target, round_: Round
) -> list[NextFirm] | None:
    """For a target at the basic or advanced band's level (on all industries): the support
    list's firms within reach of that band, in its order; None for any other target."""
    fw = framework_for(round_.framework_version)
    band = {fw.bands.basic: "basic", fw.bands.advanced: "advanced"}.get(target.level)
    if band is None or target.industry:
        return None
    return [
        NextFirm(
            firm_id=None,
            name=e.firm,
            uscc=e.uscc,
            total=e.total,
            unmet=e.unmet_count,
            lacks=e.lacks,
        )
        for e in report.support
        if e.band == band
    ][:NEXT_LIMIT]


def next_firms(
    report: ClusterReport, round_: Round, progress: Iterable[TargetProgress], *, language: str
) -> list[tuple[TargetProgress, tuple[NextFirm, ...]]]:
    """For every target not yet met: the round's firms that would count next towards it, from
    the report's support list when the target is at a band's level, else from next_to_count.
    The dashboard and the officials' edition of the cluster report both list these."""
    pending = [p for p in progress if not p.met]
    by_id = {t.pk: t for t in Target.objects.filter(pk__in=[p.target_id for p in pending])}
    out = []
    for p in pending:
        target = by_id.get(p.target_id)
        if target is None:
            continue  # removed meanwhile
        firms = next_from_support(report, target, round_)
        if firms is None:
            firms = next_to_count(round_, target, language=language)
        out.append((p, tuple(firms)))
    return out


def fingerprint_rows(**subject: Any) -> list[Any]:
    """What a report's targets are drawn from: the subject's target rows (a report citing them
    is stale once one is set or removed)."""
    return list(
        Target.objects.filter(**subject)
        .order_by("id")
        .values_list(
            "id", "framework_id", "framework_version_id", "level", "firms", "deadline", "industry"
        )
    )
