"""Reads for rounds and assessments, always scoped to the user asking."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import scoring, statistics
from assessments.models import (
    Answer,
    Assessment,
    DimensionScore,
    Invitation,
    InvitationMessage,
    Round,
)
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors
from clusters.models import Firm

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


# What the questionnaire, the autosave and the review read of an assessment's relations: the
# names on the page, the round's dates (open or not) and the version's key into the parsed
# framework cache (`framework_for`: by id and content hash, never the definition's JSON).
_ANSWER_RELATED = (
    "round__name",
    "round__cluster",
    "round__framework_version",
    "round__opens_at",
    "round__closes_at",
    "firm__name",
    "framework_version__framework",
    "framework_version__version",
    "framework_version__content_hash",
    "framework_version__status",
)


def assessment_to_answer(user: Any, pk: int) -> Assessment:
    """One assessment of the user's own firms (the only ones a user answers), or Http404.

    One indexed query on every autosave, so a lean one: the firm's membership row joined (one
    row at most: a user is a firm's member once), not the general visibility rule (which adds
    an official's clusters and regions that can never answer); the round, firm and framework
    version with the columns the pages use (others load on first use, one query each), and
    no ordering.
    """
    if cluster_selectors.is_anonymous(user):
        raise Http404
    own = [f.name for f in Assessment._meta.concrete_fields]
    found = list(
        Assessment.objects.select_related("round", "firm", "framework_version")
        .only(*own, *_ANSWER_RELATED)
        .filter(pk=pk, firm__members__user=user)
        .order_by()
    )
    if not found:
        raise Http404
    return found[0]


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


# --- Response tracking on the round page ----------------------------------------------------


class Tracking:
    """Where a firm of the round's cluster stands, from first to last."""

    NOT_INVITED = "not_invited"
    INVITED = "invited"  # invited, the link not visited yet
    OPENED = "opened"  # the link visited, no answers yet
    IN_PROGRESS = "in_progress"  # a draft
    SUBMITTED = "submitted"

    choices = (
        (NOT_INVITED, _("Not invited")),
        (INVITED, _("Invited")),
        (OPENED, _("Opened")),
        (IN_PROGRESS, _("In progress")),
        (SUBMITTED, _("Submitted")),
    )
    values = tuple(value for value, _label in choices)


def _round_firms(round: Round) -> QuerySet[Firm]:
    """The round's cluster's firms, each joined to its invitation and assessment in the round
    (one LEFT JOIN each: a firm has at most one of both per round) and given its `tracking`."""
    return (
        Firm.objects.filter(memberships__cluster_id=round.cluster_id)
        .annotate(
            inv=FilteredRelation("invitations", condition=Q(invitations__round_id=round.pk)),
            ass=FilteredRelation("assessments", condition=Q(assessments__round_id=round.pk)),
        )
        .annotate(
            tracking=Case(
                When(ass__status=Assessment.Status.SUBMITTED, then=Value(Tracking.SUBMITTED)),
                When(ass__status=Assessment.Status.DRAFT, then=Value(Tracking.IN_PROGRESS)),
                When(inv__opening__opened_at__isnull=False, then=Value(Tracking.OPENED)),
                When(inv__id__isnull=False, then=Value(Tracking.INVITED)),
                default=Value(Tracking.NOT_INVITED),
                output_field=CharField(),
            )
        )
    )


@dataclass(frozen=True)
class RoundResponse:
    """The round's response summary: its cluster's firms counted by where they stand."""

    firms: int
    not_invited: int
    invited: int
    opened: int
    in_progress: int
    submitted: int

    @property
    def invited_total(self) -> int:
        """Firms invited, whatever they did since."""
        return self.firms - self.not_invited

    @property
    def not_submitted(self) -> int:
        """Invited firms that have not submitted: whom a reminder goes to."""
        return self.invited_total - self.submitted

    @property
    def response_rate(self) -> int:
        """Submitted as a whole percentage of the invited (0 before any invitation)."""
        return round(100 * self.submitted / self.invited_total) if self.invited_total else 0

    def count(self, tracking: str) -> int:
        """The number of firms at one tracking status."""
        return int(getattr(self, tracking))


