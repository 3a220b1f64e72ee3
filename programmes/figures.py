"""The programme's figures (issue 13): firms by stage, before/after transitions, progress
against the target, the questions that moved, provider scorecards, and how on-site
verifications agree with self-reports.

Two layers. The arithmetic is plain functions over plain rows (`ProjectRow`, `LevelPair`),
no ORM; the query layer above them reads a programme's projects, their assessments'
stored levels and verifications, their stage changes and ratings, or a round's submitted
assessments, in a fixed number of queries whatever the number of projects or firms. The
programme report (reports/programme.py), the cluster report, its XLSX annex and the dashboard
all read these functions, so their numbers agree.

Decisions, stated once:
- **Levels compared.** Levels are compared as ranks of the programme's framework version (the
  baseline and acceptance of a project are on that version; services check it). An
  assessment's level is its **verified** level when its on-site Verification is completed,
  else its self-reported level. Every before/after figure says which: a transition cell
  counts its firms by basis (both levels verified, one verified, none verified), and the
  report shows a second matrix on self-reported levels only, so the two can be compared.
- **Transitions, gains, target share** count accepted projects with both assessments linked.
- **Time to acceptance** runs from the project's contract (its first stage change into
  "contracted"; the first recorded stage change when it skipped that stage) to its first stage
  change into "accepted", in whole days.
- **Questions that moved**: a firm's question moved when its attainment at acceptance is above
  its attainment at baseline (verified attainment where the verification is completed).
- **Verification agreement** compares, for each assessment whose verification is completed,
  the self-reported level rank with the verified one: equal (agreement), above (the
  self-report overstates) or below. The two level distributions are drawn over the same
  verified assessments, so that they compare like with like.
- **Small samples.** Every figure carries the number of projects or assessments it rests on
  (`n`); figures from fewer than MIN_SAMPLE are flagged (`small`) and, in the shareable
  edition, suppressed (`value` None), as the cluster report does for its cells.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Any

from django.db.models import Count, Max, Min, Q

from assessments.models import Assessment, QuestionAttainment
from programmes.models import Programme, RetrofitProject, StageChange, Verification

# Figures drawn from fewer projects or assessments than this are flagged, and suppressed in
# the shareable edition (reports/context.py MIN_CELL is the same number for firms).
MIN_SAMPLE = 5
Stage = RetrofitProject.Stage
STAGE_ORDER: tuple[str, ...] = tuple(Stage.values)
COMPLETED = Verification.Status.COMPLETED


# --- Plain data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure with the number of projects or assessments it rests on.

    `value` is None when there is nothing to compute it from, or when the shareable edition
    suppresses it (then `suppressed` is True)."""

    value: Any
    n: int
    small: bool
    suppressed: bool = False


def figure(value: Any, n: int, *, shareable: bool = False, basis: int | None = None) -> Figure:
    """A Figure of `value` from `n`; `basis` (default `n`) is the count that decides whether it
    is small: the cluster report's rule suppresses a share whose numerator is small, too."""
    small = (n if basis is None else basis) < MIN_SAMPLE
    if value is None:
        return Figure(None, n, small)
    if shareable and small:
        return Figure(None, n, small, suppressed=True)
    return Figure(value, n, small)


