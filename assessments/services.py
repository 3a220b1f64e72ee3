"""Writes for rounds, invitations and assessments: open, invite, answer, submit, store results."""

from __future__ import annotations

import copy
import datetime
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from assessments import scoring, signals
from assessments.framework import Framework, Question, text
from assessments.models import (
    Answer,
    Assessment,
    DimensionScore,
    FrameworkVersion,
    Invitation,
    InvitationMessage,
    InvitationOpening,
    QuestionAttainment,
    Round,
    active_language,
)
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors
from clusters.models import Cluster, Firm, FirmMember
from gradient import audit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger("assessments.invitations")

_SIX_PLACES = Decimal("0.000001")
# Number answers: at most this many digits before the decimal point (the questionnaire's page
# also caps significant digits); the engine itself bounds only by the question's min and max.
MAX_NUMBER_DIGITS = 15
_NUMBER_LIMIT = 10**MAX_NUMBER_DIGITS
_FOUR_PLACES = Decimal("0.0001")


class AssessmentLocked(Exception):
    """Raised when an assessment can no longer change: submitted, or its round is not open."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AnswerInvalid(Exception):
    """Raised when one answer does not fit its question; nothing is saved."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SubmissionIncomplete(Exception):
    """Raised when required questions are unanswered or answers are invalid at submission."""

    def __init__(self, missing: Sequence[str], problems: Sequence[str] = ()) -> None:
        super().__init__(", ".join([*missing, *problems]))
        self.missing = list(missing)
        self.problems = list(problems)


# An assessment's saved answers as {question code: (value, revision)}; a cleared answer keeps
# its row (and revision) with the value None.
StoredAnswers = dict[str, tuple[Any, int]]


@dataclass
class AnswerSaveResult:
    """What happened to one answer save: saved, unchanged, or a conflict with another tab."""

    status: str  # "saved" | "unchanged" | "conflict"
    code: str
    value: Any
    revision: int
    # On a conflict: what the other tab stored, and its revision.
    other_value: Any = None
    # The questions that apply after the save, and before it.
    applicable: frozenset[str] = field(default_factory=frozenset)
    applicable_before: frozenset[str] = field(default_factory=frozenset)
    # Every answer of the assessment as stored once the save is done (read under the row
    # lock), so that the caller can redraw the page without reading them again.
    answers: StoredAnswers = field(default_factory=dict)

    @property
    def conflict(self) -> bool:
        return self.status == "conflict"


# --- Rounds and invitations ------------------------------------------------------------------


@transaction.atomic
def round_open(
    *,
    user: User,
    cluster: Cluster,
    framework_version: FrameworkVersion,
    name: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
) -> Round:
    """Open a round for a cluster on a published framework version; returns the new round."""
    if not cluster_selectors.can_manage_cluster(user, cluster):
        raise PermissionDenied(_("You cannot open rounds for this cluster."))
    errors: dict[str, list[str]] = {}
    if not framework_version.is_published:
        errors.setdefault("framework_version", []).append(
            _("Only a published framework version can be used in a round.")
        )
    if closes_at <= opens_at:
        errors.setdefault("closes_at", []).append(
            _("The closing date must be after the opening date.")
        )
    if not name.strip():
        errors.setdefault("name", []).append(_("Give the round a name."))
    if errors:
        raise ValidationError(errors)
    return Round.objects.create(
        cluster=cluster,
        framework_version=framework_version,
        name=name.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=user,
    )


