"""The report assembly: a round's or a region's stored results turned into the plain frozen
dataclasses a report template lays out.

The figures come from GROUP BY queries (reports/aggregates.py), the comparison with every
cluster from the benchmark snapshot (reports/benchmark.py), the framework's titles and
conditions from its parsed `Framework` and assessments/wording.py. The per-firm rows of the
XLSX annex are reports/rows.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import statistics, wording
from assessments.framework import Framework, text
from assessments.models import (
    Assessment,
    DimensionScore,
    FrameworkVersion,
    Invitation,
    QuestionAttainment,
    Round,
)
from assessments.versions import framework_for
from clusters.models import Cluster, Firm, Region
from reports.aggregates import (
    Spread,
    homogeneity_by_group,
    meet_threshold,
    question_stats,
    spreads,
    submitted_in,
)
from reports.benchmark import benchmark

# Cells drawn from fewer firms than this are suppressed in the shareable variant.
MIN_CELL = 5
# How close to the band's score gate a firm must be to count as "within reach".
SUPPORT_SCORE_MARGIN = Decimal(10)
# ... or how few gate conditions it may miss.
SUPPORT_MAX_UNMET = 2
SUPPORT_PDF_LIMIT = 50
WEAKEST_COUNT = 10
SIZE_ORDER = [c for c, _label in Firm.SizeClass.choices] + [""]


# --- Data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """The figures on the first page."""

    invited: int
    assessed: int
    response_rate: float | None  # percent
    basic_count: int | None
    advanced_count: int | None
    basic_share: float | None  # percent of assessed
    advanced_share: float | None
    previous_round: str | None
    previous_basic_share: float | None
    previous_advanced_share: float | None
    basic_change: float | None  # percentage points
    advanced_change: float | None


@dataclass(frozen=True)
class LevelCount:
    """Firms at one level (code "" is below the first level)."""

    code: str
    title: str
    count: int | None  # None when suppressed
    share: float | None


@dataclass(frozen=True)
class SizeRow:
    """The level distribution of one size class."""

    size_class: str
    label: str
    total: int | None
    counts: tuple[int | None, ...]  # in the order of ClusterReport.levels


@dataclass(frozen=True)
class DimensionStat:
    """One dimension: the cluster's spread against the benchmark."""

    code: str
    title: str
    weight: Decimal
    cluster: Spread
    benchmark: Spread


@dataclass(frozen=True)
class QuestionStat:
    """The share of firms that meet one question."""

    code: str
    dimension: str
    dimension_title: str
    text: str
    n: int
    met: int | None
    share: float | None
    benchmark_share: float | None


@dataclass(frozen=True)
class Homogeneity:
    """How alike the firms' dimension profiles are (1 = identical, 0 = as spread as possible)."""

    value: float | None
    benchmark_mean: float | None
    benchmark_min: float | None
    benchmark_max: float | None
    benchmark_groups: int
    rank: int | None  # 1 = most homogeneous among the benchmark groups


@dataclass(frozen=True)
class SupportEntry:
    """A firm within reach of the next band, and exactly what it lacks."""

    firm: str
    uscc: str
    total: Decimal | None
    level: str
    band: str  # "basic" or "advanced"
    band_title: str
    target_level: str
    unmet_count: int
    lacks: tuple[str, ...]


@dataclass(frozen=True)
class MethodLevel:
    """A level of the framework and its gate conditions, in words."""

    code: str
    title: str
    conditions: tuple[str, ...]
    band: str


@dataclass(frozen=True)
class MethodDimension:
    """A dimension of the framework with its weight and question count."""

    code: str
    title: str
    weight: Decimal
    questions: int


@dataclass(frozen=True)
class Methodology:
    """The appendix, generated from the framework version."""

    framework: str
    version: str
    source: str
    dimensions: tuple[MethodDimension, ...]
    levels: tuple[MethodLevel, ...]
    basic_level: str
    advanced_level: str


