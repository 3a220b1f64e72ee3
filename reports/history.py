"""The firm file (一企一档): one firm's register data, rounds, level trajectory, latest gaps,
invitations and result PDFs, as plain dataclasses for templates/reports/firm_file.html.

Everything is read through the scoping selectors: the firm itself (clusters/selectors.py
`firm_for_user`), its results (assessments/selectors.py `assessments_visible_to`, so an
official sees only results of rounds of clusters they oversee) and its invitations (the
firm's own users see all of them; officials those of the rounds they oversee). The number
of queries does not grow with the number of rounds.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments.framework import Framework
from assessments.models import (
    Assessment,
    DimensionScore,
    FrameworkVersion,
    Invitation,
    InvitationMessage,
    Round,
)
from assessments.results import Gap, result_context
from assessments.services import framework_text as _t
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors
from clusters.models import Cluster, Firm
from reports import charts

# The most rounds one file lists (newest first); a firm is in a few rounds a year, so this
# bounds the page without hiding anything in practice.
ROUND_LIMIT = 100


@dataclass(frozen=True)
class RoundRow:
    """One round the firm was in, with its stored result when there is one."""

    round_id: int
    round_name: str
    cluster_name: str
    version: str
    opens_at: datetime.datetime
    is_closed: bool
    invitation: Invitation | None
    assessment: Assessment | None
    level_title: str
    level_number: int | None  # 1 for the first level, 0 below it, None without a result
    total: Decimal | None
    scores: tuple[Decimal | None, ...]  # in the order of the group's dimensions

    @property
    def is_submitted(self) -> bool:
        return self.assessment is not None and self.assessment.is_submitted

    @property
    def is_draft(self) -> bool:
        return self.assessment is not None and not self.assessment.is_submitted


@dataclass(frozen=True)
class Dimension:
    code: str
    title: str


@dataclass(frozen=True)
class ScoreLine:
    """One dimension's scores across the submitted rounds, oldest first."""

    title: str
    scores: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class LevelKey:
    """A level's number on the trajectory chart and its title."""

    number: int
    title: str


@dataclass(frozen=True)
class FrameworkGroup:
    """The firm's rounds on one framework (its versions together), newest first."""

    title: str
    dimensions: tuple[Dimension, ...]
    levels: tuple[LevelKey, ...]
    rows: tuple[RoundRow, ...]
    chart_svg: str  # "" with fewer than two results: no line is drawn from one point

    @property
    def results(self) -> list[RoundRow]:
        """The submitted rounds, oldest first: the trajectory in the order it happened."""
        return [row for row in reversed(self.rows) if row.is_submitted]

    @property
    def score_lines(self) -> list[ScoreLine]:
        """The dimension table: one line per dimension, one column per result."""
        results = self.results
        return [
            ScoreLine(dim.title, tuple(row.scores[i] for row in results))
            for i, dim in enumerate(self.dimensions)
        ]


@dataclass(frozen=True)
class LatestGaps:
    """What the firm's latest result lacks for the next level, in words."""

    assessment: Assessment
    level_title: str
    next_title: str
    gaps: list[Gap] = field(default_factory=list)


@dataclass(frozen=True)
class FirmFile:
    """Everything the firm file shows."""

    firm: Firm
    is_own: bool
    clusters: tuple[Cluster, ...]
    groups: tuple[FrameworkGroup, ...]
    invitations: tuple[Invitation, ...]
    latest: LatestGaps | None
    truncated: bool

    @property
    def round_limit(self) -> int:
        return ROUND_LIMIT


def _visible_invitations(user: Any, firm: Firm, is_own: bool) -> QuerySet[Invitation]:
    """The firm's invitations: all of them for its own users, else those of rounds the user
    oversees (the same sight as their results)."""
    invitations = Invitation.objects.filter(firm=firm)
    if not is_own:
        invitations = invitations.filter(round__in=assessment_selectors.rounds_visible_to(user))
    return invitations


def _visible_clusters(user: Any, firm: Firm, is_own: bool) -> QuerySet[Cluster]:
    """The firm's clusters the user may name: all for its own users, else those overseen."""
    clusters = Cluster.objects.filter(memberships__firm=firm)
    if not is_own:
        clusters = clusters.filter(pk__in=cluster_selectors.clusters_visible_to(user).values("pk"))
    return clusters.select_related("region").order_by("slug")


def _level_number(result: Assessment) -> int | None:
    # level_rank is the level's position (0 = first level, -1 below the first one).
    return None if result.level_rank is None else result.level_rank + 1


def _level_title(fw: Framework, code: str) -> str:
    for level in fw.levels:
        if level.code == code:
            return _t(level.title)
    return ""


def _dimensions(frameworks: Iterable[Framework]) -> tuple[Dimension, ...]:
    """The dimensions of a framework's versions, newest version's order and titles first."""
    seen: dict[str, Dimension] = {}
    for fw in frameworks:
        for dim in fw.dimensions:
            seen.setdefault(dim.code, Dimension(dim.code, _t(dim.title)))
    return tuple(seen.values())


class _Entry(NamedTuple):
    """A round the firm was in, what the user may see of it, and its parsed framework."""

    round: Round
    invitation: Invitation | None
    assessment: Assessment | None
    fw: Framework