@dataclass(frozen=True)
class ProjectRow:
    """One project with what its figures need (levels as ranks, -1 below the first level)."""

    project_id: int
    firm_id: int
    firm: str
    uscc: str
    provider_id: int
    provider: str
    stage: str
    title: str = ""
    targeted: tuple[str, ...] = ()
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    budget: Decimal | None = None
    subsidy: Decimal | None = None
    baseline_id: int | None = None
    baseline_rank: int | None = None  # self-reported
    baseline_verified_rank: int | None = None  # None unless its verification is completed
    acceptance_id: int | None = None
    acceptance_rank: int | None = None
    acceptance_verified_rank: int | None = None
    contracted_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    rating: int | None = None

    @property
    def is_accepted(self) -> bool:
        return self.stage == Stage.ACCEPTED

    @property
    def compared(self) -> bool:
        """Accepted with both levels known: the project counts in before/after figures."""
        return (
            self.is_accepted
            and self.baseline_best_rank is not None
            and self.acceptance_best_rank is not None
        )

    @property
    def baseline_best_rank(self) -> int | None:
        """The baseline's verified rank where verified, else its self-reported rank."""
        return _best(self.baseline_rank, self.baseline_verified_rank, self.baseline_id)

    @property
    def acceptance_best_rank(self) -> int | None:
        """The acceptance's verified rank where verified, else its self-reported rank."""
        return _best(self.acceptance_rank, self.acceptance_verified_rank, self.acceptance_id)

    @property
    def gain(self) -> int | None:
        """Acceptance rank minus baseline rank (verified where available), accepted only."""
        if not self.compared:
            return None
        return _known(self.acceptance_best_rank) - _known(self.baseline_best_rank)

    @property
    def basis(self) -> str:
        """ "verified" (both levels verified), "mixed" (one) or "self" (none)."""
        verified = (self.baseline_verified_rank is not None) + (
            self.acceptance_verified_rank is not None
        )
        return ("self", "mixed", "verified")[verified]

    @property
    def days_to_acceptance(self) -> int | None:
        """Whole days from the contract to the acceptance (None until accepted)."""
        if not self.is_accepted or self.contracted_at is None or self.accepted_at is None:
            return None
        return max(0, (self.accepted_at - self.contracted_at).days)


def _known(rank: int | None) -> int:
    """A rank known to be there (the caller has checked `compared`)."""
    if rank is None:
        raise ValueError("no level to compare")
    return rank


def _best(
    self_rank: int | None, verified_rank: int | None, assessment_id: int | None
) -> int | None:
    if assessment_id is None:
        return None
    return verified_rank if verified_rank is not None else self_rank


@dataclass(frozen=True)
class StageCount:
    stage: str
    count: int


@dataclass(frozen=True)
class TransitionCell:
    """Firms that went from `before` to `after` (level ranks), counted by basis."""

    before: int
    after: int
    count: int
    verified: int  # both levels verified
    self_reported: int  # neither verified

    @property
    def mixed(self) -> int:
        return self.count - self.verified - self.self_reported


@dataclass(frozen=True)
class Transition:
    """The baseline level × acceptance level matrix over accepted projects.

    `ranks` lists every level rank of the framework, lowest (-1, below the first) first;
    `cells` holds only the pairs with firms (look them up with `count`)."""

    ranks: tuple[int, ...]
    cells: tuple[TransitionCell, ...]
    n: int
    verified: int  # firms whose both levels are verified
    self_reported: int  # firms with no level verified
    up: int
    same: int
    down: int
    basis: str  # "best" (verified where available) or "self"

    def cell(self, before: int, after: int) -> TransitionCell | None:
        return next((c for c in self.cells if c.before == before and c.after == after), None)

    def count(self, before: int, after: int) -> int:
        found = self.cell(before, after)
        return found.count if found else 0


@dataclass(frozen=True)
class TargetFigures:
    """The programme's target: `target_firms` firms at `target_rank` or above by a date."""

    target_rank: int
    target_firms: int
    target_date: dt.date | None
    compared: Figure  # accepted projects with both levels (the share's base)
    reached: Figure  # of those, at the target rank or above after the retrofit
    share: Figure  # percent of compared
    baseline_reached: Figure  # of the compared, at the target already at baseline
    progress: float | None  # percent of target_firms reached (the count is never suppressed)
    remaining: int  # firms still to reach the target
    days_left: int | None  # until target_date (negative: past)


@dataclass(frozen=True)
class QuestionMove:
    """One question: firms whose attainment rose, among those targeting it and among all."""

    code: str
    targeted_n: int
    targeted_rose: int
    all_n: int
    all_rose: int


@dataclass(frozen=True)
class Scorecard:
    """One provider's outcomes in the programme, each figure with its sample size."""

    provider_id: int
    provider: str
    projects: int
    accepted: Figure  # count of accepted projects (n = projects)
    accepted_share: Figure  # percent of projects
    abandoned: int
    days_median: Figure  # n = accepted projects with both dates
    days_mean: Figure
    gain_mean: Figure  # level ranks, n = compared projects
    gain_verified: int  # of those, how many rest on verified levels at both ends
    rating_mean: Figure  # 1–5, n = ratings
    small: bool  # fewer than MIN_SAMPLE projects


