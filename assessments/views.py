"""Pages: rounds and invitations for officials; the questionnaire, review and result for firms."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessments import scoring, selectors, services
from assessments.forms import AnswerParseError, RoundForm, SignupForm, parse_answer
from assessments.framework import Framework, text
from assessments.models import Assessment, Invitation
from assessments.models import active_language as _lang
from assessments.results import result_context
from assessments.versions import framework_for
from clusters import selectors as cluster_selectors
from clusters.models import Cluster
from clusters.spreadsheets import guard_cell

# --- The questionnaire's view model ----------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    checked: bool
    exclusive: bool = False


@dataclass
class QuestionView:
    """One question as the page shows it, with its saved value and revision."""

    code: str
    number: int
    type: str
    text: str
    help: str
    required: bool
    applicable: bool
    value: Any
    revision: int
    choices: list[Choice] = field(default_factory=list)
    unit: str = ""
    min: str = ""
    max: str = ""
    integer: bool = False
    max_length: int = 0
    status: str = ""  # "", "saved", "unchanged", "conflict", "invalid", "locked"
    message: str = ""
    other_value: Any = None
    other_revision: int = 0
    other_display: str = ""
    mine_display: str = ""
    locked: bool = False

    @property
    def answered(self) -> bool:
        return self.value is not None

    @property
    def value_text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            return format(self.value, "f").rstrip("0").rstrip(".")
        return str(self.value)


def _plain(number: Any) -> str:
    if number is None:
        return ""
    return services.number_text(number)


def _display(question: Any, value: Any) -> str:
    """An answer as words, for the conflict message and the review page."""
    if value is None:
        return _("(no answer)")
    if question.type == "yesno":
        return _("Yes") if value else _("No")
    if question.type in {"single", "multi"}:
        codes = value if isinstance(value, list) else [value]
        labels = {o.code: text(o.text, _lang()) for o in question.options}
        return "、".join(labels.get(c, str(c)) for c in codes) if codes else _("(none)")
    if question.type == "level":
        labels = {c.value: text(c.text, _lang()) for c in question.levels}
        return f"{value} · {labels.get(value, '')}"
    if question.type == "number":
        return f"{_plain(value)} {question.unit or ''}".strip()
    return str(value)


def _question_view(
    fw: Framework, question: Any, number: int, stored: tuple[Any, int] | None, applicable: bool
) -> QuestionView:
    value, revision = stored if stored else (None, 0)
    view = QuestionView(
        code=question.code,
        number=number,
        type=question.type,
        text=text(question.text, _lang()),
        help=text(question.help, _lang()) if question.help else "",
        required=question.required,
        applicable=applicable,
        value=value,
        revision=revision,
    )
    _fill_choices(view, question, value)
    if question.type == "number":
        view.unit = question.unit or ""
        view.min = _plain(question.min)
        view.max = _plain(question.max)
        view.integer = question.integer
    if question.type == "text":
        view.max_length = question.max_length
    return view


def _fill_choices(view: QuestionView, question: Any, value: Any) -> None:
    if question.type in {"single", "multi"}:
        chosen = set(value if isinstance(value, list) else [value])
        view.choices = [
            Choice(o.code, text(o.text, _lang()), o.code in chosen, o.exclusive)
            for o in question.options
        ]
    elif question.type == "yesno":
        view.choices = [
            Choice("true", _("Yes"), value is True),
            Choice("false", _("No"), value is False),
        ]
    elif question.type == "level":
        view.choices = [
            Choice(str(c.value), text(c.text, _lang()), value == c.value) for c in question.levels
        ]


def _stored(assessment: Assessment) -> dict[str, tuple[Any, int]]:
    return {
        code: (value, revision)
        for code, value, revision in assessment.answers.values_list(
            "question_code", "value", "revision"
        )
    }


def _answers(stored: dict[str, tuple[Any, int]]) -> dict[str, Any]:
    return {code: value for code, (value, _rev) in stored.items() if value is not None}


@dataclass
class Progress:
    answered: int
    applicable: int
    missing_required: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 100


def _progress(fw: Framework, answers: dict[str, Any], applicable: frozenset[str]) -> Progress:
    answered = sum(1 for q in fw.questions if q.code in applicable and q.code in answers)
    return Progress(
        answered=answered,
        applicable=sum(1 for q in fw.questions if q.code in applicable),
        missing_required=len(scoring.missing_required(fw, answers)),
    )


def _dimension_nav(fw: Framework, answers: dict[str, Any], applicable: frozenset[str]) -> list:
    nav = []
    for index, dim in enumerate(fw.dimensions, start=1):
        codes = [q.code for q in dim.questions if q.code in applicable]
        nav.append(
            {
                "index": index,
                "code": dim.code,
                "title": text(dim.title, _lang()),
                "answered": sum(1 for c in codes if c in answers),
                "total": len(codes),
            }
        )
    return nav


def _answerable(request: HttpRequest, pk: int) -> Assessment:
    """The user's own firm's assessment, or 404 for anyone else."""
    assessment = selectors.assessment_for_user(request.user, pk)
    if not selectors.can_answer(request.user, assessment):
        raise Http404
    return assessment


def _lock_message(assessment: Assessment) -> str:
    return services.assessment_lock_reason(assessment)


# --- Questionnaire ---------------------------------------------------------------------------


@login_required
def questionnaire(request: HttpRequest, pk: int, dimension: str | None = None) -> HttpResponse:
    """One dimension of the questionnaire, with overall progress and autosaving questions."""
    assessment = _answerable(request, pk)
    if assessment.is_submitted:
        return redirect("assessments:result", pk=assessment.pk)
    fw = framework_for(assessment.framework_version)
    dims = list(fw.dimensions)
    index = 0
    if dimension is not None:
        codes = [d.code for d in dims]
        if dimension not in codes:
            raise Http404
        index = codes.index(dimension)
    dim = dims[index]
    stored = _stored(assessment)
    answers = _answers(stored)
    applicable = scoring.applicable(fw, answers)
    number_of = {q.code: n for n, q in enumerate(fw.questions, start=1)}
    lock = _lock_message(assessment)
    questions = []
    for q in dim.questions:
        view = _question_view(fw, q, number_of[q.code], stored.get(q.code), q.code in applicable)
        view.locked = bool(lock)
        questions.append(view)
    return render(
        request,
        "assessments/questionnaire.html",
        {
            "assessment": assessment,
            "framework_title": text(fw.title, _lang()),
            "dimension": dim,
            "dimension_title": text(dim.title, _lang()),
            "dimension_description": text(dim.description, _lang()) if dim.description else "",
            "dimension_index": index + 1,
            "dimension_count": len(dims),
            "previous_dimension": dims[index - 1].code if index > 0 else None,
            "next_dimension": dims[index + 1].code if index + 1 < len(dims) else None,
            "nav": _dimension_nav(fw, answers, applicable),
            "questions": questions,
            "progress": _progress(fw, answers, applicable),
            "lock_message": lock,
        },
    )


@login_required
@require_POST
def answer(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """Save one answer (htmx); answers with the question's status and out-of-band updates."""
    assessment = _answerable(request, pk)
    fw = framework_for(assessment.framework_version)
    try:
        question = fw.question(code)
    except KeyError:
        raise Http404 from None
    number_of = {q.code: n for n, q in enumerate(fw.questions, start=1)}
    stored_before = _stored(assessment)
    applicable_before = scoring.applicable(fw, _answers(stored_before))
    refresh_controls = False

    def respond(view: QuestionView, applicable_after: frozenset[str], stored: dict) -> HttpResponse:
        answers = _answers(stored)
        page = {q.code for q in fw.questions if q.dimension == question.dimension}
        changed = [
            _question_view(fw, q, number_of[q.code], stored.get(q.code), q.code in applicable_after)
            for q in fw.questions
            if q.code in page
            and q.code != code
            and (q.code in applicable_before) != (q.code in applicable_after)
        ]
        return render(
            request,
            "assessments/_answer_response.html",
            {
                "assessment": assessment,
                "q": view,
                "refresh_controls": refresh_controls,
                "changed": changed,
                "progress": _progress(fw, answers, applicable_after),
                "nav": _dimension_nav(fw, answers, applicable_after),
                "current_dimension": question.dimension,
            },
        )

    if "take_other" in request.POST:
        # The person chose the other tab's answer: show what is stored now.
        view = _question_view(
            fw, question, number_of[code], stored_before.get(code), code in applicable_before
        )
        view.status = "saved"
        view.message = _("Now showing the answer saved in the other tab.")
        refresh_controls = True
        return respond(view, applicable_before, stored_before)

    raw_base = request.POST.get("force_revision") or request.POST.get("base_revision") or "0"
    try:
        base_revision = int(raw_base)
    except ValueError:
        base_revision = -1
    current = _question_view(
        fw, question, number_of[code], stored_before.get(code), code in applicable_before
    )
    try:
        value = parse_answer(question, request.POST, number_of[code])
    except AnswerParseError as exc:
        current.status, current.message = "invalid", exc.message
        return respond(current, applicable_before, stored_before)
    if question.type == "multi":
        posted = sorted(c for c in request.POST.getlist("value") if c)
        refresh_controls = posted != sorted(value or [])
    try:
        outcome = services.answer_save(
            assessment, code, value, base_revision=base_revision, user=request.user
        )
    except services.AnswerInvalid as exc:
        current.status, current.message = "invalid", exc.message
        return respond(current, applicable_before, stored_before)
    except services.AssessmentLocked as exc:
        current.status, current.message = "locked", exc.message
        current.locked = True
        return respond(current, applicable_before, stored_before)
    stored_after = _stored(assessment)
    view = _question_view(
        fw, question, number_of[code], stored_after.get(code), code in outcome.applicable
    )
    view.status = outcome.status
    if outcome.conflict:
        # Keep the person's own value on screen; offer both.
        view.value = value
        _fill_choices(view, question, value)
        view.revision = base_revision
        view.other_value = outcome.other_value
        view.other_revision = outcome.revision
        view.other_display = _display(question, outcome.other_value)
        view.mine_display = _display(question, value)
        view.message = _("This answer was changed in another tab or by a colleague.")
    return respond(view, outcome.applicable, stored_after)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page: unanswered required questions, then submission with confirmation."""
    assessment = _answerable(request, pk)
    if assessment.is_submitted:
        return redirect("assessments:result", pk=assessment.pk)
    fw = framework_for(assessment.framework_version)
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
    stored = _stored(assessment)
    answers = _answers(stored)
    applicable = scoring.applicable(fw, answers)
    missing = set(scoring.missing_required(fw, answers))
    number_of = {q.code: n for n, q in enumerate(fw.questions, start=1)}
    sections = []
    for dim in fw.dimensions:
        rows = []
        for q in dim.questions:
            if q.code not in applicable:
                continue
            rows.append(
                {
                    "code": q.code,
                    "number": number_of[q.code],
                    "text": text(q.text, _lang()),
                    "answer": _display(q, answers.get(q.code)) if q.code in answers else "",
                    "missing": q.code in missing,
                    "optional": not q.required,
                }
            )
        sections.append({"code": dim.code, "title": text(dim.title, _lang()), "rows": rows})
    return render(
        request,
        "assessments/review.html",
        {
            "assessment": assessment,
            "framework_title": text(fw.title, _lang()),
            "sections": sections,
            "missing_count": len(missing),
            "progress": _progress(fw, answers, applicable),
            "problems": problems,
            "lock_message": _lock_message(assessment),
        },
        status=400 if problems else 200,
    )


@login_required
def result(request: HttpRequest, pk: int) -> HttpResponse:
    """The firm's result: level, scores, what is missing, peers and change over time."""
    assessment = selectors.assessment_for_user(request.user, pk)
    if not assessment.is_submitted:
        return redirect("assessments:questionnaire", pk=assessment.pk)
    context = result_context(request.user, assessment)
    context["can_answer"] = selectors.can_answer(request.user, assessment)
    return render(request, "assessments/result.html", context)


