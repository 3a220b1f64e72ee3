"""The live cluster dashboard: the cluster report's own figures, on screen.

The headline, levels, dimensions, weakest questions, homogeneity and support list are the
`ClusterReport` that reports/context.py assembles for the PDF (one source of truth, so the
numbers agree to the digit); it is kept in the cache under the report's input fingerprint
(reports/services.py), so it is recomputed exactly when a PDF of it would be. What the PDF does
not have is added here with a fixed number of GROUP BY queries, whatever the number of firms or
rounds: the response of every round, the trend over the rounds on the same framework, and the
progress towards the cluster's targets (reports/targets.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse

from assessments import statistics
from assessments.models import Assessment, Invitation, Round
from clusters.models import Cluster, Firm
from clusters.selectors import clusters_visible_to
from reports.context import ClusterReport, SupportEntry, cluster_report
from reports.models import ReportJob
from reports.selectors import NO_SUCH_CLUSTER, NO_SUCH_ROUND
from reports.services import report_fingerprint
from reports.targets import NextFirm, TargetProgress, progress_for_cluster
from reports.targets import next_firms as next_firms_for

# How long an assembled report stays in the cache. Its key changes with every submission,
# invitation or round; the timeout bounds what the key does not see (a firm renamed).
CACHE_SECONDS = 600
SUPPORT_PAGE_SIZE = 25
# The firm file's route (reports/firm_file.py): the support list links each firm to it.
FIRM_FILE_ROUTE = "reports:firm_file"


@dataclass(frozen=True)
class RoundResponse:
    """Invited, opened, draft and submitted firms of one round of the cluster."""

    round_id: int
    name: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    framework: str
    invited: int
    opened: int
    draft: int
    submitted: int
    response_rate: float | None  # percent of invited, as the report's headline computes it


@dataclass(frozen=True)
class TrendRow:
    """One round on the dashboard round's framework: firms assessed and the two shares."""

    round_id: int
    name: str
    opens_at: dt.datetime
    version: str
    assessed: int
    basic_count: int
    advanced_count: int
    basic_share: float | None
    advanced_share: float | None


@dataclass(frozen=True)
class SupportRow:
    """A support-list entry with the firm's id, its file's address and whether it would count
    next towards one of the targets."""

    entry: SupportEntry
    firm_id: int | None
    file_url: str | None
    counts_next: bool


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows for one round of a cluster."""

    cluster: Cluster
    round: Round | None
    rounds: tuple[Round, ...]  # newest first, for the round picker
    report: ClusterReport | None
    response: tuple[RoundResponse, ...]  # newest first
    trend: tuple[TrendRow, ...]  # oldest first, rounds with submissions only
    targets: tuple[TargetProgress, ...]
    next_firms: tuple[tuple[TargetProgress, tuple[NextFirm, ...]], ...]

    @property
    def next_firm_codes(self) -> frozenset[str]:
        """Credit codes of the firms that would count next towards any of the targets."""
        return frozenset(f.uscc for _t, firms in self.next_firms for f in firms)


def cluster_rounds(cluster: Cluster) -> list[Round]:
    """The cluster's rounds, newest first, with their framework versions."""
    return list(
        Round.objects.filter(cluster=cluster)
        .select_related("framework_version__framework")
        .newest_first()
    )


@dataclass(frozen=True)
class Cell:
    """Assessments of one round in one state: status, level rank and bands."""

    status: str
    level_rank: int
    basic: bool
    advanced: bool
    count: int