@dataclass(frozen=True)
class ClusterReport:
    """Everything the cluster report shows."""

    cluster: str
    cluster_slug: str
    region: str
    round: str
    round_id: int
    framework: str
    framework_version: str
    source: str
    generated_at: Any
    language: str
    shareable: bool
    headline: Headline
    levels: tuple[LevelCount, ...]
    by_size: tuple[SizeRow, ...]
    dimensions: tuple[DimensionStat, ...]
    questions: tuple[QuestionStat, ...]
    weakest: tuple[QuestionStat, ...]
    homogeneity: Homogeneity
    support: tuple[SupportEntry, ...]  # all of them (the PDF shows the first SUPPORT_PDF_LIMIT)
    support_basic: int | None  # None when suppressed
    support_advanced: int | None
    methodology: Methodology
    min_cell: int = MIN_CELL

    @property
    def support_pdf(self) -> tuple[SupportEntry, ...]:
        """The support list as printed in the PDF."""
        return self.support[:SUPPORT_PDF_LIMIT]


@dataclass(frozen=True)
class RegionClusterRow:
    """One cluster in the regional comparison."""

    cluster: str
    region: str
    round: str
    invited: int
    assessed: int
    response_rate: float | None
    basic_share: float | None
    advanced_share: float | None
    dimension_means: tuple[float | None, ...]
    level_counts: tuple[int | None, ...]


@dataclass(frozen=True)
class RegionGroup:
    """Clusters of a region whose latest round uses the same framework version."""

    framework: str
    framework_version: str
    dimensions: tuple[tuple[str, str], ...]  # (code, title)
    levels: tuple[tuple[str, str], ...]
    rows: tuple[RegionClusterRow, ...]
    chart: str = ""  # filled in by the renderer


@dataclass(frozen=True)
class RegionReport:
    """Every cluster of a region side by side."""

    region: str
    generated_at: Any
    language: str
    shareable: bool
    groups: tuple[RegionGroup, ...]
    clusters_without_round: tuple[str, ...]
    min_cell: int = MIN_CELL


# --- Helpers --------------------------------------------------------------------------------


def _keep(value: Any, n: int | None, shareable: bool) -> Any:
    """The value, or None when the shareable variant suppresses a cell of fewer than 5 firms."""
    if shareable and (n is None or n < MIN_CELL):
        return None
    return value


def _level_titles(fw: Framework, language: str) -> list[tuple[str, str]]:
    """(code, title) of every level, lowest first, after "" for below the first level."""
    titles = [(lv.code, text(lv.title, language)) for lv in fw.levels]
    return [("", _("Below the first level"))] + titles


def _source(fw: Framework, version: FrameworkVersion, language: str) -> str:
    """The published standard the framework follows, as reports cite it."""
    return text(fw.source, language) if fw.source else version.source or ""


# --- The cluster report ---------------------------------------------------------------------


def _headline(round_: Round, shareable: bool) -> Headline:
    def counts(r: Round) -> dict[str, int]:
        return submitted_in([r.pk]).aggregate(
            n=Count("id"),
            basic=Count("id", filter=Q(basic=True)),
            advanced=Count("id", filter=Q(advanced=True)),
        )

    now = counts(round_)
    invited = Invitation.objects.filter(round=round_).count()
    n = now["n"]
    basic = _keep(now["basic"], min(now["basic"], n), shareable)
    advanced = _keep(now["advanced"], min(now["advanced"], n), shareable)
    previous = Round.objects.previous_of(round_)
    prev_basic = prev_adv = None
    if previous is not None:
        before = counts(previous)
        prev_basic = _keep(
            statistics.share(before["basic"], before["n"]),
            min(before["basic"], before["n"]),
            shareable,
        )
        prev_adv = _keep(
            statistics.share(before["advanced"], before["n"]),
            min(before["advanced"], before["n"]),
            shareable,
        )
    basic_share = _keep(statistics.share(now["basic"], n), min(now["basic"], n), shareable)
    adv_share = _keep(statistics.share(now["advanced"], n), min(now["advanced"], n), shareable)
    return Headline(
        invited=invited,
        assessed=n,
        response_rate=statistics.share(n, invited),
        basic_count=basic,
        advanced_count=advanced,
        basic_share=basic_share,
        advanced_share=adv_share,
        previous_round=previous.name if previous else None,
        previous_basic_share=prev_basic,
        previous_advanced_share=prev_adv,
        basic_change=(
            round(basic_share - prev_basic, 1)
            if basic_share is not None and prev_basic is not None
            else None
        ),
        advanced_change=(
            round(adv_share - prev_adv, 1)
            if adv_share is not None and prev_adv is not None
            else None
        ),
    )