def invitation_token() -> str:
    """A new, unguessable invitation token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


@transaction.atomic
def invitations_create(
    round: Round,
    *,
    user: User,
    firms: Iterable[Firm] | None = None,
    emails: Mapping[int, str] | None = None,
) -> list[Invitation]:
    """Invite firms of the round's cluster (all when `firms` is None); returns the invitations.

    Inviting a firm twice keeps its token. The address is the one given in `emails`, else the
    register's contact e-mail; a new address replaces the old one.
    """
    if not cluster_selectors.can_manage_cluster(user, round.cluster):
        raise PermissionDenied(_("You cannot invite firms to this round."))
    members = Firm.objects.filter(memberships__cluster=round.cluster)
    if firms is not None:
        ids = [f.pk for f in firms]
        outside = set(ids) - set(members.filter(pk__in=ids).values_list("pk", flat=True))
        if outside:
            raise ValidationError(_("Only firms of the round's cluster can be invited."))
        members = members.filter(pk__in=ids)
    emails = emails or {}
    existing = {inv.firm_id: inv for inv in round.invitations.select_for_update()}
    result: list[Invitation] = []
    new: list[Invitation] = []
    changed: list[Invitation] = []
    for firm in members.order_by("name", "pk").only("pk", "name", "contact_email"):
        email = (emails.get(firm.pk) or firm.contact_email or "").strip()
        invitation = existing.get(firm.pk)
        if invitation is None:
            invitation = Invitation(round=round, firm=firm, token=invitation_token(), email=email)
            new.append(invitation)
        elif email and email != invitation.email:
            invitation.email = email
            changed.append(invitation)
        result.append(invitation)
    # In bulk: inviting every firm of a register of thousands is one click.
    Invitation.objects.bulk_create(new, batch_size=500)
    Invitation.objects.bulk_update(changed, ["email"], batch_size=500)
    return result  # PostgreSQL and SQLite (3.35+) give bulk-created rows their ids


def invitation_url(invitation: Invitation) -> str:
    """The absolute link a firm opens to accept its invitation (SITE_URL, never the request)."""
    return invitation_url_for(invitation.token)


def invitation_url_for(token: str) -> str:
    """The absolute invitation link of a token, on the configured SITE_URL."""
    return settings.SITE_URL + reverse("assessments:invitation", args=[token])


def invitations_send(invitations: Iterable[Invitation], *, language: str = "zh-hans") -> int:
    """E-mail each invitation that has an address, now; returns how many were sent.

    Each e-mail is recorded as an InvitationMessage. The round page goes through
    `round_invite`, which does not mail a firm twice; this sends whatever it is given.
    """
    queued = [
        InvitationMessage.objects.create(
            invitation=invitation,
            kind=InvitationMessage.Kind.INVITATION,
            email=invitation.email,
            language=language,
        ).pk
        for invitation in invitations
        if invitation.email
    ]
    return invitation_messages_send(queued)


# --- Invitation e-mails and reminders --------------------------------------------------------

# A firm gets at most one e-mail from the round per REMINDER_INTERVAL (the invitation counts),
# and at most MAX_REMINDERS reminders in a round: a second click, a colleague pressing the same
# button, or a daily habit cannot flood a firm's inbox.
REMINDER_INTERVAL = datetime.timedelta(hours=24)
MAX_REMINDERS = 5
# Up to this many e-mails are sent inside the request; more go to a Celery task in chunks, so
# that inviting a register of thousands never holds a web worker for minutes.
INLINE_SEND_LIMIT = 20
SEND_CHUNK = 200
# A failed e-mail does not count as contact: the firm may be e-mailed again at once.
_LIVE = (
    InvitationMessage.Status.QUEUED,
    InvitationMessage.Status.SENDING,
    InvitationMessage.Status.SENT,
)


@dataclass(frozen=True)
class MailingOutcome:
    """What an invite or remind click did: rows created, e-mails queued and what was skipped."""

    invited: int = 0  # invitations created
    queued: int = 0  # e-mails queued (sent now, or by the worker)
    sent_now: int = 0  # of those, sent within the request
    without_email: int = 0  # firms with no address: give them the link from the XLSX list
    skipped: int = 0  # already mailed, reminded within REMINDER_INTERVAL, or at MAX_REMINDERS


class ReminderRefused(Exception):
    """A reminder that the rules do not allow now; `message` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RoundClosed(Exception):
    """The round is closed: nobody can answer any more, so nobody is invited or reminded."""

    def __init__(self) -> None:
        self.message = str(_("This round is closed."))
        super().__init__(self.message)


def round_open_or_refuse(round: Round, now: datetime.datetime | None = None) -> None:
    """Raise RoundClosed once the round has closed (invitations and reminders stop then)."""
    if (now or timezone.now()) >= round.closes_at:
        raise RoundClosed


def _lock_round(round: Round, user: User, message: str) -> Round:
    """The round's row, locked and still open: invites and reminders of one round run one at
    a time, and none once it has closed (RoundClosed)."""
    if not cluster_selectors.can_manage_cluster(user, round.cluster):
        raise PermissionDenied(message)
    locked = Round.objects.select_for_update().get(pk=round.pk)
    round_open_or_refuse(locked)
    return locked


def _queue(invitations: Iterable[Invitation], kind: str, *, user: User, language: str) -> list[int]:
    created = InvitationMessage.objects.bulk_create(
        [
            InvitationMessage(
                invitation=invitation,
                kind=kind,
                email=invitation.email,
                language=language,
                created_by=user,
            )
            for invitation in invitations
        ],
        batch_size=500,
    )
    return [m.pk for m in created]