@login_required
@require_POST
def round_start(request: HttpRequest, round_pk: int, firm_pk: int) -> HttpResponse:
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
def round_list(request: HttpRequest) -> HttpResponse:
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
def round_create(request: HttpRequest) -> HttpResponse:
    """An official opens a round for one of their clusters."""
    clusters = cluster_selectors.clusters_visible_to(request.user)
    if not clusters.exists():
        raise Http404
    form = RoundForm(request.POST or None)
    form.fields["cluster"] = _cluster_field(clusters)
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


def _cluster_field(clusters: Any) -> Any:
    from django import forms

    return forms.ModelChoiceField(label=_("Cluster"), queryset=clusters)


@login_required
@require_http_methods(["GET", "POST"])
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A round for its official: invitations, who answered, invite and send links."""
    found = selectors.round_for_official(request.user, pk)
    firms = Cluster.objects.get(pk=found.cluster_id).firms.order_by("name")
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("firm") if i.isdigit()]
        emails = {
            firm.pk: request.POST.get(f"email-{firm.pk}", "").strip()
            for firm in firms
            if request.POST.get(f"email-{firm.pk}")
        }
        bad = [e for e in emails.values() if "@" not in e]
        if bad:
            messages.error(
                request, _("Not a valid e-mail address: %(list)s") % {"list": ", ".join(bad)}
            )
        elif not ids:
            messages.error(request, _("Tick at least one firm to invite."))
        else:
            invitations = services.invitations_create(
                found, user=request.user, firms=firms.filter(pk__in=ids), emails=emails
            )
            sent = services.invitations_send(invitations, language=_lang())
            messages.success(
                request,
                _("%(n)d firms invited; %(sent)d e-mails sent.")
                % {"n": len(invitations), "sent": sent},
            )
            return redirect("assessments:round", pk=found.pk)
    invitations = {i.firm_id: i for i in found.invitations.all()}
    assessments = {
        firm_id: (pk, status)
        for firm_id, pk, status in Assessment.objects.filter(round=found).values_list(
            "firm_id", "pk", "status"
        )
    }
    rows = [
        {
            "firm": firm,
            "invitation": invitations.get(firm.pk),
            "status": assessments.get(firm.pk, (None, ""))[1],
            "assessment_pk": assessments.get(firm.pk, (None, ""))[0],
            "url": services.invitation_url(invitations[firm.pk]) if firm.pk in invitations else "",
        }
        for firm in firms
    ]
    return render(
        request,
        "assessments/round_detail.html",
        {
            "round": found,
            "rows": rows,
            "progress": selectors.round_progress(request.user, found),
            "framework_title": text(framework_for(found.framework_version).title, _lang()),
        },
    )


@login_required
def round_invitations_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's invitation links as an XLSX list, for distribution offline."""
    from openpyxl import Workbook

    found = selectors.round_for_official(request.user, pk)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Invitations")[:31]
    sheet.append([_("Firm"), _("Unified social credit code"), _("E-mail"), _("Link"), _("Status")])
    statuses = dict(Assessment.objects.filter(round=found).values_list("firm_id", "status"))
    labels = dict(Assessment.Status.choices)
    for inv in found.invitations.select_related("firm").order_by("firm__name"):
        status = statuses.get(inv.firm_id)
        sheet.append(
            [
                inv.firm.name,
                inv.firm.uscc,
                inv.email,
                services.invitation_url(inv),
                str(labels[status]) if status else _("Not started"),
            ]
        )
    # Text that looks like a formula (a firm name "=HYPERLINK(…)", "+1", "@…") stays text.
    for row in sheet.iter_rows():
        for cell in row:
            guard_cell(cell)
    for column, width in zip("ABCDE", (36, 22, 28, 70, 14), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="round-{found.pk}-invitations.xlsx"'
    return response