def _levels(
    subs: QuerySet[Assessment], level_titles: list[tuple[str, str]], shareable: bool, n: int
) -> tuple[tuple[LevelCount, ...], tuple[SizeRow, ...]]:
    overall = {row["level"]: row["c"] for row in subs.values("level").annotate(c=Count("id"))}
    levels = tuple(
        LevelCount(
            code=code,
            title=title,
            count=_keep(overall.get(code, 0), overall.get(code, 0), shareable),
            share=_keep(statistics.share(overall.get(code, 0), n), overall.get(code, 0), shareable),
        )
        for code, title in level_titles
    )
    by_size: dict[str, dict[str, int]] = defaultdict(dict)
    for row in subs.values("firm__size_class", "level").annotate(c=Count("id")):
        by_size[row["firm__size_class"] or ""][row["level"]] = row["c"]
    labels = dict(Firm.SizeClass.choices)
    rows = []
    for size in SIZE_ORDER:
        if size not in by_size:
            continue
        cells = by_size[size]
        total = sum(cells.values())
        rows.append(
            SizeRow(
                size_class=size,
                label=str(labels.get(size, _("Not classified"))),
                total=_keep(total, total, shareable),
                counts=tuple(
                    _keep(cells.get(code, 0), cells.get(code, 0), shareable)
                    for code, _t in level_titles
                ),
            )
        )
    return levels, tuple(rows)


def _support(subs: QuerySet[Assessment], fw: Framework, language: str) -> list[SupportEntry]:
    """Firms one level below a band's level, close on its score gate or missing ≤ 2 gates."""
    codes = [lv.code for lv in fw.levels]
    level_titles = dict(_level_titles(fw, language))
    entries: list[SupportEntry] = []
    said: dict[str, str] = {}

    def describe(condition: Mapping[str, Any], actual: Any) -> str:
        # Many firms lack the same few things: word each (condition, value) once.
        key = json.dumps([condition, actual], sort_keys=True, default=str)
        if key not in said:
            said[key] = wording.describe_condition(
                condition, fw, language, actual, with_actual=True
            )
        return said[key]

    for band, band_title in (("basic", _("basic")), ("advanced", _("advanced"))):
        target = fw.bands.basic if band == "basic" else fw.bands.advanced
        if target not in codes:
            continue
        rank = codes.index(target)
        gate = next((Decimal(str(c["score"])) for c in fw.levels[rank].when if "score" in c), None)
        candidates = subs.filter(level_rank=rank - 1)
        if band == "advanced":
            candidates = candidates.filter(basic=True)
        rows = candidates.values(
            "firm__name", "firm__uscc", "total", "level", "result__next_level"
        ).order_by("-total", "firm__name")
        for row in rows:
            nxt = row["result__next_level"] or {}
            if nxt.get("code") != target:
                continue
            unmet = nxt.get("unmet") or []
            close = (
                gate is not None
                and row["total"] is not None
                and (row["total"] >= gate - SUPPORT_SCORE_MARGIN)
            )
            if not (close or len(unmet) <= SUPPORT_MAX_UNMET):
                continue
            lacks = tuple(describe(u.get("condition", {}), u.get("actual")) for u in unmet)
            entries.append(
                SupportEntry(
                    firm=row["firm__name"],
                    uscc=row["firm__uscc"],
                    total=row["total"],
                    level=level_titles.get(row["level"], row["level"]),
                    band=band,
                    band_title=band_title,
                    target_level=level_titles.get(target, target),
                    unmet_count=len(unmet),
                    lacks=lacks,
                )
            )
    entries.sort(key=lambda e: (e.unmet_count, -(e.total or 0), e.firm))
    return entries


