"""Turning stored results into report data: plain frozen dataclasses, aggregated by the database.

Every figure is computed with GROUP BY queries (Count, Avg, conditional aggregation and
window functions) over `Assessment`, `DimensionScore` and `QuestionAttainment`; Python only
loops over the small grouped rows, never over every answer of every firm. The same queries
run on SQLite (3.25+, for window functions) and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, FloatField, Max, Q, QuerySet, Window
from django.db.models.functions import Cast, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import wording
from assessments.framework import Framework, Question, text
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

# Cells drawn from fewer firms than this are suppressed in the shareable variant.
MIN_CELL = 5
# How close to the band's score gate a firm must be to count as "within reach".
SUPPORT_SCORE_MARGIN = Decimal(10)
# ... or how few gate conditions it may miss.
SUPPORT_MAX_UNMET = 2
SUPPORT_PDF_LIMIT = 50
WEAKEST_COUNT = 10
# A scored question is "met" from half its points on; a level question from the middle of its scale.
MEET_SHARE = Decimal("0.5")
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
class Spread:
    """Mean and quartiles of one dimension's scores over a set of firms."""

    n: int
    mean: float | None
    q1: float | None
    median: float | None
    q3: float | None


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


@dataclass(frozen=True)
class FirmRow:
    """One firm in the XLSX annex."""

    uscc: str
    firm: str
    size_class: str
    total: Decimal | None
    level: str
    basic: bool | None
    advanced: bool | None
    dimensions: tuple[Decimal | None, ...]
    submitted_at: Any


# --- Helpers --------------------------------------------------------------------------------


