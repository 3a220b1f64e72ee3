"""Pages: rounds and invitations for officials; the questionnaire, review and result for firms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessments import selectors, services
from assessments.exporting import invitations_export
from assessments.forms import (
    ROUND_PAGE_SIZES,
    AnswerParseError,
    RoundFilterForm,
    RoundForm,
    SignupForm,
    parse_answer,
)
from assessments.framework import text
from assessments.models import Assessment, Invitation, Round
from assessments.models import active_language as _lang
from assessments.questionnaire import (
    AnswerReply,
    question_number,
    questionnaire_context,
    review_context,
)
from assessments.results import result_context
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind `login_required`: its user is signed in (django-stubs' idiom)."""

    user: User


def _answerable(request: AuthenticatedHttpRequest, pk: int) -> Assessment:
    """The user's own firm's assessment, or 404 for anyone else."""
    return selectors.assessment_to_answer(request.user, pk)


# --- Questionnaire ---------------------------------------------------------------------------


@login_required
def questionnaire(
    request: AuthenticatedHttpRequest, pk: int, dimension: str | None = None
) -> HttpResponse:
    """One dimension of the questionnaire, with overall progress and autosaving questions."""
    assessment = _answerable(request, pk)
    if assessment.is_submitted:
        return redirect("assessments:result", pk=assessment.pk)
    try:
        context = questionnaire_context(assessment, dimension, request.GET.get("group"))
    except KeyError:
        raise Http404 from None
    return render(request, "assessments/questionnaire.html", context)


def _base_revision(data: QueryDict) -> int:
    """The revision the page last saw (-1, which never matches, when it is not a number)."""
    raw = data.get("force_revision") or data.get("base_revision") or "0"
    try:
        return int(raw)
    except ValueError:
        return -1


