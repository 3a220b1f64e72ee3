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

from django.db.models import Count, QuerySet
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
from assessments.models import Framework as FrameworkModel
from assessments.versions import framework_for
from clusters.models import Cluster, Firm, Region
from reports.aggregates import (
    NO_BAND_COUNTS,
    BandCounts,
    Spread,
    band_counts,
    homogeneity_by_group,
    meet_threshold,
    question_stats,
    spreads,
    submitted_in,
)
from reports.benchmark import benchmark
from reports.methodology import methodology_notes
from reports.programme import round_verification_block
from reports.round_figures import figures_for

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
    # The latest earlier round of the cluster on the same framework when its version's levels
    # are not declared comparable with this round's (then nothing is compared), else None.
    incomparable_round: str | None = None
    small_sample: bool = False  # fewer than MIN_CELL firms submitted (none included)


@dataclass(frozen=True)
class Change:
    """A round's headline shares set against its comparable previous round."""

    previous_round: str | None
    previous_round_id: int | None
    previous_basic_share: float | None
    previous_advanced_share: float | None
    basic_change: float | None  # percentage points
    advanced_change: float | None
    incomparable_round: str | None  # see Headline.incomparable_round


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
    # The framework's provenance notes, for officials only (reports/methodology.py).
    notes: tuple[str, ...] = ()


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
    # Progress towards the cluster's targets on the round's framework (reports.targets.
    # TargetProgress), and for each target not met the firms that would count next
    # ((TargetProgress, (NextFirm, ...)) pairs; officials' edition only). Filled by the
    # pipeline (reports/rendering.py); the dashboard counts its own.
    targets: tuple[Any, ...] = ()
    targets_next: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    # On-site verification of the round's assessments (issue 13): a
    # reports.programme.VerificationBlock; shown only when an assessment is verified.
    verification: Any = None

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
    cluster_slug: str = ""
    round_id: int = 0
    previous_round: str | None = None  # the comparable previous round, if any
    basic_change: float | None = None  # percentage points against it
    advanced_change: float | None = None
    homogeneity: float | None = None
    small_sample: bool = False  # fewer than MIN_CELL firms submitted: flagged or suppressed


@dataclass(frozen=True)
class RegionGroup:
    """Clusters of a region whose compared round uses the same framework version."""

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
    clusters_without_round: tuple[str, ...]  # no round on the framework (in the period)
    min_cell: int = MIN_CELL
    framework: str = ""  # the framework compared, in the report's language
    framework_slug: str = ""
    year: int | None = None  # the year the compared rounds opened in; None: any year
    targets: tuple[Any, ...] = ()  # the region's reports.targets.TargetProgress on the framework


# --- Helpers --------------------------------------------------------------------------------


def _keep(value: Any, n: int | None, shareable: bool) -> Any:
    """The value, or None when the shareable variant suppresses a cell of fewer than 5 firms."""
    if shareable and (n is None or n < MIN_CELL):
        return None
    return value


def is_small_sample(n: int | None) -> bool:
    """True when a figure is drawn from fewer than MIN_CELL firms (or from none)."""
    return n is None or n < MIN_CELL


def round_submitted(round_: Round) -> int:
    """The number of submitted assessments in the round."""
    return band_counts([round_.pk]).get(round_.pk, NO_BAND_COUNTS).n


def _level_titles(fw: Framework, language: str) -> list[tuple[str, str]]:
    """(code, title) of every level, lowest first, after "" for below the first level."""
    titles = [(lv.code, text(lv.title, language)) for lv in fw.levels]
    return [("", _("Below the first level"))] + titles


def _source(fw: Framework, version: FrameworkVersion, language: str) -> str:
    """The published standard the framework follows, as reports cite it."""
    return text(fw.source, language) if fw.source else version.source or ""


# --- The cluster report ---------------------------------------------------------------------


def _shares(counts: BandCounts, shareable: bool) -> tuple[float | None, float | None]:
    """The basic and advanced shares (percent of submitted), each suppressed in the shareable
    edition when it rests on fewer than MIN_CELL firms."""
    n = counts.n
    return (
        _keep(statistics.share(counts.basic, n), min(counts.basic, n), shareable),
        _keep(statistics.share(counts.advanced, n), min(counts.advanced, n), shareable),
    )


def _difference(now: float | None, before: float | None) -> float | None:
    return round(now - before, 1) if now is not None and before is not None else None