def round_response(user: Any, round: Round) -> RoundResponse:
    """The response summary of a round the user oversees (one aggregate query), or Http404."""
    round_for_official(user, round.pk)
    return _response(round)


def _response(round: Round) -> RoundResponse:
    counts = _round_firms(round).aggregate(
        firms=Count("pk"),
        **{value: Count("pk", filter=Q(tracking=value)) for value in Tracking.values},
    )
    return RoundResponse(**{key: int(value or 0) for key, value in counts.items()})


def round_firms(user: Any, round: Round, *, tracking: str = "", search: str = "") -> QuerySet[Firm]:
    """The firms of a round's cluster for its official, by name, annotated with `tracking` and
    their invitation's and assessment's fields (`inv__…`, `ass__…` through `values()` or the
    `round_rows` of one page); filtered by tracking status and a name or credit-code search.
    Http404 when the user does not oversee the round."""
    round_for_official(user, round.pk)
    return _filtered(round, tracking, search)


@dataclass(frozen=True)
class RoundPage:
    """What the round page shows: the summary, one page of firms and its rows."""

    response: RoundResponse
    page: Page[Firm]
    rows: list[RoundRow]


def round_page(
    user: Any, round: Round, *, tracking: str = "", search: str = "", number: Any = 1, size: int
) -> RoundPage:
    """One page of the round's firms for its official, with the summary; Http404 out of scope.

    Seven queries whatever the cluster's size: the scope, the summary, the count and the page,
    and the page's e-mail history and answers.
    """
    round_for_official(user, round.pk)
    page = Paginator(_filtered(round, tracking, search), size).get_page(number)
    return RoundPage(response=_response(round), page=page, rows=round_rows(round, page.object_list))


def _filtered(round: Round, tracking: str, search: str) -> QuerySet[Firm]:
    firms = _round_firms(round)
    if tracking in Tracking.values:
        firms = firms.filter(**{"tracking": tracking})  # an annotation the stubs cannot see
    search = search.strip()[:100]
    if search:
        firms = firms.filter(Q(name__icontains=search) | Q(uscc__icontains=search.upper()))
    return firms.order_by("name", "pk")


@dataclass(frozen=True)
class RoundRow:
    """One firm on a page of the round: where it stands, and its invitation's history."""

    firm_id: int
    name: str
    uscc: str
    contact_person: str
    email: str  # the invitation's address, else the register's
    tracking: str
    invitation_id: int | None
    token: str
    invited_at: Any
    sent_at: Any
    opened_at: Any
    assessment_id: int | None
    percent_answered: int | None  # drafts only
    reminders: int
    last_mailed_at: Any

    @property
    def tracking_label(self) -> str:
        return str(dict(Tracking.choices)[self.tracking])


def round_rows(round: Round, firms: Any) -> list[RoundRow]:
    """One page of `round_firms` as rows, in three queries whatever the page's size: the page,
    its invitations' e-mail history, and its drafts' answers (for the share answered)."""
    rows = list(
        firms.values(
            "pk",
            "name",
            "uscc",
            "contact_person",
            "contact_email",
            "tracking",
            "inv__id",
            "inv__token",
            "inv__email",
            "inv__created_at",
            "inv__sent_at",
            "inv__opening__opened_at",
            "ass__id",
            "ass__status",
        )
    )
    invitation_ids = [r["inv__id"] for r in rows if r["inv__id"]]
    history: dict[int, Any] = {
        h["invitation_id"]: h
        for h in InvitationMessage.objects.filter(invitation_id__in=invitation_ids)
        .exclude(status=InvitationMessage.Status.FAILED)
        .values("invitation_id")
        .annotate(
            reminders=Count("pk", filter=Q(kind=InvitationMessage.Kind.REMINDER)),
            last=Max("created_at"),
        )
    }
    drafts = [r["ass__id"] for r in rows if r["ass__status"] == Assessment.Status.DRAFT]
    answers: dict[int, dict[str, Any]] = {pk: {} for pk in drafts}
    for assessment_id, code, value in Answer.objects.filter(
        assessment_id__in=drafts, value__isnull=False
    ).values_list("assessment_id", "question_code", "value"):
        answers[assessment_id][code] = value
    framework = framework_for(round.framework_version)
    percent = {pk: _percent_answered(framework, given) for pk, given in answers.items()}
    return [
        RoundRow(
            firm_id=r["pk"],
            name=r["name"],
            uscc=r["uscc"],
            contact_person=r["contact_person"],
            email=r["inv__email"] or r["contact_email"],
            tracking=r["tracking"],
            invitation_id=r["inv__id"],
            token=r["inv__token"] or "",
            invited_at=r["inv__created_at"],
            sent_at=r["inv__sent_at"],
            opened_at=r["inv__opening__opened_at"],
            assessment_id=r["ass__id"],
            percent_answered=percent.get(r["ass__id"]),
            reminders=history.get(r["inv__id"], {}).get("reminders", 0),
            last_mailed_at=history.get(r["inv__id"], {}).get("last"),
        )
        for r in rows
    ]