def _row(entry: _Entry, dimensions: tuple[Dimension, ...], now: datetime.datetime) -> RoundRow:
    round_, invitation, assessment, fw = entry
    result = assessment if assessment is not None and assessment.is_submitted else None
    by_code = {s.dimension_code: s.score for s in result.dimension_scores.all()} if result else {}
    return RoundRow(
        round_id=round_.pk,
        round_name=round_.name,
        cluster_name=round_.cluster.name,
        version=fw.version,
        opens_at=round_.opens_at,
        is_closed=round_.closes_at <= now,
        invitation=invitation,
        assessment=assessment,
        level_title=_level_title(fw, result.level) if result else "",
        level_number=_level_number(result) if result else None,
        total=result.total if result else None,
        scores=tuple(by_code.get(d.code) for d in dimensions),
    )


def _group(title: str, entries: list[_Entry]) -> FrameworkGroup:
    """One framework's rounds, newest first, with its trajectory chart."""
    versions: list[Framework] = []  # the framework's versions met, newest first
    for entry in entries:
        if all(fw is not entry.fw for fw in versions):
            versions.append(entry.fw)
    dimensions = _dimensions(versions)
    now = timezone.now()
    out = [_row(entry, dimensions, now) for entry in entries]
    levels = tuple(LevelKey(i + 1, _t(lv.title)) for i, lv in enumerate(versions[0].levels))
    group = FrameworkGroup(title, dimensions, levels, tuple(out), "")
    points = group.results
    if len(points) < 2:
        return group
    svg = charts.trajectory_chart(
        [row.opens_at.strftime("%Y-%m") for row in points],
        [row.level_number for row in points],
        top=len(levels),
    )
    return FrameworkGroup(title, dimensions, levels, tuple(out), svg)


def _latest_gaps(user: Any, assessments: list[Assessment]) -> LatestGaps | None:
    """The gap sentences of the newest submitted result, from assessments/results.py."""
    submitted = [a for a in assessments if a.is_submitted]
    if not submitted:
        return None
    latest = submitted[0]
    context = result_context(user, latest)
    return LatestGaps(
        assessment=latest,
        level_title=context["level_title"],
        next_title=context["next_title"] if context["next_level"] else "",
        gaps=list(context["gaps"]),
    )


def firm_file(user: Any, firm: Firm) -> FirmFile:
    """The firm file of a firm the user may see (the caller got it from `firm_for_user`)."""
    is_own = cluster_selectors.user_firms(user).filter(pk=firm.pk).exists()
    invitations = list(
        _visible_invitations(user, firm, is_own)
        .select_related("round__cluster", "opening")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=InvitationMessage.objects.filter(
                    kind=InvitationMessage.Kind.REMINDER
                ).exclude(status=InvitationMessage.Status.FAILED),
                to_attr="reminders",
            )
        )
        .order_by("-round__opens_at", "-round_id")[: ROUND_LIMIT + 1]
    )
    scores = Prefetch(
        "dimension_scores",
        queryset=DimensionScore.objects.only("assessment_id", "dimension_code", "score"),
    )
    assessments = list(
        assessment_selectors.assessments_visible_to(user)
        .filter(firm=firm)
        .select_related("round__cluster")
        .defer("result")  # the full snapshot is read only for the latest result's gaps
        .prefetch_related(scores)
        .order_by("-round__opens_at", "-round_id")[: ROUND_LIMIT + 1]
    )
    by_round_invitation = {inv.round_id: inv for inv in invitations}
    by_round_assessment = {a.round_id: a for a in assessments}
    rounds = {inv.round_id: inv.round for inv in invitations}
    rounds.update({a.round_id: a.round for a in assessments})
    ordered = sorted(rounds.values(), key=lambda r: (r.opens_at, r.pk), reverse=True)
    # One more than the limit was read: if there is more, say so rather than pretend it is all.
    truncated = len(ordered) > ROUND_LIMIT
    ordered = ordered[:ROUND_LIMIT]
    shown = {r.pk for r in ordered}
    invitations = [inv for inv in invitations if inv.round_id in shown]
    assessments = [a for a in assessments if a.round_id in shown]
    versions = {
        v.pk: v
        for v in FrameworkVersion.objects.filter(
            pk__in={r.framework_version_id for r in ordered}
        ).select_related("framework")
    }
    # Group by framework, in the order of each framework's newest round.
    grouped: dict[int, list[_Entry]] = {}
    titles: dict[int, str] = {}
    for round_ in ordered:
        version = versions[round_.framework_version_id]
        titles.setdefault(version.framework_id, str(version.framework))
        grouped.setdefault(version.framework_id, []).append(
            _Entry(
                round_,
                by_round_invitation.get(round_.pk),
                by_round_assessment.get(round_.pk),
                framework_for(version),
            )
        )
    groups = [_group(titles[key], entries) for key, entries in grouped.items()]
    return FirmFile(
        firm=firm,
        is_own=is_own,
        clusters=tuple(_visible_clusters(user, firm, is_own)),
        groups=tuple(groups),
        invitations=tuple(invitations),
        latest=_latest_gaps(user, assessments),
        truncated=truncated,
    )