def methodology(version: FrameworkVersion, language: str) -> Methodology:
    """The methodology appendix, generated from the framework version."""
    fw = framework_for(version)
    level_titles = dict(_level_titles(fw, language))

    def band_of(code: str) -> str:
        rank = fw.level_rank(code)
        if rank >= fw.level_rank(fw.bands.advanced):
            return _("advanced")
        if rank >= fw.level_rank(fw.bands.basic):
            return _("basic")
        return ""

    return Methodology(
        framework=text(fw.title, language),
        version=version.version,
        source=_source(fw, version, language),
        dimensions=tuple(
            MethodDimension(
                code=d.code,
                title=text(d.title, language),
                weight=d.weight,
                questions=len(d.questions),
            )
            for d in fw.dimensions
        ),
        levels=tuple(
            MethodLevel(
                code=lv.code,
                title=text(lv.title, language),
                conditions=tuple(wording.describe_condition(c, fw, language) for c in lv.when),
                band=band_of(lv.code),
            )
            for lv in fw.levels
        ),
        basic_level=level_titles.get(fw.bands.basic, ""),
        advanced_level=level_titles.get(fw.bands.advanced, ""),
    )


def cluster_report(round_: Round, *, language: str, shareable: bool = False) -> ClusterReport:
    """Aggregate one round of a cluster into the report's data (call under the job's language)."""
    version = round_.framework_version
    fw = framework_for(version)
    cluster = round_.cluster
    subs = submitted_in([round_.pk])
    headline = _headline(round_, shareable)
    n = headline.assessed
    level_titles = _level_titles(fw, language)
    levels, by_size = _levels(subs, level_titles, shareable, n)

    scores = DimensionScore.objects.filter(assessment__in=subs)
    cluster_spreads = spreads(scores)
    bench_data = benchmark(version)
    bench_spreads = {code: Spread(*values) for code, values in bench_data["spreads"].items()}
    empty = Spread(0, None, None, None, None)
    dimensions = []
    for d in fw.dimensions:
        spread = cluster_spreads.get(d.code, empty)
        if shareable and spread.n < MIN_CELL:
            spread = Spread(spread.n, None, None, None, None)
        dimensions.append(
            DimensionStat(
                code=d.code,
                title=text(d.title, language),
                weight=d.weight,
                cluster=spread,
                benchmark=bench_spreads.get(d.code, empty),
            )
        )

    local = question_stats(QuestionAttainment.objects.filter(assessment__in=subs), fw)
    bench = {code: tuple(v) for code, v in bench_data["questions"].items()}
    dim_titles = {d.code: d.title for d in dimensions}
    questions = []
    for q in fw.questions:
        if meet_threshold(q) is None:
            continue
        qn, met = local.get(q.code, (0, 0))
        bn, bmet = bench.get(q.code, (0, 0))
        questions.append(
            QuestionStat(
                code=q.code,
                dimension=q.dimension,
                dimension_title=dim_titles[q.dimension],
                text=text(q.text, language),
                n=qn,
                met=_keep(met, min(met, qn), shareable),
                share=_keep(statistics.share(met, qn), min(met, qn), shareable),
                benchmark_share=statistics.share(bmet, bn),
            )
        )
    weakest = tuple(
        sorted(
            (q for q in questions if q.share is not None),
            key=lambda q: (q.share, q.code),
        )[:WEAKEST_COUNT]
    )

    mine = homogeneity_by_group(scores, "assessment__round_id", fw).get(round_.pk)
    values = sorted(bench_data["homogeneity"].values(), reverse=True)
    homogeneity = Homogeneity(
        value=_keep(mine, n, shareable),
        benchmark_mean=statistics.mean(values, 3),
        benchmark_min=min(values) if values else None,
        benchmark_max=max(values) if values else None,
        benchmark_groups=len(values),
        rank=statistics.rank(mine, values),
    )

    support = [] if shareable else _support(subs, fw, language)
    if shareable:
        counts = {"basic": 0, "advanced": 0}
        for entry in _support(subs, fw, language):
            counts[entry.band] += 1
        support_basic = _keep(counts["basic"], counts["basic"], True)
        support_advanced = _keep(counts["advanced"], counts["advanced"], True)
    else:
        support_basic = sum(1 for e in support if e.band == "basic")
        support_advanced = sum(1 for e in support if e.band == "advanced")

    return ClusterReport(
        cluster=cluster.name_for(language),
        cluster_slug=cluster.slug,
        region=cluster.region.name_for(language),
        round=round_.name,
        round_id=round_.pk,
        framework=text(fw.title, language),
        framework_version=version.version,
        source=_source(fw, version, language),
        generated_at=timezone.localtime(),
        language=language,
        shareable=shareable,
        headline=headline,
        levels=levels,
        by_size=by_size,
        dimensions=tuple(dimensions),
        questions=tuple(questions),
        weakest=weakest,
        homogeneity=homogeneity,
        support=tuple(support),
        support_basic=support_basic,
        support_advanced=support_advanced,
        methodology=methodology(version, language),
    )