def round_invite(
    round: Round,
    *,
    user: User,
    firm_ids: Iterable[int] | None = None,
    emails: Mapping[int, str] | None = None,
    language: str | None = None,
) -> MailingOutcome:
    """Invite the given firms of the round's cluster, or (None) every firm not yet invited,
    and e-mail the invitation to those with an address; returns what was done.

    Idempotent: an invitation already e-mailed (queued or sent) is not e-mailed again, so a
    double click invites and mails each firm once. Raises PermissionDenied outside the
    user's scope and ValidationError for a firm that is not in the round's cluster.
    """
    language = language or active_language()
    with transaction.atomic():
        locked = _lock_round(round, user, _("You cannot invite firms to this round."))
        before = set(locked.invitations.values_list("firm_id", flat=True))
        if firm_ids is None:
            firms: Iterable[Firm] | None = list(
                Firm.objects.filter(memberships__cluster_id=locked.cluster_id)
                .exclude(pk__in=before)
                .only("pk")
            )
        else:
            firms = [Firm(pk=pk) for pk in sorted(set(firm_ids))]
        invitations = invitations_create(locked, user=user, firms=firms, emails=emails)
        mailed = set(
            InvitationMessage.objects.filter(
                invitation__round=locked, kind=InvitationMessage.Kind.INVITATION
            )
            .exclude(status=InvitationMessage.Status.FAILED)
            .values_list("invitation_id", flat=True)
        )
        to_mail = [i for i in invitations if i.email and i.pk not in mailed]
        queued = _queue(to_mail, InvitationMessage.Kind.INVITATION, user=user, language=language)
        counts = {
            "invited": sum(1 for i in invitations if i.firm_id not in before),
            "queued": len(queued),
            "without_email": sum(1 for i in invitations if not i.email),
            "skipped": sum(1 for i in invitations if i.email and i.pk in mailed),
        }
        # One entry for the whole action: the invitations are written in bulk.
        audit.record(
            audit.INVITATIONS_CREATED,
            locked,
            actor=user,
            action=audit.CREATE,
            invited=counts["invited"],
            queued=counts["queued"],
            without_email=counts["without_email"],
            skipped=counts["skipped"],
        )
    return MailingOutcome(sent_now=invitation_messages_dispatch(queued), **counts)


def reminder_refusal(
    last_mailed: datetime.datetime | None, reminders: int, now: datetime.datetime
) -> str:
    """Why an invitation cannot be reminded now ("" when it can), in the active language."""
    if reminders >= MAX_REMINDERS:
        return _("This firm has had %(n)d reminders in this round, the most it can get.") % {
            "n": MAX_REMINDERS
        }
    if last_mailed is not None and now - last_mailed < REMINDER_INTERVAL:
        return _("This firm was e-mailed less than %(hours)d hours ago.") % {
            "hours": REMINDER_INTERVAL // datetime.timedelta(hours=1)
        }
    return ""


def _remindable(round: Round) -> QuerySet[Invitation]:
    """The round's invitations whose firm has not submitted, with their mailing history."""
    live = Q(messages__status__in=_LIVE)
    submitted = Assessment.objects.filter(
        round_id=round.pk, firm_id=OuterRef("firm_id"), status=Assessment.Status.SUBMITTED
    )
    return (
        Invitation.objects.filter(round_id=round.pk)
        .exclude(Exists(submitted))
        .annotate(
            last_mailed=Max("messages__created_at", filter=live),
            reminders=Count(
                "messages",
                filter=live & Q(messages__kind=InvitationMessage.Kind.REMINDER),
            ),
        )
    )


def round_remind(
    round: Round, *, user: User, language: str | None = None, now: datetime.datetime | None = None
) -> MailingOutcome:
    """Remind by e-mail every invited firm of the round that has not submitted; returns counts.

    A firm e-mailed within REMINDER_INTERVAL, or reminded MAX_REMINDERS times already, is
    skipped, so that pressing the button twice sends each firm one reminder.
    """
    language = language or active_language()
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_round(round, user, _("You cannot send reminders for this round."))
        due: list[Invitation] = []
        without_email = skipped = 0
        for invitation in _remindable(locked).order_by("pk"):
            if not invitation.email:
                without_email += 1
            elif reminder_refusal(invitation.last_mailed, invitation.reminders, now):  # type: ignore[attr-defined]
                skipped += 1
            else:
                due.append(invitation)
        queued = _queue(due, InvitationMessage.Kind.REMINDER, user=user, language=language)
        audit.record(
            audit.INVITATIONS_REMINDED,
            locked,
            actor=user,
            action=audit.CREATE,
            queued=len(queued),
            without_email=without_email,
            skipped=skipped,
        )
    return MailingOutcome(
        queued=len(queued),
        sent_now=invitation_messages_dispatch(queued),
        without_email=without_email,
        skipped=skipped,
    )


def invitation_remind(
    invitation: Invitation,
    *,
    user: User,
    language: str | None = None,
    now: datetime.datetime | None = None,
) -> InvitationMessage:
    """Remind one invited firm by e-mail now; returns the recorded reminder.

    For the firm file and the API. Same rules as `round_remind`: raises ReminderRefused when
    the firm has submitted, has no address, was e-mailed within REMINDER_INTERVAL or has had
    MAX_REMINDERS reminders; PermissionDenied outside the user's scope.
    """
    language = language or active_language()
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_round(invitation.round, user, _("You cannot send reminders for this round."))
        found = _remindable(locked).filter(pk=invitation.pk).first()
        if found is None:
            raise ReminderRefused(_("This firm has already submitted its answers."))
        if not found.email:
            raise ReminderRefused(_("This firm has no e-mail address in the register."))
        refusal = reminder_refusal(found.last_mailed, found.reminders, now)  # type: ignore[attr-defined]
        if refusal:
            raise ReminderRefused(refusal)
        [pk] = _queue([found], InvitationMessage.Kind.REMINDER, user=user, language=language)
        audit.record(audit.INVITATIONS_REMINDED, found, actor=user, action=audit.CREATE, queued=1)
    invitation_messages_send([pk])
    return InvitationMessage.objects.get(pk=pk)