@dataclass(frozen=True)
class LevelPair:
    """A group of assessments with the same self-reported and verified level ranks.

    `verified_rank` is None for assessments without a completed verification."""

    self_rank: int
    verified_rank: int | None
    count: int = 1


@dataclass(frozen=True)
class LevelDistributionRow:
    rank: int
    self_reported: Figure  # verified assessments with this self-reported level
    verified: Figure  # verified assessments with this verified level


@dataclass(frozen=True)
class VerificationFigures:
    """How many submitted assessments were verified on site, and how far self-reports agree."""

    submitted: int
    verified: int
    share_verified: Figure  # percent of submitted
    distribution: tuple[LevelDistributionRow, ...]
    exact: Figure  # share (%) of verified assessments whose levels agree
    overstated: Figure  # share (%) where the self-report is higher
    understated: Figure  # share (%) where the self-report is lower
    overstated_count: Figure
    mean_overstatement: Figure  # level ranks, over the overstated assessments
    max_overstatement: Figure  # level ranks
    small: bool

    @property
    def any_verified(self) -> bool:
        """Whether there is anything to show (nothing is drawn from no verification)."""
        return self.verified > 0


# --- Arithmetic -------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(values: Sequence[float | int], digits: int = 2) -> float | None:
    return round(sum(values) / len(values), digits) if values else None


def stage_counts(rows: Iterable[ProjectRow]) -> tuple[StageCount, ...]:
    """Projects per stage, in the stages' order (every stage, zero included)."""
    counts = Counter(r.stage for r in rows)
    return tuple(StageCount(stage, counts.get(stage, 0)) for stage in STAGE_ORDER)


def transition(
    rows: Iterable[ProjectRow], ranks: Sequence[int], *, basis: str = "best"
) -> Transition:
    """The baseline × acceptance level matrix of the accepted projects with both levels.

    basis "best": verified levels where available (each cell counts its firms by basis);
    basis "self": self-reported levels only."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    up = same = down = verified = self_only = 0
    n = 0
    for r in rows:
        if not r.compared:
            continue
        if basis == "self":
            if r.baseline_rank is None or r.acceptance_rank is None:
                continue
            before, after = r.baseline_rank, r.acceptance_rank
        else:
            before, after = _known(r.baseline_best_rank), _known(r.acceptance_best_rank)
        n += 1
        cell = cells[(before, after)]
        cell[0] += 1
        if r.basis == "verified":
            cell[1] += 1
            verified += 1
        elif r.basis == "self":
            cell[2] += 1
            self_only += 1
        up += after > before
        same += after == before
        down += after < before
    return Transition(
        ranks=tuple(ranks),
        cells=tuple(TransitionCell(b, a, c[0], c[1], c[2]) for (b, a), c in sorted(cells.items())),
        n=n,
        verified=verified,
        self_reported=self_only,
        up=up,
        same=same,
        down=down,
        basis=basis,
    )


def target_figures(
    rows: Iterable[ProjectRow],
    *,
    target_rank: int,
    target_firms: int,
    target_date: dt.date | None,
    today: dt.date,
    shareable: bool = False,
) -> TargetFigures:
    """The share of compared project firms at the target level or above after the retrofit,
    and the count against the programme's target."""
    compared = [r for r in rows if r.compared]
    reached = sum(1 for r in compared if _known(r.acceptance_best_rank) >= target_rank)
    before = sum(1 for r in compared if _known(r.baseline_best_rank) >= target_rank)
    n = len(compared)
    return TargetFigures(
        target_rank=target_rank,
        target_firms=target_firms,
        target_date=target_date,
        compared=figure(n, n),
        # The count towards the target is what the programme reports upwards: never
        # suppressed; the share of the compared firms follows the small-cell rule.
        reached=figure(reached, n),
        share=figure(_share(reached, n), n, shareable=shareable, basis=min(reached, n)),
        baseline_reached=figure(before, n, shareable=shareable, basis=min(before, n)),
        progress=_share(reached, target_firms),
        remaining=max(0, target_firms - reached),
        days_left=(target_date - today).days if target_date else None,
    )