def _change(
    now: BandCounts,
    previous: Round | None,
    before: BandCounts | None,
    incomparable: Round | None,
    shareable: bool,
) -> Change:
    basic, advanced = _shares(now, shareable)
    prev_basic = prev_adv = None
    if previous is not None:
        prev_basic, prev_adv = _shares(before or NO_BAND_COUNTS, shareable)
    return Change(
        previous_round=previous.name if previous else None,
        previous_round_id=previous.pk if previous else None,
        previous_basic_share=prev_basic,
        previous_advanced_share=prev_adv,
        basic_change=_difference(basic, prev_basic),
        advanced_change=_difference(advanced, prev_adv),
        incomparable_round=incomparable.name if incomparable else None,
    )


def _incomparable(round_: Round, previous: Round | None) -> Round | None:
    """The latest earlier round on the same framework when it is not `previous` (so its
    version's levels are not declared comparable with this round's)."""
    latest = Round.objects.previous_of(round_)
    if latest is None or (previous is not None and latest.opens_at <= previous.opens_at):
        return None
    return latest


def change_against_previous(round_: Round, *, shareable: bool = False) -> Change:
    """The round's basic and advanced shares against its comparable previous round
    (`Round.objects.comparable_previous_of`): the one "change" every report and page shows."""
    previous = Round.objects.comparable_previous_of(round_)
    counts = band_counts([round_.pk] + ([previous.pk] if previous else []))
    return _change(
        counts.get(round_.pk, NO_BAND_COUNTS),
        previous,
        counts.get(previous.pk) if previous else None,
        _incomparable(round_, previous),
        shareable,
    )


def _headline(round_: Round, shareable: bool) -> Headline:
    now = band_counts([round_.pk]).get(round_.pk, NO_BAND_COUNTS)
    invited = Invitation.objects.filter(round=round_).count()
    n = now.n
    basic = _keep(now.basic, min(now.basic, n), shareable)
    advanced = _keep(now.advanced, min(now.advanced, n), shareable)
    basic_share, adv_share = _shares(now, shareable)
    change = change_against_previous(round_, shareable=shareable)
    return Headline(
        invited=invited,
        assessed=n,
        response_rate=statistics.share(n, invited),
        basic_count=basic,
        advanced_count=advanced,
        basic_share=basic_share,
        advanced_share=adv_share,
        previous_round=change.previous_round,
        previous_basic_share=change.previous_basic_share,
        previous_advanced_share=change.previous_advanced_share,
        basic_change=change.basic_change,
        advanced_change=change.advanced_change,
        incomparable_round=change.incomparable_round,
        small_sample=is_small_sample(n),
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
        notes=methodology_notes(version, language),
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
        verification=round_verification_block(
            round_.pk, fw, language=language, shareable=shareable
        ),
    )


# --- The regional report --------------------------------------------------------------------


def region_clusters(region: Region) -> QuerySet[Cluster]:
    """The clusters of the region and its sub-regions, with their region loaded."""
    return (
        Cluster.objects.filter(region__path__startswith=region.path)
        .select_related("region")
        .order_by("region__path", "slug")
    )


def region_frameworks(region: Region) -> list[tuple[FrameworkModel, int]]:
    """The frameworks that the region's clusters have rounds on, with their number of submitted
    assessments there, most submissions first (then by slug)."""
    rounds = Round.objects.filter(cluster__region__path__startswith=region.path)
    # Counted by the round's framework (an assessment is on its round's version): the round
    # id is in the `assessment_round_fingerprint` index, the version would be a heap read.
    counts = dict(
        Assessment.objects.submitted()
        .filter(round__in=rounds)
        .values("round__framework_version__framework_id")
        .annotate(c=Count("id"))
        .order_by()
        .values_list("round__framework_version__framework_id", "c")
    )
    frameworks = FrameworkModel.objects.filter(versions__rounds__in=rounds).distinct()
    return sorted(
        ((f, counts.get(f.pk, 0)) for f in frameworks), key=lambda fc: (-fc[1], fc[0].slug)
    )


def region_default_framework(region: Region) -> FrameworkModel | None:
    """The framework with the most submitted assessments in the region (None: no rounds)."""
    choices = region_frameworks(region)
    return choices[0][0] if choices else None


def region_rounds(
    region: Region, framework: FrameworkModel, year: int | None = None
) -> dict[int, Round]:
    """{cluster id: the round compared}: per cluster of the region, its latest round on the
    framework (opened in `year`, if given) that has a submission or is closed."""
    rounds = (
        Round.objects.filter(
            cluster__region__path__startswith=region.path,
            framework_version__framework=framework,
        )
        .reportable()
        .select_related("framework_version__framework")
        # Every round carries the same few versions: their definitions (the whole framework,
        # parsed once per version by framework_for) are not read for each of hundreds of rows.
        .defer("framework_version__definition")
    )
    if year is not None:
        rounds = rounds.filter(opens_at__year=year)
    latest: dict[int, Round] = {}
    for r in rounds.order_by("cluster_id", "-opens_at", "-id"):
        latest.setdefault(r.cluster_id, r)
    return latest