# --- The regional report --------------------------------------------------------------------


def region_report(region: Region, *, language: str, shareable: bool = False) -> RegionReport:
    """Every cluster in the region and its sub-regions, side by side, on its latest round."""
    clusters = list(
        Cluster.objects.filter(region__path__startswith=region.path).select_related("region")
    )
    latest = Round.objects.select_related("framework_version__framework").latest_per_cluster(
        clusters
    )
    round_ids = [r.pk for r in latest.values()]
    subs = submitted_in(round_ids)
    heads = {
        row["round_id"]: row
        for row in subs.values("round_id").annotate(
            n=Count("id"),
            basic=Count("id", filter=Q(basic=True)),
            advanced=Count("id", filter=Q(advanced=True)),
        )
    }
    invited = {
        row["round_id"]: row["c"]
        for row in Invitation.objects.filter(round_id__in=round_ids)
        .values("round_id")
        .annotate(c=Count("id"))
    }
    means: dict[tuple[int, str], tuple[int, Any]] = {
        (row["assessment__round_id"], row["dimension_code"]): (row["n"], row["m"])
        for row in DimensionScore.objects.filter(assessment__in=subs, score__isnull=False)
        .values("assessment__round_id", "dimension_code")
        .annotate(n=Count("id"), m=Avg("score"))
    }
    level_counts: dict[tuple[int, str], int] = {
        (row["round_id"], row["level"]): row["c"]
        for row in subs.values("round_id", "level").annotate(c=Count("id"))
    }
    by_version: dict[int, list[Cluster]] = defaultdict(list)
    versions: dict[int, FrameworkVersion] = {}
    for cluster in clusters:
        r = latest.get(cluster.pk)
        if r is not None:
            by_version[r.framework_version_id].append(cluster)
            versions[r.framework_version_id] = r.framework_version
    groups = []
    for version_id, members in sorted(by_version.items(), key=lambda kv: -len(kv[1])):
        version = versions[version_id]
        fw = framework_for(version)
        dims = [(d.code, text(d.title, language)) for d in fw.dimensions]
        lvls = _level_titles(fw, language)
        rows = []
        for cluster in sorted(members, key=lambda c: (c.region.path, c.slug)):
            r = latest[cluster.pk]
            head = heads.get(r.pk, {"n": 0, "basic": 0, "advanced": 0})
            n = head["n"]
            dim_values = []
            for code, _t in dims:
                dn, m = means.get((r.pk, code), (0, None))
                dim_values.append(_keep(statistics.rounded(m), dn, shareable))
            rows.append(
                RegionClusterRow(
                    cluster=cluster.name_for(language),
                    region=cluster.region.name_for(language),
                    round=r.name,
                    invited=invited.get(r.pk, 0),
                    assessed=n,
                    response_rate=statistics.share(n, invited.get(r.pk, 0)),
                    basic_share=_keep(
                        statistics.share(head["basic"], n), min(head["basic"], n), shareable
                    ),
                    advanced_share=_keep(
                        statistics.share(head["advanced"], n), min(head["advanced"], n), shareable
                    ),
                    dimension_means=tuple(dim_values),
                    level_counts=tuple(
                        _keep(
                            level_counts.get((r.pk, code), 0),
                            level_counts.get((r.pk, code), 0),
                            shareable,
                        )
                        for code, _t in lvls
                    ),
                )
            )
        groups.append(
            RegionGroup(
                framework=text(fw.title, language),
                framework_version=version.version,
                dimensions=tuple(dims),
                levels=tuple(lvls),
                rows=tuple(rows),
            )
        )
    return RegionReport(
        region=region.name_for(language),
        generated_at=timezone.localtime(),
        language=language,
        shareable=shareable,
        groups=tuple(groups),
        clusters_without_round=tuple(c.name_for(language) for c in clusters if c.pk not in latest),
    )