def question_moves(
    rows: Iterable[ProjectRow],
    attainment: Mapping[int, Mapping[str, Decimal]],
    codes: Sequence[str],
) -> tuple[QuestionMove, ...]:
    """Per question: among compared projects targeting it, and among all compared projects,
    how many firms' attainment rose from baseline to acceptance (`attainment`: per assessment
    id, per question code, verified where the verification is completed)."""
    counts = {code: [0, 0, 0, 0] for code in codes}
    for r in rows:
        if not r.compared or r.baseline_id is None or r.acceptance_id is None:
            continue
        before = attainment.get(r.baseline_id, {})
        after = attainment.get(r.acceptance_id, {})
        targeted = set(r.targeted)
        for code in codes:
            if code not in before or code not in after:
                continue
            rose = after[code] > before[code]
            c = counts[code]
            c[2] += 1
            c[3] += rose
            if code in targeted:
                c[0] += 1
                c[1] += rose
    return tuple(QuestionMove(code, *counts[code]) for code in codes)


def scorecards(rows: Iterable[ProjectRow], *, shareable: bool = False) -> tuple[Scorecard, ...]:
    """One scorecard per provider with projects, most projects first (then by name)."""
    by_provider: dict[int, list[ProjectRow]] = defaultdict(list)
    for r in rows:
        by_provider[r.provider_id].append(r)
    out = []
    for provider_id, mine in by_provider.items():
        n = len(mine)
        accepted = [r for r in mine if r.is_accepted]
        days = [r.days_to_acceptance for r in accepted if r.days_to_acceptance is not None]
        compared = [r for r in mine if r.compared]
        gains = [r.gain for r in compared if r.gain is not None]
        ratings = [r.rating for r in mine if r.rating is not None]
        out.append(
            Scorecard(
                provider_id=provider_id,
                provider=mine[0].provider,
                projects=n,
                accepted=figure(len(accepted), n),
                accepted_share=figure(_share(len(accepted), n), n, shareable=shareable),
                abandoned=sum(1 for r in mine if r.stage == Stage.ABANDONED),
                days_median=figure(
                    float(median(days)) if days else None, len(days), shareable=shareable
                ),
                days_mean=figure(_mean(days, 1), len(days), shareable=shareable),
                gain_mean=figure(_mean(gains), len(gains), shareable=shareable),
                gain_verified=sum(1 for r in compared if r.basis == "verified"),
                rating_mean=figure(_mean(ratings), len(ratings), shareable=shareable),
                small=n < MIN_SAMPLE,
            )
        )
    out.sort(key=lambda s: (-s.projects, s.provider, s.provider_id))
    return tuple(out)


def verification_figures(
    pairs: Iterable[LevelPair], ranks: Sequence[int], *, shareable: bool = False
) -> VerificationFigures:
    """Share verified, the self-reported and verified level distributions over the verified
    assessments, and their agreement (see the module docstring)."""
    pairs = list(pairs)
    submitted = sum(p.count for p in pairs)
    done = [p for p in pairs if p.verified_rank is not None]
    verified = sum(p.count for p in done)
    self_dist: Counter[int] = Counter()
    verified_dist: Counter[int] = Counter()
    exact = over = under = 0
    overstatements: list[int] = []
    for p in done:
        v = _known(p.verified_rank)
        self_dist[p.self_rank] += p.count
        verified_dist[v] += p.count
        if p.self_rank == v:
            exact += p.count
        elif p.self_rank > v:
            over += p.count
            overstatements += [p.self_rank - v] * p.count
        else:
            under += p.count
    keep = {"shareable": shareable}
    return VerificationFigures(
        submitted=submitted,
        verified=verified,
        share_verified=figure(_share(verified, submitted), submitted, basis=verified, **keep),
        distribution=tuple(
            LevelDistributionRow(
                rank=rank,
                self_reported=figure(
                    self_dist.get(rank, 0), verified, basis=self_dist.get(rank, 0), **keep
                ),
                verified=figure(
                    verified_dist.get(rank, 0), verified, basis=verified_dist.get(rank, 0), **keep
                ),
            )
            for rank in ranks
        )
        if verified
        else (),
        exact=figure(_share(exact, verified), verified, basis=min(exact, verified), **keep),
        overstated=figure(_share(over, verified), verified, basis=min(over, verified), **keep),
        understated=figure(_share(under, verified), verified, basis=min(under, verified), **keep),
        overstated_count=figure(
            over if verified else None, verified, basis=min(over, verified), **keep
        ),
        mean_overstatement=figure(_mean(overstatements), len(overstatements), **keep),
        max_overstatement=figure(
            max(overstatements) if overstatements else None, len(overstatements), **keep
        ),
        small=verified < MIN_SAMPLE,
    )