def invitation_messages_dispatch(message_ids: Sequence[int]) -> int:
    """Send queued e-mails now when they are few, else hand them to the worker after commit;
    returns how many were sent now."""
    ids = list(message_ids)
    if len(ids) <= INLINE_SEND_LIMIT:
        return invitation_messages_send(ids)
    from assessments.tasks import send_invitation_messages

    def enqueue(chunk: list[int]) -> Callable[[], None]:
        return lambda: send_invitation_messages.delay(chunk)

    for start in range(0, len(ids), SEND_CHUNK):
        transaction.on_commit(enqueue(ids[start : start + SEND_CHUNK]))
    return 0


def _message_text(message: InvitationMessage) -> tuple[str, str]:
    """The subject and body of an invitation or reminder e-mail, in the message's language."""
    invitation = message.invitation
    round = invitation.round
    values = {
        "cluster": round.cluster.name,
        "firm": invitation.firm.name,
        "round": round.name,
        "closes": date_format(timezone.localtime(round.closes_at), "DATE_FORMAT"),
        "url": invitation_url(invitation),
    }
    if message.kind == InvitationMessage.Kind.REMINDER:
        subject = _("Reminder: digital maturity questionnaire %(round)s") % values
        body = (
            _(
                "Hello,\n\n%(cluster)s reminds %(firm)s that the digital maturity questionnaire "
                '"%(round)s" closes on %(closes)s, and your firm has not submitted it yet.\n\n'
                "Open this link to continue where you stopped; the answers already given are "
                "kept:\n%(url)s\n"
            )
            % values
        )
        return subject, body
    subject = _("Digital maturity questionnaire: %(round)s") % {"round": round.name}
    body = (
        _(
            "Hello,\n\n%(cluster)s invites %(firm)s to answer the digital maturity "
            'questionnaire "%(round)s" by %(closes)s.\n\nOpen this link to start; your '
            "answers are saved as you go, so you can stop and come back at any time:\n"
            "%(url)s\n"
        )
        % values
    )
    return subject, body


def invitation_messages_send(message_ids: Sequence[int]) -> int:
    """Send the queued e-mails among `message_ids`; returns how many were sent.

    Each row is claimed first (QUEUED → SENDING, a conditional update), so a duplicate task or
    a second caller sends nothing twice. A failure marks the row failed with the reason, and
    the rest of the batch goes on.
    """
    sent = 0
    # Per round: its messages sent and failed, and who asked for them (the audit's summary).
    done: dict[int, tuple[Round, Any, dict[str, int]]] = {}
    connection = get_connection()  # one connection for the whole batch
    for pk in message_ids:
        claimed = InvitationMessage.objects.filter(
            pk=pk, status=InvitationMessage.Status.QUEUED
        ).update(status=InvitationMessage.Status.SENDING)
        if not claimed:
            continue
        message = InvitationMessage.objects.select_related(
            "invitation__round__cluster", "invitation__firm", "created_by"
        ).get(pk=pk)
        round_ = message.invitation.round
        if round_.pk not in done:
            done[round_.pk] = (round_, message.created_by, {"sent": 0, "failed": 0})
        tally = done[round_.pk][2]
        with override(message.language):
            subject, body = _message_text(message)
        try:
            EmailMessage(subject, body, None, [message.email], connection=connection).send()
        except Exception as exc:  # SMTP and connection errors: record them, go on
            log.warning("invitation e-mail %s to %s failed: %s", pk, message.email, exc)
            InvitationMessage.objects.filter(pk=pk).update(
                status=InvitationMessage.Status.FAILED, error=str(exc)[:500]
            )
            tally["failed"] += 1
            continue
        now = timezone.now()
        InvitationMessage.objects.filter(pk=pk).update(
            status=InvitationMessage.Status.SENT, sent_at=now
        )
        if message.kind == InvitationMessage.Kind.INVITATION:
            Invitation.objects.filter(pk=message.invitation_id).update(sent_at=now)
        tally["sent"] += 1
        sent += 1
    for round_, requester, tally in done.values():
        audit.record(
            audit.INVITATIONS_SENT,
            round_,
            actor=requester,
            action=audit.UPDATE,
            sent=tally["sent"],
            failed=tally["failed"],
        )
    return sent


def invitation_mark_opened(invitation: Invitation, *, now: datetime.datetime | None = None) -> bool:
    """Record the first visit of an invitation link; returns True on that first visit."""
    _opening, created = InvitationOpening.objects.get_or_create(
        invitation_id=invitation.pk, defaults={"opened_at": now or timezone.now()}
    )
    return created


