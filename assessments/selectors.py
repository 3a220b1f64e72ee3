"""Reads for rounds and assessments, always scoped to the user asking."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from assessments import statistics
from assessments.models import Assessment, DimensionScore, Invitation, Round
from clusters import selectors as cluster_selectors

# Peer figures shown to a firm are aggregates over at least this many firms (DESIGN.md).
PEER_MINIMUM = 5


def assessments_visible_to(user: Any) -> QuerySet[Assessment]:
    """Assessments the user may open: drafts and results of their own firms, and the submitted
    results of the rounds of clusters an official oversees (staff: every submitted result).

    An official's sight follows the round, not the firm: a firm that belongs to the official's
    cluster and to another one shows them only its results from their own clusters' rounds.
    """
    own = cluster_selectors.user_firms(user).values("pk")
    overseen = cluster_selectors.clusters_visible_to(user).values("pk")
    return Assessment.objects.filter(
        Q(firm__in=own) | Q(status=Assessment.Status.SUBMITTED, round__cluster__in=overseen)
    )


def assessment_for_user(user: Any, pk: int) -> Assessment:
    """One assessment the user may see, or Http404 (never a hint that it exists)."""
    assessment = (
        assessments_visible_to(user)
        .select_related("round", "round__cluster", "firm", "framework_version__framework")
        .filter(pk=pk)
        .first()
    )
    if assessment is None:
        raise Http404
    return assessment


def can_answer(user: Any, assessment: Assessment) -> bool:
    """True when the user answers for the assessment's firm."""
    return cluster_selectors.user_firms(user).filter(pk=assessment.firm_id).exists()


def rounds_visible_to(user: Any) -> QuerySet[Round]:
    """Rounds of the clusters an official oversees (staff: all)."""
    return Round.objects.filter(cluster__in=cluster_selectors.clusters_visible_to(user))


def round_for_official(user: Any, pk: int) -> Round:
    """A round the user oversees, or Http404."""
    found = (
        rounds_visible_to(user)
        .select_related("cluster", "framework_version__framework")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class RoundProgress:
    """How far a round has got: firms invited, started and submitted."""

    invited: int
    started: int
    submitted: int

    @property
    def response_rate(self) -> int:
        return round(100 * self.submitted / self.invited) if self.invited else 0


def round_progress(user: Any, round: Round) -> RoundProgress:
    """The response figures of a round the user oversees."""
    round_for_official(user, round.pk)
    assessments = Assessment.objects.filter(round=round)
    return RoundProgress(
        invited=round.invitations.count(),
        started=assessments.count(),
        submitted=assessments.submitted().count(),
    )


@dataclass(frozen=True)
class FirmRound:
    """A round one of the user's firms is invited to, with the state of its assessment."""

    invitation: Invitation
    assessment: Assessment | None
    is_open: bool
    is_upcoming: bool


def firm_rounds(user: Any) -> list[FirmRound]:
    """Every round the user's firms are invited to, newest first, with their assessments."""
    firms = cluster_selectors.user_firms(user)
    invitations = (
        Invitation.objects.filter(firm__in=firms)
        .select_related("round", "round__cluster", "firm", "round__framework_version")
        .order_by("-round__opens_at", "firm__name")
    )
    assessments = {(a.round_id, a.firm_id): a for a in Assessment.objects.filter(firm__in=firms)}
    now = timezone.now()
    return [
        FirmRound(
            invitation=inv,
            assessment=assessments.get((inv.round_id, inv.firm_id)),
            is_open=inv.round.is_open_at(now),
            is_upcoming=now < inv.round.opens_at,
        )
        for inv in invitations
    ]


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of one figure over the peers."""

    q1: Decimal
    median: Decimal
    q3: Decimal


@dataclass(frozen=True)
class PeerBenchmark:
    """The cluster's figures in this round, or why they are hidden."""

    firms: int
    total: Spread | None
    dimensions: dict[str, Spread]
    # The firm's percentile rank among the round's totals (statistics.percentile_rank).
    percentile: int | None = None

    @property
    def shown(self) -> bool:
        return self.total is not None


def _spread(values: list[Decimal]) -> Spread:
    """Quartiles of the values, rounded half-up to 2 decimals as scores are."""
    two = Decimal("0.01")
    q1, median, q3 = (q.quantize(two, ROUND_HALF_UP) for q in statistics.quartiles(values))
    return Spread(q1=q1, median=median, q3=q3)


def peer_benchmark(user: Any, assessment: Assessment) -> PeerBenchmark:
    """Median and quartiles of the round's submitted firms; hidden below PEER_MINIMUM firms."""
    assessment_for_user(user, assessment.pk)
    peers = Assessment.objects.submitted().filter(round_id=assessment.round_id)
    totals = [t for t in peers.values_list("total", flat=True) if t is not None]
    if len(totals) < PEER_MINIMUM:
        return PeerBenchmark(firms=len(totals), total=None, dimensions={})
    by_dimension: dict[str, list[Decimal]] = {}
    rows = DimensionScore.objects.filter(assessment__in=peers, score__isnull=False).values_list(
        "dimension_code", "score"
    )
    for code, score in rows:
        if score is not None:
            by_dimension.setdefault(code, []).append(score)
    own = assessment.total if assessment.is_submitted else None
    return PeerBenchmark(
        firms=len(totals),
        total=_spread(totals),
        percentile=statistics.percentile_rank(own, totals) if own is not None else None,
        dimensions={
            code: _spread(values)
            for code, values in by_dimension.items()
            if len(values) >= PEER_MINIMUM
        },
    )


def previous_assessment(user: Any, assessment: Assessment) -> Assessment | None:
    """The firm's latest submitted assessment of an earlier round on the same framework, among
    those the user may see (an official is not shown a result from another cluster's round)."""
    assessment_for_user(user, assessment.pk)
    return (
        assessments_visible_to(user)
        .filter(
            status=Assessment.Status.SUBMITTED,
            firm_id=assessment.firm_id,
            framework_version__framework_id=assessment.framework_version.framework_id,
            round__opens_at__lt=assessment.round.opens_at,
        )
        .exclude(pk=assessment.pk)
        .select_related("round", "framework_version")
        .order_by("-round__opens_at")
        .first()
    )