def median_days(rows: Iterable[ProjectRow]) -> float | None:
    """The median days to acceptance over accepted projects (None without any)."""
    days = [r.days_to_acceptance for r in rows if r.days_to_acceptance is not None]
    return float(median(days)) if days else None


# --- Queries ----------------------------------------------------------------------------------


def _verified_rank(status: str | None, rank: int | None) -> int | None:
    if status != COMPLETED:
        return None
    return -1 if rank is None else rank


def _rank(value: int | None, assessment_id: int | None) -> int | None:
    if assessment_id is None:
        return None
    return -1 if value is None else value


def project_rows(programme: Programme | int) -> list[ProjectRow]:
    """The programme's projects as rows, by firm name: three queries whatever their number
    (the projects with their assessments, verifications and ratings; the stage changes)."""
    programme_id = programme if isinstance(programme, int) else programme.pk
    contracted = Stage.CONTRACTED
    timings = {
        row["project_id"]: row
        for row in StageChange.objects.filter(project__programme_id=programme_id)
        .values("project_id")
        .annotate(
            first=Min("changed_at"),
            contracted=Min("changed_at", filter=Q(to_stage=contracted)),
            accepted=Min("changed_at", filter=Q(to_stage=Stage.ACCEPTED)),
        )
        .order_by()
    }
    rows = (
        RetrofitProject.objects.filter(programme_id=programme_id)
        .order_by("firm__name", "pk")
        .values(
            "pk",
            "firm_id",
            "firm__name",
            "firm__uscc",
            "provider_id",
            "provider__name",
            "stage",
            "title",
            "targeted_questions",
            "starts_on",
            "ends_on",
            "budget_10k_cny",
            "subsidy_10k_cny",
            "baseline_id",
            "baseline__level_rank",
            "baseline__verification__status",
            "baseline__verification__level_rank",
            "acceptance_id",
            "acceptance__level_rank",
            "acceptance__verification__status",
            "acceptance__verification__level_rank",
            "accepted_at",
            "rating__score",
        )
    )
    out = []
    for row in rows:
        timing: dict[str, Any] = dict(timings.get(row["pk"], {}))
        start = timing.get("contracted") or timing.get("first")
        accepted = timing.get("accepted") or row["accepted_at"]
        out.append(
            ProjectRow(
                project_id=row["pk"],
                firm_id=row["firm_id"],
                firm=row["firm__name"],
                uscc=row["firm__uscc"],
                provider_id=row["provider_id"],
                provider=row["provider__name"],
                stage=row["stage"],
                title=row["title"],
                targeted=tuple(str(c) for c in (row["targeted_questions"] or [])),
                starts_on=row["starts_on"],
                ends_on=row["ends_on"],
                budget=row["budget_10k_cny"],
                subsidy=row["subsidy_10k_cny"],
                baseline_id=row["baseline_id"],
                baseline_rank=_rank(row["baseline__level_rank"], row["baseline_id"]),
                baseline_verified_rank=_verified_rank(
                    row["baseline__verification__status"],
                    row["baseline__verification__level_rank"],
                ),
                acceptance_id=row["acceptance_id"],
                acceptance_rank=_rank(row["acceptance__level_rank"], row["acceptance_id"]),
                acceptance_verified_rank=_verified_rank(
                    row["acceptance__verification__status"],
                    row["acceptance__verification__level_rank"],
                ),
                contracted_at=start,
                accepted_at=accepted,
                rating=row["rating__score"],
            )
        )
    return out