@transaction.atomic
def invitation_accept(invitation: Invitation, *, user: User) -> Assessment:
    """Bind the user to the invited firm and start (or resume) its assessment."""
    # The token is a bearer credential: once the round has closed it no longer adds people to
    # the firm (those already members keep their access to their results).
    is_member = cluster_selectors.user_firms(user).filter(pk=invitation.firm_id).exists()
    if invitation_expired(invitation) and not is_member:
        raise PermissionDenied(
            _("This invitation expired when the round closed. Ask your cluster office for access.")
        )
    FirmMember.objects.get_or_create(user=user, firm=invitation.firm)
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return assessment_start_or_resume(invitation.round, invitation.firm, user=user)


def invitation_expired(invitation: Invitation) -> bool:
    """True once the invitation's round has closed: the link then joins nobody to the firm."""
    return timezone.now() >= invitation.round.closes_at


@transaction.atomic
def assessment_start_or_resume(round: Round, firm: Firm, *, user: User) -> Assessment:
    """The firm's assessment in the round, created as a draft when it does not exist yet."""
    if not cluster_selectors.user_firms(user).filter(pk=firm.pk).exists():
        raise PermissionDenied(_("You do not answer for this firm."))
    existing = Assessment.objects.filter(round=round, firm=firm).first()
    if existing is not None:
        return existing
    if not Invitation.objects.filter(round=round, firm=firm).exists():
        raise PermissionDenied(_("This firm is not invited to this round."))
    try:
        with transaction.atomic():
            return Assessment.objects.create(
                round=round, firm=firm, framework_version=round.framework_version
            )
    except IntegrityError:  # another request created it first
        return Assessment.objects.get(round=round, firm=firm)


# --- Answers ---------------------------------------------------------------------------------


def assessment_answers(assessment: Assessment) -> dict[str, Any]:
    """The answered questions of an assessment as {code: value} (unanswered left out)."""
    return {
        code: value
        for code, value in assessment.answers.values_list("question_code", "value")
        if value is not None
    }


def assessment_stored_answers(assessment: Assessment) -> StoredAnswers:
    """Every saved answer of an assessment as {code: (value, revision)}, cleared ones included."""
    return {
        code: (value, revision)
        for code, value, revision in assessment.answers.values_list(
            "question_code", "value", "revision"
        )
    }


def answers_given(stored: StoredAnswers) -> dict[str, Any]:
    """The answered questions of stored answers as {code: value} (cleared ones left out)."""
    return {code: value for code, (value, _revision) in stored.items() if value is not None}


def _check_open(assessment: Assessment, now: datetime.datetime) -> None:
    if assessment.is_submitted:
        raise AssessmentLocked(_("This questionnaire has been submitted and can no longer change."))
    round = assessment.round
    if now < round.opens_at:
        raise AssessmentLocked(
            _("This round opens on %(date)s; answers can be saved from then on.")
            % {"date": date_format(timezone.localtime(round.opens_at), "DATETIME_FORMAT")}
        )
    if now >= round.closes_at:
        raise AssessmentLocked(
            _("This round closed on %(date)s; answers can no longer be changed or submitted.")
            % {"date": date_format(timezone.localtime(round.closes_at), "DATETIME_FORMAT")}
        )


# What can change under a loaded draft, read again under the row lock: its state, and its
# round's dates (an official may close the round meanwhile).
_LOCKED_COLUMNS = ("status", "verified_at", "round__opens_at", "round__closes_at", "has_result")


def _lock_open(assessment: Assessment, now: datetime.datetime) -> Assessment:
    """The assessment as it is under a row lock, once it is known to be open for changes.

    Only the assessment row is locked (not its round, which every firm of the cluster
    shares): saves of one draft are serialised, and submission waits for them. An assessment
    loaded with its round, framework version and firm (the pages' `assessment_to_answer`) is
    locked by a query of five columns, and a copy of it with those columns fresh is returned;
    any other is reloaded whole. Either way `has_result` tells whether result rows are stored.
    """
    relations = (Assessment.round.field, Assessment.framework_version.field, Assessment.firm.field)
    if not all(relation.is_cached(assessment) for relation in relations):
        locked = (
            Assessment.objects.select_for_update(of=("self",))
            # The firm for the submission's audit entry, which names it (no query of its own).
            .select_related("round", "framework_version", "firm")
            .defer("framework_version__definition")
            .get(pk=assessment.pk)
        )
        locked.has_result = locked.result is not None  # type: ignore[attr-defined]
        _check_open(locked, now)
        return locked
    row = (
        Assessment.objects.select_for_update(of=("self",))
        .filter(pk=assessment.pk)
        .annotate(has_result=ExpressionWrapper(Q(result__isnull=False), BooleanField()))
        .values_list(*_LOCKED_COLUMNS)
        .get()
    )
    # Copies, so that the caller's objects stay as they were if the transaction fails.
    locked = copy.copy(assessment)
    locked.round = copy.copy(assessment.round)
    status, locked.verified_at, opens_at, closes_at, has_result = row
    locked.status = status
    locked.round.opens_at, locked.round.closes_at = opens_at, closes_at
    locked.has_result = has_result  # type: ignore[attr-defined]
    _check_open(locked, now)
    return locked