def _comparable_previous(rounds: list[Round]) -> dict[int, tuple[Round | None, Round | None]]:
    """{round id: (its comparable previous round, an incomparable later one)} for many rounds
    of different clusters at once, as `comparable_previous_of` and `_incomparable` decide."""
    if not rounds:
        return {}
    comparable: dict[int, set[int]] = {}
    for r in rounds:
        if r.framework_version_id not in comparable:
            comparable[r.framework_version_id] = r.framework_version.comparable_version_ids()
    frameworks = {r.framework_version.framework_id for r in rounds}
    earlier: dict[int, list[Round]] = defaultdict(list)
    for r in (
        Round.objects.filter(
            cluster_id__in={r.cluster_id for r in rounds},
            framework_version__framework_id__in=frameworks,
        )
        .select_related("framework_version")
        .defer("framework_version__definition")
        .newest_first()
    ):
        earlier[r.cluster_id].append(r)
    out: dict[int, tuple[Round | None, Round | None]] = {}
    for r in rounds:
        before = [
            e
            for e in earlier[r.cluster_id]
            if e.opens_at < r.opens_at
            and e.framework_version.framework_id == r.framework_version.framework_id
        ]
        ok = comparable[r.framework_version_id]
        previous = next((e for e in before if e.framework_version_id in ok), None)
        latest = before[0] if before else None
        incomparable = latest if latest is not None and latest is not previous else None
        if incomparable is not None and previous is not None:
            incomparable = incomparable if incomparable.opens_at > previous.opens_at else None
        out[r.pk] = (previous, incomparable)
    return out


def region_report(
    region: Region,
    *,
    language: str,
    shareable: bool = False,
    framework: FrameworkModel | None = None,
    year: int | None = None,
) -> RegionReport:
    """The clusters of the region and its sub-regions side by side on one framework: each on
    its latest round on it (in the year, if given) with a submission or closed. Without a
    framework, the one with the most submissions in the region."""
    clusters = list(region_clusters(region))
    framework = framework or region_default_framework(region)
    latest = region_rounds(region, framework, year) if framework is not None else {}
    previous = _comparable_previous(list(latest.values()))
    # Each round's figures, stored while the round is unchanged (reports/round_figures.py).
    figures = figures_for([*latest.values(), *(p for p, _i in previous.values() if p is not None)])
    heads = {pk: f.heads for pk, f in figures.items()}
    by_version: dict[int, list[Cluster]] = defaultdict(list)
    versions: dict[int, FrameworkVersion] = {}
    for cluster in clusters:
        r = latest.get(cluster.pk)
        if r is not None:
            by_version[r.framework_version_id].append(cluster)
            versions[r.framework_version_id] = r.framework_version
    groups = []
    for version_id, members in sorted(by_version.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        version = versions[version_id]
        fw = framework_for(version)
        dims = [(d.code, text(d.title, language)) for d in fw.dimensions]
        lvls = _level_titles(fw, language)
        rows = []
        for cluster in members:
            r = latest[cluster.pk]
            of_round = figures[r.pk]
            head = of_round.heads
            n = head.n
            dim_values = []
            for code, _t in dims:
                dn, m = of_round.means.get(code, (0, None))
                dim_values.append(_keep(statistics.rounded(m), dn, shareable))
            prev, incomparable = previous.get(r.pk, (None, None))
            change = _change(
                head, prev, heads.get(prev.pk) if prev else None, incomparable, shareable
            )
            basic_share, advanced_share = _shares(head, shareable)
            rows.append(
                RegionClusterRow(
                    cluster=cluster.name_for(language),
                    region=cluster.region.name_for(language),
                    round=r.name,
                    invited=of_round.invited,
                    assessed=n,
                    response_rate=statistics.share(n, of_round.invited),
                    basic_share=basic_share,
                    advanced_share=advanced_share,
                    dimension_means=tuple(dim_values),
                    level_counts=tuple(
                        _keep(of_round.levels.get(code, 0), of_round.levels.get(code, 0), shareable)
                        for code, _t in lvls
                    ),
                    cluster_slug=cluster.slug,
                    round_id=r.pk,
                    previous_round=change.previous_round,
                    basic_change=change.basic_change,
                    advanced_change=change.advanced_change,
                    homogeneity=_keep(of_round.homogeneity, n, shareable),
                    small_sample=is_small_sample(n),
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
        framework=str(framework_title(framework, language)) if framework else "",
        framework_slug=framework.slug if framework else "",
        year=year,
    )


def framework_title(framework: FrameworkModel, language: str) -> str:
    """A framework's title in the language (its slug when it has none)."""
    return text(framework.title, language) or framework.slug