def _percent_answered(framework: Any, answers: dict[str, Any]) -> int:
    """The share of the applicable questions answered, as the firm's own progress bar counts."""
    applicable = scoring.applicable(framework, answers)
    total = sum(1 for q in framework.questions if q.code in applicable)
    done = sum(1 for q in framework.questions if q.code in applicable and q.code in answers)
    return round(100 * done / total) if total else 100


@dataclass(frozen=True)
class InvitationRecord:
    """A firm's invitation to one round, with every e-mail sent for it, oldest first."""

    invitation: Invitation
    messages: list[InvitationMessage]

    @property
    def reminders(self) -> list[InvitationMessage]:
        return [m for m in self.messages if m.kind == InvitationMessage.Kind.REMINDER]


def invitations_for_firm(user: Any, firm: Firm | int) -> list[InvitationRecord]:
    """The firm's invitations that the user may see, newest round first, with their e-mails.

    An official sees those of the rounds of the clusters they oversee; a firm's own user sees
    all of the firm's. Two queries, whatever the number of rounds.
    """
    firm_id = firm if isinstance(firm, int) else firm.pk
    own = cluster_selectors.user_firms(user).filter(pk=firm_id).exists()
    invitations = Invitation.objects.filter(firm_id=firm_id)
    if not own:
        invitations = invitations.filter(round__in=rounds_visible_to(user))
    found = list(
        invitations.select_related("round", "round__cluster").order_by(
            "-round__opens_at", "-round_id"
        )
    )
    messages: dict[int, list[InvitationMessage]] = {i.pk: [] for i in found}
    for message in InvitationMessage.objects.filter(invitation__in=[i.pk for i in found]):
        messages[message.invitation_id].append(message)
    return [InvitationRecord(invitation=i, messages=messages[i.pk]) for i in found]


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


def round_invitations(round_: Round) -> QuerySet[Invitation]:
    """The round's invitations, by firm, each annotated with its `status` (invited → sent →
    opened → accepted → started → submitted), `opened_at` (first visit of the link) and
    `reminders` (reminder e-mails not failed, as the reminder rules count them).

    The caller has checked the round is in scope (`round_for_official`)."""
    assessments = Assessment.objects.filter(
        round_id=OuterRef("round_id"), firm_id=OuterRef("firm_id")
    )
    reminders = (
        InvitationMessage.objects.filter(
            invitation_id=OuterRef("pk"), kind=InvitationMessage.Kind.REMINDER
        )
        .exclude(status=InvitationMessage.Status.FAILED)
        .order_by()
        .values("invitation_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Invitation.objects.filter(round=round_)
        .select_related("firm")
        .annotate(
            status=Case(
                When(
                    Exists(assessments.filter(status=Assessment.Status.SUBMITTED)),
                    then=Value("submitted"),
                ),
                When(Exists(assessments), then=Value("started")),
                When(accepted_at__isnull=False, then=Value("accepted")),
                When(opening__isnull=False, then=Value("opened")),
                When(sent_at__isnull=False, then=Value("sent")),
                default=Value("invited"),
                output_field=CharField(),
            ),
            opened_at=F("opening__opened_at"),
            reminders=Coalesce(Subquery(reminders, output_field=IntegerField()), 0),
        )
        .order_by("firm__name", "pk")
    )