def assessment_lock_reason(assessment: Assessment, now: datetime.datetime | None = None) -> str:
    """Why the assessment cannot change now (submitted, round not open), or "" when it can."""
    try:
        _check_open(assessment, now or timezone.now())
    except AssessmentLocked as exc:
        return exc.message
    return ""


def _same(a: Any, b: Any) -> bool:
    """Equal answers; numbers compare by value, so 5 and 5.0 are the same answer."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


@transaction.atomic
def answer_save(
    assessment: Assessment,
    code: str,
    value: Any,
    *,
    base_revision: int,
    user: User,
    now: datetime.datetime | None = None,
) -> AnswerSaveResult:
    """Save one answer unless another tab changed it since `base_revision`; returns the outcome.

    `base_revision` is the revision the caller last saw (0 when it saw no answer). A value of
    None clears the answer. Raises AnswerInvalid (nothing saved) or AssessmentLocked.
    """
    now = now or timezone.now()
    assessment = _lock_open(assessment, now)
    framework = framework_for(assessment.framework_version)
    try:
        question = framework.question(code)
    except KeyError:
        raise AnswerInvalid(code, _("There is no question %(code)s.") % {"code": code}) from None
    if isinstance(value, list) and question.type == "multi" and not value:
        value = None
    if value is not None:
        problem = scoring.check_answer(framework, code, value)
        if problem:
            raise AnswerInvalid(code, _answer_problem_message(framework, question, value, problem))
        if question.type == "number" and _too_large(value):  # a question without min or max
            raise AnswerInvalid(
                code,
                _("Enter a number with at most %(digits)s digits before the decimal point.")
                % {"digits": MAX_NUMBER_DIGITS},
            )
    # One read of every answer: the one to save, and the rest for applicability.
    rows = {a.question_code: a for a in Answer.objects.filter(assessment=assessment)}
    stored: StoredAnswers = {c: (a.value, a.revision) for c, a in rows.items()}
    applicable_before = scoring.applicable(framework, answers_given(stored))
    answer = rows.get(code)
    stored_revision = answer.revision if answer else 0
    stored_value = answer.value if answer else None
    if _same(stored_value, value):
        outcome = AnswerSaveResult("unchanged", code, stored_value, stored_revision)
    elif stored_revision != base_revision:
        outcome = AnswerSaveResult(
            "conflict", code, value, stored_revision, other_value=stored_value
        )
    else:
        if answer is None:
            answer = Answer.objects.create(
                assessment=assessment, question_code=code, value=value, updated_by=user
            )
        else:
            answer.value = value
            answer.revision += 1
            answer.updated_by = user
            answer.save(update_fields=["value", "revision", "updated_by", "updated_at"])
        Assessment.objects.filter(pk=assessment.pk).update(updated_at=now)
        stored[code] = (value, answer.revision)
        outcome = AnswerSaveResult("saved", code, value, answer.revision)
    outcome.answers = stored
    outcome.applicable_before = applicable_before
    outcome.applicable = (
        scoring.applicable(framework, answers_given(stored))
        if outcome.status == "saved"
        else applicable_before
    )
    return outcome


def answer_problem(framework: Framework, code: str, value: Any) -> str:
    """Why `value` is no valid answer to question `code`, in the user's language, or "".

    The same checks as a firm's save (the engine's, and the digits cap of number answers), for
    other writers of answers such as an assessor's verification. None (no answer) is valid.
    """
    try:
        question = framework.question(code)
    except KeyError:
        return _("There is no question %(code)s.") % {"code": code}
    if value is None:
        return ""
    problem = scoring.check_answer(framework, code, value)
    if problem:
        return _answer_problem_message(framework, question, value, problem)
    if question.type == "number" and _too_large(value):
        return _("Enter a number with at most %(digits)s digits before the decimal point.") % {
            "digits": MAX_NUMBER_DIGITS
        }
    return ""


def _too_large(value: Any) -> bool:
    """A finite number too large for a number answer (the engine refuses the others)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return abs(value) >= _NUMBER_LIMIT


def _answer_problem_message(
    framework: Framework, question: Question, value: Any, problem: str
) -> str:
    """The engine's problem, retold in the user's language where the type is known."""
    kind = question.type
    if kind == "number":
        if question.integer and isinstance(value, int | float) and value != int(value):
            return _("Enter a whole number.")
        low, high = question.min, question.max
        if low is not None and high is not None:
            return _("Enter a number from %(min)s to %(max)s.") % {
                "min": number_text(low),
                "max": number_text(high),
            }
        if low is not None:
            return _("Enter a number of at least %(min)s.") % {"min": number_text(low)}
        if high is not None:
            return _("Enter a number of at most %(max)s.") % {"max": number_text(high)}
        return _("Enter a number.")
    if kind == "multi":
        exclusive = [o for o in question.options if o.exclusive]
        chosen = set(value) if isinstance(value, list) else set()
        if len(chosen) > 1 and any(o.code in chosen for o in exclusive):
            return _('"%(option)s" cannot be combined with other choices.') % {
                "option": ", ".join(framework_text(o.text) for o in exclusive if o.code in chosen)
            }
        return _("This answer is not one of the choices offered.")
    if kind == "text":
        return _("Keep the answer under %(n)s characters.") % {"n": question.max_length}
    return _("This answer is not one of the choices offered.")