@login_required
@require_POST
def answer(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    """Save one answer (htmx); answers with the question's status and out-of-band updates."""
    assessment = _answerable(request, pk)
    fw = framework_for(assessment.framework_version)
    try:
        question = fw.question(code)
    except KeyError:
        raise Http404 from None

    def respond(reply: AnswerReply, *, refresh_controls: bool = False) -> HttpResponse:
        reply.refresh_controls = refresh_controls
        return render(request, "assessments/_answer_response.html", reply.context(assessment))

    def unsaved(status: str, message: str, *, refresh_controls: bool = False) -> HttpResponse:
        stored = services.assessment_stored_answers(assessment)
        reply = AnswerReply.unsaved(fw, question, stored, status, message)
        return respond(reply, refresh_controls=refresh_controls)

    if "take_other" in request.POST:
        # The person chose the other tab's answer: show what is stored now.
        message = _("Now showing the answer saved in the other tab.")
        return unsaved("saved", message, refresh_controls=True)
    base_revision = _base_revision(request.POST)
    try:
        value = parse_answer(question, request.POST, question_number(fw, code))
    except AnswerParseError as exc:
        return unsaved("invalid", exc.message)
    # A multiple choice that the engine changed (an exclusive option) redraws its boxes.
    refresh = question.type == "multi" and (
        sorted(c for c in request.POST.getlist("value") if c) != sorted(value or [])
    )
    try:
        outcome = services.answer_save(
            assessment, code, value, base_revision=base_revision, user=request.user
        )
    except services.AnswerInvalid as exc:
        return unsaved("invalid", exc.message, refresh_controls=refresh)
    except services.AssessmentLocked as exc:
        return unsaved("locked", exc.message, refresh_controls=refresh)
    reply = AnswerReply.saved(fw, question, outcome, posted=value, base_revision=base_revision)
    return respond(reply, refresh_controls=refresh)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The review page: unanswered required questions, then submission with confirmation."""
    assessment = _answerable(request, pk)
    if assessment.is_submitted:
        return redirect("assessments:result", pk=assessment.pk)
    problems: list[str] = []
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            problems.append(_("Tick the box to confirm that the answers are final."))
        else:
            try:
                services.assessment_submit(assessment, user=request.user)
            except services.SubmissionIncomplete as exc:
                problems.append(
                    _("Some required questions are still unanswered; they are listed below.")
                    if exc.missing
                    else _("Some answers are not valid any more; please check them.")
                )
                problems.extend(exc.problems)
            except services.AssessmentLocked as exc:
                problems.append(exc.message)
            else:
                messages.success(request, _("Thank you: your answers are submitted."))
                return redirect("assessments:result", pk=assessment.pk)
    return render(
        request,
        "assessments/review.html",
        review_context(assessment, problems),
        status=400 if problems else 200,
    )


@login_required
def result(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The firm's result: level, scores, what is missing, peers and change over time."""
    assessment = selectors.assessment_for_user(request.user, pk)
    if not assessment.is_submitted:
        return redirect("assessments:questionnaire", pk=assessment.pk)
    context = result_context(request.user, assessment)
    context["can_answer"] = selectors.can_answer(request.user, assessment)
    return render(request, "assessments/result.html", context)


@login_required
@require_POST
def round_start(request: AuthenticatedHttpRequest, round_pk: int, firm_pk: int) -> HttpResponse:
    """Start or resume the firm's questionnaire in a round."""
    invitation = get_object_or_404(
        Invitation.objects.filter(firm__in=cluster_selectors.user_firms(request.user)),
        round_id=round_pk,
        firm_id=firm_pk,
    )
    assessment = services.assessment_start_or_resume(
        invitation.round, invitation.firm, user=request.user
    )
    return redirect("assessments:questionnaire", pk=assessment.pk)


# --- Invitations -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: sign up or log in, then answer for the invited firm."""
    found = (
        Invitation.objects.select_related("round", "round__cluster", "firm")
        .filter(token=token)
        .first()
    )
    if found is None:
        return render(request, "assessments/invitation_invalid.html", status=404)
    # An official checking the link from the round page is not the firm opening it.
    if not cluster_selectors.can_manage_cluster(request.user, found.round.cluster):
        services.invitation_mark_opened(found)
    form = SignupForm()
    expired = services.invitation_expired(found)
    if expired and request.method == "POST" and not request.user.is_authenticated:
        messages.error(request, _("This invitation expired when the round closed."))
    elif request.method == "POST":
        if request.user.is_authenticated and "accept" in request.POST:
            try:
                assessment = services.invitation_accept(found, user=request.user)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
                return redirect(request.path)
            return redirect("assessments:questionnaire", pk=assessment.pk)
        if not request.user.is_authenticated:
            form = SignupForm(request.POST)
            if form.is_valid():
                user = form.save()
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                assessment = services.invitation_accept(found, user=user)
                messages.success(request, _("Your account is ready. Your answers save as you go."))
                return redirect("assessments:questionnaire", pk=assessment.pk)
    return render(
        request,
        "assessments/invitation.html",
        {
            "invitation": found,
            "form": form,
            "is_open": found.round.is_open_at(timezone.now()),
            "expired": expired,
            "login_url": reverse("login") + "?next=" + request.path,
        },
    )


# --- Rounds (officials) ----------------------------------------------------------------------


@login_required
def round_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The rounds of the clusters the official oversees, with response figures."""
    rounds = selectors.rounds_visible_to(request.user).select_related(
        "cluster", "framework_version__framework"
    )
    rows = [(r, selectors.round_progress(request.user, r)) for r in rounds]
    can_open = cluster_selectors.clusters_visible_to(request.user).exists()
    if not rows and not can_open:
        raise Http404
    return render(request, "assessments/round_list.html", {"rows": rows, "can_open": can_open})


@login_required
@require_http_methods(["GET", "POST"])
def round_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """An official opens a round for one of their clusters."""
    clusters = cluster_selectors.clusters_visible_to(request.user)
    if not clusters.exists():
        raise Http404
    form = RoundForm(request.POST or None, clusters=clusters)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.round_open(
                user=request.user,
                cluster=form.cleaned_data["cluster"],
                framework_version=form.cleaned_data["framework_version"],
                name=form.cleaned_data["name"],
                opens_at=form.cleaned_data["opens_at"],
                closes_at=form.cleaned_data["closes_at"],
            )
        except ValidationError as exc:
            for fname, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(fname if fname in form.fields else None, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The round is open. Now invite the firms."))
            return redirect("assessments:round", pk=created.pk)
    # A refused form answers 400, whether its cluster is unknown or outside the user's scope.
    status = 400 if request.method == "POST" else 200
    return render(request, "assessments/round_form.html", {"form": form}, status=status)


# At most this many firms ticked in one post: a page shows at most 100, and "invite every firm
# not yet invited" covers the rest without sending thousands of ids.
_MAX_TICKED = 500


def _round_query(data: QueryDict, *, page: bool = True) -> str:
    """The round page's filters (and page) from a query or a form, as a query string."""
    form = RoundFilterForm(data)
    search, status, size = form.filters()
    query = {k: v for k, v in (("q", search), ("status", status)) if v}
    if size != ROUND_PAGE_SIZES[1]:
        query["size"] = str(size)
    number = data.get("page", "")
    if page and number.isdigit() and len(number) < 7:
        query["page"] = number
    return urlencode(query)


def _mailing_message(outcome: services.MailingOutcome, *, remind: bool) -> str:
    """What an invite or remind click did, in one sentence."""
    parts = []
    if not remind:
        parts.append(_("%(n)d firms invited.") % {"n": outcome.invited})
    if outcome.queued and outcome.sent_now < outcome.queued:
        parts.append(
            _("%(n)d e-mails are being sent; the page shows them as they go.")
            % {"n": outcome.queued}
        )
    else:
        parts.append(_("%(sent)d e-mails sent.") % {"sent": outcome.sent_now})
    if outcome.skipped:
        parts.append(
            (
                _(
                    "%(n)d firms were skipped: e-mailed less than 24 hours ago, or reminded "
                    "too often already."
                )
                if remind
                else _("%(n)d firms had their invitation e-mail already.")
            )
            % {"n": outcome.skipped}
        )
    if outcome.without_email:
        parts.append(
            _(
                "%(n)d firms have no e-mail address in the register: give them their link "
                "from the link list."
            )
            % {"n": outcome.without_email}
        )
    # Chinese sentences end in "。" and take no space after it; English ones do.
    return "".join(p if p.endswith("。") else p + " " for p in parts).strip()


def _round_post(request: AuthenticatedHttpRequest, found: Round) -> HttpResponse:
    """The round page's bulk actions: invite the ticked firms or all not yet invited, remind."""
    back = reverse("assessments:round", args=[found.pk])
    query = _round_query(request.POST)
    back = f"{back}?{query}" if query else back
    action = request.POST.get("action", "invite")
    ticked = request.POST.getlist("firm")
    if action not in {"invite", "invite_all", "remind"}:
        messages.error(request, _("Choose one of the buttons to invite or remind firms."))
        return redirect(back)
    if action == "remind":
        outcome = services.round_remind(found, user=request.user, language=_lang())
        messages.success(request, _mailing_message(outcome, remind=True))
        return redirect(back)
    if action == "invite_all":
        outcome = services.round_invite(found, user=request.user, language=_lang())
        messages.success(request, _mailing_message(outcome, remind=False))
        return redirect(back)
    if len(ticked) > _MAX_TICKED:
        messages.error(
            request,
            _("Tick at most %(max)d firms at a time, or invite every firm not yet invited.")
            % {"max": _MAX_TICKED},
        )
        return redirect(back)
    ids = sorted({int(i) for i in ticked if i.isdigit() and len(i) < 12})
    if not ids:
        messages.error(request, _("Tick at least one firm to invite."))
        return redirect(back)
    # An address typed on the page for a ticked firm wins over the register's.
    emails = {pk: request.POST.get(f"email-{pk}", "").strip()[:254] for pk in ids}
    emails = {pk: e for pk, e in emails.items() if e}
    bad = []
    for email in emails.values():
        try:
            validate_email(email)
        except ValidationError:
            bad.append(email)
    if bad:
        messages.error(
            request, _("Not a valid e-mail address: %(list)s") % {"list": ", ".join(bad)}
        )
        return redirect(back)
    try:
        outcome = services.round_invite(
            found, user=request.user, firm_ids=ids, emails=emails, language=_lang()
        )
    except ValidationError:
        # The same answer for an id of another cluster's firm and for an id that no firm has.
        messages.error(request, _("Only firms of the round's cluster can be invited."))
        return redirect(back)
    messages.success(request, _mailing_message(outcome, remind=False))
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def round_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A round for its official: response summary, bulk actions, firms filtered and paged."""
    found = selectors.round_for_official(request.user, pk)
    if request.method == "POST":
        try:
            return _round_post(request, found)
        except PermissionDenied:
            raise Http404 from None
        except services.RoundClosed as exc:
            messages.error(request, exc.message)
            return redirect(reverse("assessments:round", args=[found.pk]))
    data = request.GET.copy()
    data.setdefault("size", str(ROUND_PAGE_SIZES[1]))  # so that the list shows the size used
    form = RoundFilterForm(data)
    search, status, size = form.filters()
    shown = selectors.round_page(
        request.user,
        found,
        tracking=status,
        search=search,
        number=request.GET.get("page"),
        size=size,
    )
    query = _round_query(request.GET, page=False)
    return render(
        request,
        "assessments/round_detail.html",
        {
            "round": found,
            "form": form,
            "page": shown.page,
            "rows": [
                (r, services.invitation_url_for(r.token) if r.token else "") for r in shown.rows
            ],
            "query": query,
            "response": shown.response,
            "statuses": selectors.Tracking.choices,
            "status": status,
            "search": search,
            "framework_title": text(framework_for(found.framework_version).title, _lang()),
        },
    )


@login_required
def round_invitations_xlsx(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The round's invitation links as an XLSX list, for distribution offline."""
    found = selectors.round_for_official(request.user, pk)
    response = HttpResponse(
        invitations_export(found),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="round-{found.pk}-invitations.xlsx"'
    return response