def attainment_of(assessment_ids: Iterable[int]) -> dict[int, dict[str, Decimal]]:
    """{assessment id: {question code: attainment}}, verified where the assessment's
    verification is completed: two queries (the stored attainments; the verified results)."""
    ids = sorted(set(assessment_ids))
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if not ids:
        return {}
    for aid, code, value in QuestionAttainment.objects.filter(assessment_id__in=ids).values_list(
        "assessment_id", "question_code", "attainment"
    ):
        out[aid][code] = Decimal(value)
    for aid, result in Verification.objects.filter(
        assessment_id__in=ids, status=COMPLETED
    ).values_list("assessment_id", "result"):
        verified = (result or {}).get("attainment") or {}
        if verified:
            out[aid] = {code: Decimal(str(v)) for code, v in verified.items() if v is not None}
    return dict(out)


def programme_level_pairs(rows: Iterable[ProjectRow]) -> list[LevelPair]:
    """Each distinct assessment linked to the programme's projects (baselines and acceptances)
    as a LevelPair: the programme's verification figures count these."""
    seen: dict[int, LevelPair] = {}
    for r in rows:
        for aid, rank, verified in (
            (r.baseline_id, r.baseline_rank, r.baseline_verified_rank),
            (r.acceptance_id, r.acceptance_rank, r.acceptance_verified_rank),
        ):
            if aid is not None and rank is not None:
                seen[aid] = LevelPair(rank, verified)
    return list(seen.values())


def round_level_pairs(round_ids: Iterable[int]) -> list[LevelPair]:
    """The submitted assessments of the rounds grouped by self-reported and verified level
    rank: one GROUP BY, whatever the number of firms."""
    rows = (
        Assessment.objects.submitted()
        .filter(round_id__in=list(round_ids))
        .values("level_rank", "verification__status", "verification__level_rank")
        .annotate(c=Count("id"))
        .order_by()
    )
    pairs: Counter[tuple[int, int | None]] = Counter()
    for row in rows:
        self_rank = -1 if row["level_rank"] is None else row["level_rank"]
        verified = _verified_rank(row["verification__status"], row["verification__level_rank"])
        pairs[(self_rank, verified)] += row["c"]
    return [LevelPair(s, v, c) for (s, v), c in sorted(pairs.items(), key=str)]


def round_verification(
    round_id: int, ranks: Sequence[int], *, shareable: bool = False
) -> VerificationFigures:
    """The verification figures of one round's submitted assessments (the cluster report,
    its annex and the dashboard all call this)."""
    return verification_figures(round_level_pairs([round_id]), ranks, shareable=shareable)


def round_verification_key(round_id: int) -> list[Any]:
    """What the round's verification figures depend on, for report fingerprints."""
    stats = Verification.objects.filter(assessment__round_id=round_id, status=COMPLETED).aggregate(
        n=Count("id"), last=Max("completed_at"), last_id=Max("id")
    )
    return [stats["n"], str(stats["last"]), stats["last_id"]]


def programme_key(programme: Programme) -> list[Any]:
    """What a programme's figures depend on, for report fingerprints: its projects (stage,
    links, ratings), their stage changes and the verifications of their assessments."""
    projects = RetrofitProject.objects.filter(programme=programme)
    project_state = list(
        projects.order_by("pk").values_list(
            "pk",
            "stage",
            "baseline_id",
            "acceptance_id",
            "provider_id",
            "firm_id",
            "stage_changed_at",
            "title",
            "targeted_questions",
            "starts_on",
            "ends_on",
            "budget_10k_cny",
            "subsidy_10k_cny",
            "rating__score",
            "firm__name",
            "provider__name",
        )
    )
    ids = [i for p in project_state for i in (p[2], p[3]) if i is not None]
    verifications = list(
        Verification.objects.filter(assessment_id__in=ids)
        .order_by("pk")
        .values_list("pk", "status", "completed_at", "level_rank")
    )
    changes = StageChange.objects.filter(project__programme=programme).aggregate(
        n=Count("id"), last=Max("changed_at"), last_id=Max("id")
    )
    return [
        programme.pk,
        programme.name_zh,
        programme.name_en,
        programme.target_level,
        programme.target_firms,
        str(programme.target_date),
        programme.framework_version_id,
        project_state,
        verifications,
        [changes["n"], str(changes["last"]), changes["last_id"]],
    ]