def framework_text(value: Any) -> str:
    """A framework text in the active language ("" for None)."""
    return text(value, active_language())


def number_text(number: Decimal | int | float) -> str:
    """A number as typed by a person: no exponent, no trailing zeros after a whole number."""
    d = Decimal(str(number))
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


# --- Submission and results ------------------------------------------------------------------


@transaction.atomic
def assessment_submit(
    assessment: Assessment, *, user: User, now: datetime.datetime | None = None
) -> Assessment:
    """Score the draft and store its result snapshot; returns the submitted assessment.

    Answers to questions that do not apply are discarded first. Raises SubmissionIncomplete
    when required questions are unanswered, AssessmentLocked when it is too late.
    """
    now = now or timezone.now()
    assessment = _lock_open(assessment, now)
    framework = framework_for(assessment.framework_version)
    answers = assessment_answers(assessment)
    applicable = scoring.applicable(framework, answers)
    kept = {code: value for code, value in answers.items() if code in applicable}
    missing = scoring.missing_required(framework, kept)
    problems = scoring.check_answers(framework, kept)
    if missing or problems:
        raise SubmissionIncomplete(missing, problems)
    result = scoring.score(framework, kept)
    discarded = set(answers) - set(kept)
    if discarded:
        assessment.answers.filter(question_code__in=discarded).delete()
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = now
    assessment.submitted_by = user
    _store_result(
        assessment,
        framework,
        result,
        fields=("status", "submitted_at", "submitted_by"),
        replace=assessment.has_result,  # type: ignore[attr-defined]
    )
    audit.record(
        audit.SUBMITTED,
        assessment,
        actor=user,
        action=audit.UPDATE,
        changes={"status": [str(Assessment.Status.DRAFT), str(Assessment.Status.SUBMITTED)]},
        level=assessment.level,
        total=str(assessment.total),
    )
    ids = {"assessment_id": assessment.pk, "round_id": assessment.round_id}
    # robust: a listener's failure (a broker down) is logged and never fails the submission.
    transaction.on_commit(lambda: signals.assessment_submitted.send(Assessment, **ids), robust=True)
    return assessment