def _pct(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def _f(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _keep(value: Any, n: int | None, shareable: bool) -> Any:
    """The value, or None when the shareable variant suppresses a cell of fewer than 5 firms."""
    if shareable and (n is None or n < MIN_CELL):
        return None
    return value


def _submitted_in(round_ids: Iterable[int]) -> QuerySet[Assessment]:
    return Assessment.objects.submitted().filter(round_id__in=list(round_ids))


def _level_titles(fw: Framework, language: str) -> list[tuple[str, str]]:
    """(code, title) of every level, lowest first, after "" for below the first level."""
    titles = [(lv.code, text(lv.title, language)) for lv in fw.levels]
    return [("", _("Below the first level"))] + titles


def _source(fw: Framework, version: FrameworkVersion, language: str) -> str:
    """The published standard the framework follows, as reports cite it."""
    return text(fw.source, language) if fw.source else version.source or ""


def _meet_threshold(question: Question) -> Decimal | None:
    """The attainment from which a firm meets a question; None for text questions."""
    if question.type == "text":
        return None
    if question.type == "level":
        values = sorted(Decimal(c.value) for c in question.levels)
        if not values:
            return None
        middle = (values[0] + values[-1]) / 2
        return next(v for v in values if v >= middle)
    return MEET_SHARE


# --- Quantiles, portable --------------------------------------------------------------------


def _positions(n: int) -> dict[str, tuple[int, int, float]]:
    """1-based row numbers and weight for each quartile (linear interpolation, percentile_cont)."""
    out = {}
    for name, p in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
        h = p * (n - 1)
        lo = math.floor(h)
        out[name] = (lo + 1, min(lo + 2, n), h - lo)
    return out


def _spreads(scores: QuerySet[DimensionScore]) -> dict[str, Spread]:
    """Mean and quartiles per dimension: one GROUP BY and one window query, any backend."""
    scores = scores.filter(score__isnull=False)
    stats = {
        row["dimension_code"]: row
        for row in scores.values("dimension_code").annotate(n=Count("id"), mean=Avg("score"))
    }
    wanted: dict[str, dict[str, tuple[int, int, float]]] = {
        code: _positions(row["n"]) for code, row in stats.items() if row["n"]
    }
    numbers = sorted(
        {p for pos in wanted.values() for lo, hi, _w in pos.values() for p in (lo, hi)}
    )
    values: dict[tuple[str, int], float] = {}
    if numbers:
        ranked = scores.annotate(
            rn=Window(RowNumber(), partition_by=[F("dimension_code")], order_by=F("score").asc())
        ).values_list("dimension_code", "rn", "score")
        for code, rn, score in ranked.filter(rn__in=numbers):
            values[(code, rn)] = float(score)
    out = {}
    for code, row in stats.items():
        quart: dict[str, float | None] = {}
        for name, (lo, hi, w) in wanted.get(code, {}).items():
            a, b = values.get((code, lo)), values.get((code, hi))
            quart[name] = None if a is None or b is None else round(a + (b - a) * w, 1)
        out[code] = Spread(
            n=row["n"],
            mean=_f(row["mean"]),
            q1=quart.get("q1"),
            median=quart.get("median"),
            q3=quart.get("q3"),
        )
    return out


def _homogeneity_by_group(
    scores: QuerySet[DimensionScore], group: str, fw: Framework
) -> dict[Any, float]:
    """1 − mean over the weighted dimensions of (standard deviation / 50), per group, from SQL
    moments."""
    weighted = [d.code for d in fw.dimensions if d.weight > 0]
    rows = (
        scores.filter(score__isnull=False, dimension_code__in=weighted)
        .annotate(s=Cast("score", FloatField()))
        .values(group, "dimension_code")
        .annotate(n=Count("id"), m=Avg("s"), m2=Avg(F("s") * F("s")))
    )
    per_group: dict[Any, list[float]] = defaultdict(list)
    sizes: dict[Any, int] = defaultdict(int)
    for row in rows:
        variance = max(0.0, (row["m2"] or 0.0) - (row["m"] or 0.0) ** 2)
        per_group[row[group]].append(math.sqrt(variance) / 50.0)
        sizes[row[group]] = max(sizes[row[group]], row["n"])
    return {
        g: round(1.0 - sum(sds) / len(sds), 3)
        for g, sds in per_group.items()
        if sds and sizes[g] >= 2
    }


# --- The cluster report ---------------------------------------------------------------------


def _headline(round_: Round, shareable: bool) -> Headline:
    def counts(r: Round) -> dict[str, int]:
        return _submitted_in([r.pk]).aggregate(
            n=Count("id"),
            basic=Count("id", filter=Q(basic=True)),
            advanced=Count("id", filter=Q(advanced=True)),
        )

    now = counts(round_)
    invited = Invitation.objects.filter(round=round_).count()
    n = now["n"]
    basic = _keep(now["basic"], min(now["basic"], n), shareable)
    advanced = _keep(now["advanced"], min(now["advanced"], n), shareable)
    previous = (
        Round.objects.filter(cluster_id=round_.cluster_id, opens_at__lt=round_.opens_at)
        .order_by("-opens_at", "-id")
        .first()
    )
    prev_basic = prev_adv = None
    if previous is not None:
        before = counts(previous)
        prev_basic = _keep(
            _pct(before["basic"], before["n"]), min(before["basic"], before["n"]), shareable
        )
        prev_adv = _keep(
            _pct(before["advanced"], before["n"]), min(before["advanced"], before["n"]), shareable
        )
    basic_share = _keep(_pct(now["basic"], n), min(now["basic"], n), shareable)
    adv_share = _keep(_pct(now["advanced"], n), min(now["advanced"], n), shareable)
    return Headline(
        invited=invited,
        assessed=n,
        response_rate=_pct(n, invited),
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
            share=_keep(_pct(overall.get(code, 0), n), overall.get(code, 0), shareable),
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


def _question_stats(
    attainments: QuerySet[QuestionAttainment], fw: Framework
) -> dict[str, tuple[int, int]]:
    """(firms answering, firms meeting) per question, in one conditional GROUP BY."""
    # Scored questions store their points and are met from half of them; level questions
    # (points NULL) are grouped by threshold so the filter stays a few terms long.
    by_threshold: dict[Decimal, list[str]] = defaultdict(list)
    scored = False
    for q in fw.questions:
        threshold = _meet_threshold(q)
        if threshold is None:
            continue
        if q.type == "level":
            by_threshold[threshold].append(q.code)
        else:
            scored = True
    meets = Q(attainment__lt=0, attainment__gt=0)  # nothing, unless a term below applies
    if scored:
        meets |= Q(points__isnull=False, attainment__gte=MEET_SHARE)
    for threshold, codes in by_threshold.items():
        meets |= Q(points__isnull=True, question_code__in=codes, attainment__gte=threshold)
    return {
        row["question_code"]: (row["n"], row["met"])
        for row in attainments.values("question_code").annotate(
            n=Count("id"), met=Count("id", filter=meets)
        )
    }


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


BENCHMARK_FORMAT = "1"


def _benchmark_key(version: FrameworkVersion) -> str:
    stats = (
        Assessment.objects.submitted()
        .filter(framework_version=version)
        .aggregate(n=Count("id"), last=Max("id"), sub=Max("submitted_at"), upd=Max("updated_at"))
    )
    raw = json.dumps([BENCHMARK_FORMAT, version.content_hash, stats], default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def benchmark(version: FrameworkVersion) -> dict[str, Any]:
    """Aggregates over every submitted assessment of the version, recomputed only when they
    change: {"spreads": {dim: [n, mean, q1, median, q3]}, "questions": {code: [n, met]},
    "homogeneity": {round id: value}}."""
    from reports.models import BenchmarkSnapshot

    key = _benchmark_key(version)
    snapshot = BenchmarkSnapshot.objects.filter(framework_version=version).first()
    if snapshot is not None and snapshot.key == key:
        return snapshot.data
    fw = framework_for(version)
    subs = Assessment.objects.submitted().filter(framework_version=version)
    scores = DimensionScore.objects.filter(
        assessment__status=Assessment.Status.SUBMITTED, assessment__framework_version=version
    )
    data = {
        "spreads": {
            code: [sp.n, sp.mean, sp.q1, sp.median, sp.q3] for code, sp in _spreads(scores).items()
        },
        "questions": {
            code: list(v)
            for code, v in _question_stats(
                QuestionAttainment.objects.filter(assessment__in=subs), fw
            ).items()
        },
        "homogeneity": {
            str(k): v for k, v in _homogeneity_by_group(scores, "assessment__round_id", fw).items()
        },
    }
    BenchmarkSnapshot.objects.update_or_create(
        framework_version=version, defaults={"key": key, "data": data}
    )
    return data


def cluster_report(round_: Round, *, language: str, shareable: bool = False) -> ClusterReport:
    """Aggregate one round of a cluster into the report's data (call under the job's language)."""
    version = round_.framework_version
    fw = framework_for(version)
    cluster = round_.cluster
    subs = _submitted_in([round_.pk])
    headline = _headline(round_, shareable)
    n = headline.assessed
    level_titles = _level_titles(fw, language)
    levels, by_size = _levels(subs, level_titles, shareable, n)

    scores = DimensionScore.objects.filter(assessment__in=subs)
    cluster_spreads = _spreads(scores)
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

    local = _question_stats(QuestionAttainment.objects.filter(assessment__in=subs), fw)
    bench = {code: tuple(v) for code, v in bench_data["questions"].items()}
    dim_titles = {d.code: d.title for d in dimensions}
    questions = []
    for q in fw.questions:
        if _meet_threshold(q) is None:
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
                share=_keep(_pct(met, qn), min(met, qn), shareable),
                benchmark_share=_pct(bmet, bn),
            )
        )
    weakest = tuple(
        sorted(
            (q for q in questions if q.share is not None),
            key=lambda q: (q.share, q.code),
        )[:WEAKEST_COUNT]
    )

    mine = _homogeneity_by_group(scores, "assessment__round_id", fw).get(round_.pk)
    groups = {int(k): v for k, v in bench_data["homogeneity"].items()}
    values = sorted(groups.values(), reverse=True)
    homogeneity = Homogeneity(
        value=_keep(mine, n, shareable),
        benchmark_mean=round(sum(values) / len(values), 3) if values else None,
        benchmark_min=min(values) if values else None,
        benchmark_max=max(values) if values else None,
        benchmark_groups=len(values),
        rank=(values.index(mine) + 1) if mine is not None and mine in values else None,
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
        cluster=cluster.name_en if language == "en" and cluster.name_en else cluster.name_zh,
        cluster_slug=cluster.slug,
        region=_region_name(cluster.region, language),
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


def _region_name(region: Region, language: str) -> str:
    return region.name_en if language == "en" and region.name_en else region.name_zh


def _cluster_name(cluster: Cluster, language: str) -> str:
    return cluster.name_en if language == "en" and cluster.name_en else cluster.name_zh


# --- The regional report --------------------------------------------------------------------


def latest_round(cluster: Cluster) -> Round | None:
    """The cluster's most recent round, or None."""
    return Round.objects.filter(cluster=cluster).order_by("-opens_at", "-id").first()


def region_report(region: Region, *, language: str, shareable: bool = False) -> RegionReport:
    """Every cluster in the region and its sub-regions, side by side, on its latest round."""
    clusters = list(
        Cluster.objects.filter(region__path__startswith=region.path).select_related("region")
    )
    latest: dict[int, Round] = {}
    for r in (
        Round.objects.filter(cluster__in=clusters)
        .select_related("framework_version__framework")
        .order_by("cluster_id", "-opens_at", "-id")
    ):
        latest.setdefault(r.cluster_id, r)
    round_ids = [r.pk for r in latest.values()]
    subs = _submitted_in(round_ids)
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
                dim_values.append(_keep(_f(m), dn, shareable))
            rows.append(
                RegionClusterRow(
                    cluster=_cluster_name(cluster, language),
                    region=_region_name(cluster.region, language),
                    round=r.name,
                    invited=invited.get(r.pk, 0),
                    assessed=n,
                    response_rate=_pct(n, invited.get(r.pk, 0)),
                    basic_share=_keep(_pct(head["basic"], n), min(head["basic"], n), shareable),
                    advanced_share=_keep(
                        _pct(head["advanced"], n), min(head["advanced"], n), shareable
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
        region=_region_name(region, language),
        generated_at=timezone.localtime(),
        language=language,
        shareable=shareable,
        groups=tuple(groups),
        clusters_without_round=tuple(
            _cluster_name(c, language) for c in clusters if c.pk not in latest
        ),
    )


# --- Per-firm rows (XLSX annex and export_results) ------------------------------------------


def dimension_codes(version: FrameworkVersion) -> list[str]:
    """The framework version's dimension codes, in file order."""
    return [d.code for d in framework_for(version).dimensions]


def firm_rows(round_: Round, *, chunk: int = 2000) -> Iterable[FirmRow]:
    """One row per submitted assessment of the round, streamed in chunks (no per-answer loop)."""
    codes = dimension_codes(round_.framework_version)
    subs = (
        _submitted_in([round_.pk])
        .order_by("firm__name", "id")
        .values_list(
            "id",
            "firm__uscc",
            "firm__name",
            "firm__size_class",
            "total",
            "level",
            "basic",
            "advanced",
            "submitted_at",
        )
    )
    rows = list(subs)
    # Rows are few columns; fetch dimension scores per chunk of assessments.
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        scores: dict[tuple[int, str], Decimal | None] = {
            (a, c): s
            for a, c, s in DimensionScore.objects.filter(
                assessment_id__in=[r[0] for r in part]
            ).values_list("assessment_id", "dimension_code", "score")
        }
        for r in part:
            yield FirmRow(
                uscc=r[1],
                firm=r[2],
                size_class=r[3],
                total=r[4],
                level=r[5],
                basic=r[6],
                advanced=r[7],
                dimensions=tuple(scores.get((r[0], c)) for c in codes),
                submitted_at=r[8],
            )


def firm_values(
    round_: Round,
) -> tuple[list[tuple[Any, ...]], dict[int, dict[str, float | None]]]:
    """Per-firm rows as floats, for the XLSX annex: (id, uscc, name, size, total, level, basic,
    advanced, submitted_at) ordered by name, and {assessment id: {dimension: score}}."""
    subs = _submitted_in([round_.pk])
    rows = list(
        subs.order_by("firm__name", "id").values_list(
            "id",
            "firm__uscc",
            "firm__name",
            "firm__size_class",
            Cast("total", FloatField()),
            "level",
            "basic",
            "advanced",
            "submitted_at",
        )
    )
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for a, code, score in (
        DimensionScore.objects.filter(assessment__in=subs)
        .values_list("assessment_id", "dimension_code", Cast("score", FloatField()))
        .iterator(chunk_size=20000)
    ):
        scores[a][code] = score
    return rows, scores


def attainment_values(round_: Round) -> Iterable[tuple[int, dict[str, float]]]:
    """(assessment id, {question: attainment}) per submitted assessment, in id order, streamed."""
    rows = (
        QuestionAttainment.objects.filter(assessment__in=_submitted_in([round_.pk]))
        .order_by("assessment_id")
        .values_list("assessment_id", "question_code", Cast("attainment", FloatField()))
        .iterator(chunk_size=20000)
    )
    current: int | None = None
    values: dict[str, float] = {}
    for assessment_id, code, attainment in rows:
        if assessment_id != current:
            if current is not None:
                yield current, values
            current, values = assessment_id, {}
        values[code] = attainment
    if current is not None:
        yield current, values