def round_counts(rounds: list[Round]) -> dict[int, list[Cell]]:
    """{round id: its assessments counted by status, level rank and band}: one GROUP BY over
    every round of the cluster, which the response, the trend, the default round and the
    targets' counts all read (a few dozen groups, whatever the number of firms)."""
    out: dict[int, list[Cell]] = {r.pk: [] for r in rounds}
    rows = (
        Assessment.objects.filter(round_id__in=list(out))
        .order_by()  # not the model's ordering, which would split the groups
        .values("round_id", "status", "level_rank", "basic", "advanced")
        .annotate(c=Count("id"))
    )
    for row in rows:
        out[row["round_id"]].append(
            Cell(
                status=row["status"],
                level_rank=-1 if row["level_rank"] is None else row["level_rank"],
                basic=bool(row["basic"]),
                advanced=bool(row["advanced"]),
                count=row["c"],
            )
        )
    return out


def _submitted(cells: list[Cell]) -> list[Cell]:
    return [c for c in cells if c.status == Assessment.Status.SUBMITTED]


def rank_counts(counts: dict[int, list[Cell]]) -> dict[int, dict[int, int]]:
    """{round id: {level rank: submitted firms}}, as reports/targets.py counts them."""
    out: dict[int, dict[int, int]] = {}
    for round_id, cells in counts.items():
        ranks: dict[int, int] = {}
        for c in _submitted(cells):
            ranks[c.level_rank] = ranks.get(c.level_rank, 0) + c.count
        if ranks:
            out[round_id] = ranks
    return out


def default_round(rounds: list[Round], counts: dict[int, list[Cell]]) -> Round | None:
    """The newest round with submissions (a round that has just opened shows nothing yet),
    else the newest round."""
    if not rounds:
        return None
    return next((r for r in rounds if _submitted(counts.get(r.pk, []))), rounds[0])


def cluster_in_scope(user: Any, slug: str) -> Cluster:
    """The cluster the user may see; Http404 for any other, exactly like a missing one."""
    cluster = clusters_visible_to(user).select_related("region").filter(slug=slug).first()
    if cluster is None:
        raise Http404(NO_SUCH_CLUSTER)
    return cluster


def dashboard_subject(
    user: Any, slug: str, raw_round: str | None
) -> tuple[Cluster, list[Round], dict[int, list[Cell]], Round | None]:
    """What a dashboard shows, for the page and the API alike: the cluster in the user's
    scope, its rounds with their counts, and the chosen round (`raw_round`, the ?round= id;
    the default round when absent). Http404 for a cluster or round outside the scope."""
    cluster = cluster_in_scope(user, slug)
    rounds = cluster_rounds(cluster)
    counts = round_counts(rounds)
    if raw_round in (None, ""):
        return cluster, rounds, counts, default_round(rounds, counts)
    found = next((r for r in rounds if str(r.pk) == raw_round), None)
    if found is None:
        raise Http404(NO_SUCH_ROUND)
    return cluster, rounds, counts, found


def report_for(round_: Round, *, language: str) -> ClusterReport:
    """The round's cluster report (officials' edition), from the cache while its inputs are
    unchanged; call under the page's language, as the PDF is rendered under the job's."""
    key = "dashboard:" + report_fingerprint(
        ReportJob.Kind.CLUSTER,
        round_=round_,
        language=language,
        shareable=False,
        with_targets=False,  # the cached report carries none; the dashboard counts them
    )
    report = cache.get(key)
    if report is None:
        report = cluster_report(round_, language=language)
        cache.set(key, report, CACHE_SECONDS)
    return report


def round_response(rounds: list[Round], counts: dict[int, list[Cell]]) -> list[RoundResponse]:
    """Invited, opened, draft and submitted firms of each round (one GROUP BY for the
    invitations; the assessments are in `counts`)."""
    # "Opened": the invitation's link was visited (an InvitationOpening row, written once).
    aggregates: dict[str, Any] = {
        "invited": Count("id"),
        "opened": Count("opening", filter=Q(opening__isnull=False)),
    }
    invited: dict[int, dict[str, Any]] = {
        row["round_id"]: dict(row)
        for row in Invitation.objects.filter(round_id__in=[r.pk for r in rounds])
        .values("round_id")
        .annotate(**aggregates)
    }
    out = []
    for r in rounds:
        inv: dict[str, Any] = invited.get(r.pk, {})
        cells = counts.get(r.pk, [])
        n_invited = inv.get("invited", 0)
        submitted = sum(c.count for c in _submitted(cells))
        out.append(
            RoundResponse(
                round_id=r.pk,
                name=r.name,
                opens_at=r.opens_at,
                closes_at=r.closes_at,
                framework=str(r.framework_version),
                invited=n_invited,
                opened=inv.get("opened", 0),
                draft=sum(c.count for c in cells if c.status == Assessment.Status.DRAFT),
                submitted=submitted,
                response_rate=statistics.share(submitted, n_invited),
            )
        )
    return out