def _dec(value: Any, places: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def _result_fields(framework: Framework, result: scoring.Result) -> dict[str, Any]:
    return {
        "result": result.snapshot(),
        "total": _dec(result.total, Decimal("0.01")),
        "level": result.level or "",
        "level_rank": framework.level_rank(result.level),
        "basic": bool(result.basic),
        "advanced": bool(result.advanced),
    }


def _result_rows(
    assessment: Assessment, framework: Framework, result: scoring.Result
) -> tuple[list[DimensionScore], list[QuestionAttainment]]:
    dimensions = [
        DimensionScore(
            assessment=assessment,
            dimension_code=code,
            score=_dec(score, Decimal("0.01")),
        )
        for code, score in result.dimensions.items()
    ]
    attainments = []
    for code, attainment in result.attainment.items():
        question = framework.question(code)
        scored = question.type != "level"
        attainments.append(
            QuestionAttainment(
                assessment=assessment,
                question_code=code,
                dimension_code=question.dimension,
                attainment=Decimal(str(attainment)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP),
                earned=_dec(result.earned.get(code), _FOUR_PLACES) if scored else None,
                points=_dec(question.points, _FOUR_PLACES) if scored else None,
            )
        )
    return dimensions, attainments


@transaction.atomic
def assessment_store_result(
    assessment: Assessment, framework: Framework, result: scoring.Result
) -> None:
    """Store a scorer Result on the assessment with its dimension and attainment rows.

    Replaces any rows stored before, so re-scoring gives the same shape as a first scoring.
    Raises AssessmentLocked for a verified assessment: its stored result is final.
    """
    _store_result(assessment, framework, result)


_RESULT_COLUMNS = ("result", "total", "level", "level_rank", "basic", "advanced", "updated_at")


def _store_result(
    assessment: Assessment,
    framework: Framework,
    result: scoring.Result,
    *,
    fields: Sequence[str] | None = None,
    replace: bool = True,
) -> None:
    """`assessment_store_result` inside the caller's transaction (no savepoint of its own).

    Saves the assessment (with `fields`: one UPDATE of those and the result's columns only),
    then writes its dimension and attainment rows, each kind in one INSERT. `replace=False`
    when the caller knows, under the row lock, that no result was ever stored (rows are only
    written with the `result` column, in one transaction): then nothing is deleted first.
    The unique constraints on (assessment, code) would refuse a second set of rows anyway.
    """
    if assessment.verified_at is not None:
        raise AssessmentLocked(
            _("This assessment has been verified on site; its result can no longer change.")
        )
    for name, value in _result_fields(framework, result).items():
        setattr(assessment, name, value)
    if fields is None:
        assessment.save()
    else:
        assessment.save(update_fields=[*fields, *_RESULT_COLUMNS])
    if replace:
        DimensionScore.objects.filter(assessment=assessment).delete()
        QuestionAttainment.objects.filter(assessment=assessment).delete()
    dimensions, attainments = _result_rows(assessment, framework, result)
    DimensionScore.objects.bulk_create(dimensions)
    QuestionAttainment.objects.bulk_create(attainments)


def result_fields(framework: Framework, result: scoring.Result) -> dict[str, Any]:
    """The stored fields of a result (result, total, level, level_rank, basic, advanced), for
    other holders of a scored result such as an on-site verification."""
    return _result_fields(framework, result)


def result_fields_set(assessment: Assessment, framework: Framework, result: scoring.Result) -> None:
    """Put a result's stored fields on an unsaved (or to be saved) assessment, without rows."""
    for name, value in _result_fields(framework, result).items():
        setattr(assessment, name, value)


@transaction.atomic
def results_bulk_store(
    items: Sequence[tuple[Assessment, Framework, scoring.Result]], *, fields_saved: bool = False
) -> None:
    """Store many results at once (seeding); the assessments must be saved, without rows yet.

    With `fields_saved`, the assessments were created with `result_fields_set` already and
    only the dimension and attainment rows are written (no UPDATE of the assessments).
    """
    dimensions: list[DimensionScore] = []
    attainments: list[QuestionAttainment] = []
    changed: list[Assessment] = []
    for assessment, framework, result in items:
        if not fields_saved:
            result_fields_set(assessment, framework, result)
            changed.append(assessment)
        dims, atts = _result_rows(assessment, framework, result)
        dimensions.extend(dims)
        attainments.extend(atts)
    if changed:
        Assessment.objects.bulk_update(
            changed,
            ["result", "total", "level", "level_rank", "basic", "advanced"],
            batch_size=500,
        )
    DimensionScore.objects.bulk_create(dimensions, batch_size=2000)
    QuestionAttainment.objects.bulk_create(attainments, batch_size=2000)


# --- For the API (issue 12): close a round, save many answers at once -------------------------


class RoundNotOpen(Exception):
    """Raised when a round cannot be closed: it has not opened yet, or is closed already."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def round_close(round: Round, *, user: User, now: datetime.datetime | None = None) -> Round:
    """Close an open round now (its closing date becomes now); returns the closed round.

    Drafts can then no longer change, and invitation links join nobody. Raises
    PermissionDenied outside the user's clusters and RoundNotOpen for an upcoming or closed one.
    """
    if not cluster_selectors.can_manage_cluster(user, round.cluster):
        raise PermissionDenied(_("You cannot close rounds of this cluster."))
    now = now or timezone.now()
    locked = Round.objects.select_for_update().get(pk=round.pk)
    if now < locked.opens_at:
        raise RoundNotOpen(_("This round has not opened yet, so it cannot be closed."))
    if now >= locked.closes_at:
        raise RoundNotOpen(_("This round is closed already."))
    # The check constraint wants closes_at after opens_at: a round closed in the same instant
    # it opened stays open for one microsecond.
    locked.closes_at = max(now, locked.opens_at + datetime.timedelta(microseconds=1))
    locked.save(update_fields=["closes_at"])
    return locked


class AnswersRejected(Exception):
    """Raised when answers of a batch do not fit their questions; nothing of it is saved."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(", ".join(problems))
        self.problems = dict(problems)


class AnswersConflict(Exception):
    """Raised when answers of a batch changed elsewhere since their base revision; nothing of
    it is saved. `outcomes` holds every answer's outcome, conflicts with the other value."""

    def __init__(self, outcomes: Sequence[AnswerSaveResult]) -> None:
        super().__init__(", ".join(o.code for o in outcomes if o.conflict))
        self.outcomes = list(outcomes)


@transaction.atomic
def answers_save(
    assessment: Assessment,
    answers: Mapping[str, tuple[Any, int]],
    *,
    user: User,
    now: datetime.datetime | None = None,
) -> list[AnswerSaveResult]:
    """Save several answers ({code: (value, base_revision)}) all or none; returns each outcome.

    Each answer is saved as `answer_save` saves one. When any is invalid, AnswersRejected names
    every invalid one; when any conflicts, AnswersConflict gives every outcome; either way the
    whole batch is rolled back. Raises AssessmentLocked when the draft cannot change.
    """
    now = now or timezone.now()
    outcomes: list[AnswerSaveResult] = []
    problems: dict[str, str] = {}
    for code, (value, base_revision) in answers.items():
        try:
            with transaction.atomic():
                outcomes.append(
                    answer_save(
                        assessment, code, value, base_revision=base_revision, user=user, now=now
                    )
                )
        except AnswerInvalid as exc:
            problems[code] = exc.message
    if problems:
        raise AnswersRejected(problems)
    if any(outcome.conflict for outcome in outcomes):
        raise AnswersConflict(outcomes)
    return outcomes