def trend(rounds: list[Round], round_: Round, counts: dict[int, list[Cell]]) -> list[TrendRow]:
    """The assessed firms and the basic and advanced shares of every round of the cluster on
    the round's framework (any version) with submissions, oldest first, with the headline's
    arithmetic."""
    framework_id = round_.framework_version.framework_id
    same = sorted(
        (r for r in rounds if r.framework_version.framework_id == framework_id),
        key=lambda r: (r.opens_at, r.pk),
    )
    out = []
    for r in same:
        cells = _submitted(counts.get(r.pk, []))
        n = sum(c.count for c in cells)
        if not n:
            continue
        basic = sum(c.count for c in cells if c.basic)
        advanced = sum(c.count for c in cells if c.advanced)
        out.append(
            TrendRow(
                round_id=r.pk,
                name=r.name,
                opens_at=r.opens_at,
                version=r.framework_version.version,
                assessed=n,
                basic_count=basic,
                advanced_count=advanced,
                basic_share=statistics.share(basic, n),
                advanced_share=statistics.share(advanced, n),
            )
        )
    return out


def dashboard(
    cluster: Cluster,
    round_: Round | None,
    rounds: list[Round],
    counts: dict[int, list[Cell]],
    *,
    language: str,
) -> Dashboard:
    """The dashboard of one round of the cluster (`rounds`: all of the cluster's, newest first,
    `counts` their `round_counts`; the caller has checked the scope)."""
    report = report_for(round_, language=language) if round_ is not None else None
    targets: list[TargetProgress] = []
    next_firms: list[tuple[TargetProgress, tuple[NextFirm, ...]]] = []
    if round_ is not None and report is not None:
        framework = round_.framework_version.framework
        targets = progress_for_cluster(
            cluster, framework, language=language, all_industries=rank_counts(counts)
        )
        next_firms = next_firms_for(report, round_, targets, language=language)
    return Dashboard(
        cluster=cluster,
        round=round_,
        rounds=tuple(rounds),
        report=report,
        response=tuple(round_response(rounds, counts)),
        trend=tuple(trend(rounds, round_, counts)) if round_ is not None else (),
        targets=tuple(targets),
        next_firms=tuple(next_firms),
    )


def _file_url(firm_id: int | None) -> str | None:
    if firm_id is None:
        return None
    return reverse(FIRM_FILE_ROUTE, args=[firm_id])


def support_page(board: Dashboard, number: Any) -> Page | None:
    """One page of the support list, with the firms' ids looked up for that page only."""
    if board.report is None or not board.report.support:
        return None
    page = Paginator(board.report.support, SUPPORT_PAGE_SIZE).get_page(number)
    entries: list[SupportEntry] = list(page.object_list)
    ids = dict(Firm.objects.filter(uscc__in=[e.uscc for e in entries]).values_list("uscc", "pk"))
    upcoming = board.next_firm_codes
    rows: list[Any] = [
        SupportRow(
            entry=e,
            firm_id=ids.get(e.uscc),
            file_url=_file_url(ids.get(e.uscc)),
            counts_next=e.uscc in upcoming,
        )
        for e in entries
    ]
    page.object_list = rows  # the page now holds SupportRows
    return page
