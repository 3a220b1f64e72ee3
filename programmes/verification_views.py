"""The assessors' pages: the work list, the verification of one assessment, evidence files.

Every page asks `programmes.selectors` first: an assessment, verification or evidence file
outside the user's scope answers exactly like one that does not exist (404). Each action works
with htmx (the question's block comes back, with its error in the user's language) and without
JavaScript (a plain POST, then back to the page, or the page again with the error at the
question and status 400). The rules live in `programmes.services` and `programmes.evidence`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from assessments.forms import AnswerParseError, parse_answer
from assessments.framework import Framework, Question
from assessments.models import Answer, Assessment
from assessments.questionnaire import Choice, QuestionView, answer_display, question_number
from assessments.services import assessment_answers
from assessments.services import framework_text as _t
from assessments.versions import framework_for
from clusters.models import Cluster
from programmes import evidence as evidence_service
from programmes import selectors, services
from programmes.forms_verification import VisitForm, WorklistFilterForm
from programmes.models import Evidence, RetrofitProject, Verification, VerifiedAnswer
from programmes.services import Finding, ProgrammeRuleError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 25
# The part of a request body around the file itself (boundaries, headers, the CSRF token).
_UPLOAD_SLACK = 64 * 1024


class AuthenticatedHttpRequest(HttpRequest):
    user: User


# --- Work list --------------------------------------------------------------------------------


def _level_title(fw: Framework, code: str | None) -> str:
    for level in fw.levels:
        if level.code == code:
            return _t(level.title)
    return _("Below the first level")


def _worklist(user: Any, search: str, programme: Any, cluster: Any) -> QuerySet[Assessment]:
    rows = selectors.verification_worklist(user)
    if search:
        rows = rows.filter(Q(firm__name__icontains=search) | Q(firm__uscc__iexact=search))
    if programme is not None:
        in_programme = Q(baseline_of__programme=programme) | Q(acceptance_of__programme=programme)
        rows = rows.filter(pk__in=Assessment.objects.filter(in_programme).values("pk"))
    if cluster is not None:
        rows = rows.filter(round__cluster=cluster)
    reported = (
        Answer.objects.filter(assessment=OuterRef("pk"), value__isnull=False)
        .values("assessment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    reviewed = (
        VerifiedAnswer.objects.filter(verification__assessment=OuterRef("pk"))
        .values("verification")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return rows.annotate(
        started=Exists(Verification.objects.filter(assessment=OuterRef("pk"))),
        reported_count=Coalesce(Subquery(reported), 0),
        reviewed_count=Coalesce(Subquery(reviewed), 0),
    )


@dataclass
class WorkRow:
    assessment: Assessment
    level_title: str
    project: RetrofitProject | None
    role: str  # "baseline" or "acceptance"
    started: bool
    reviewed: int
    total: int


@login_required
@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The assessor's work list: submitted project assessments of their scope awaiting
    verification, searchable, filterable by programme and cluster, paged."""
    if not selectors.is_assessor(request.user):
        raise Http404
    everything = selectors.verification_worklist(request.user)
    programmes = selectors.programmes_visible_to(request.user).order_by("slug")
    clusters = Cluster.objects.filter(pk__in=everything.values("round__cluster_id")).order_by(
        "slug"
    )
    form = WorklistFilterForm(request.GET, programmes=programmes, clusters=clusters)
    search, programme, cluster = form.filters()
    rows = _worklist(request.user, search, programme, cluster)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    ids = [a.pk for a in shown]
    projects: dict[int, tuple[RetrofitProject, str]] = {}
    for linked in (
        RetrofitProject.objects.filter(Q(baseline_id__in=ids) | Q(acceptance_id__in=ids))
        .select_related("programme", "provider")
        .order_by("-created_at")
    ):
        if linked.acceptance_id in ids:
            projects.setdefault(linked.acceptance_id, (linked, "acceptance"))
        if linked.baseline_id in ids:
            projects.setdefault(linked.baseline_id, (linked, "baseline"))
    frameworks: dict[int, Framework] = {}
    work = []
    for assessment in shown:
        fw = frameworks.setdefault(
            assessment.framework_version_id, framework_for(assessment.framework_version)
        )
        found = projects.get(assessment.pk)
        project: RetrofitProject | None = found[0] if found is not None else None
        role = found[1] if found is not None else ""
        work.append(
            WorkRow(
                assessment=assessment,
                level_title=_level_title(fw, assessment.level),
                project=project,
                role=role,
                started=bool(getattr(assessment, "started", False)),
                reviewed=int(getattr(assessment, "reviewed_count", 0)),
                total=int(getattr(assessment, "reported_count", 0)),
            )
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programmes/verification/worklist.html",
        {
            "form": form,
            "page": page,
            "rows": work,
            "query": query.urlencode(),
            "filtered": bool(search or programme or cluster),
            "waiting": everything.count(),
        },
    )


# --- The verification page --------------------------------------------------------------------


@dataclass
class FindingRow:
    """One question on the verification page: the firm's answer, the assessor's finding, the
    inputs of a change, the evidence."""

    q: QuestionView
    reported_display: str
    reported: Any
    finding: VerifiedAnswer | None
    verified_display: str
    evidence: list[Evidence]
    reason: str = ""
    error: str = ""
    notice: str = ""
    open_change: bool = False
    can_add_evidence: bool = True

    @property
    def code(self) -> str:
        return self.q.code


@dataclass
class Section:
    title: str
    code: str
    groups: list[tuple[str, list[FindingRow]]] = field(default_factory=list)


def _choices(question: Question, value: Any) -> list[Choice]:
    if question.type in {"single", "multi"}:
        chosen = set(value if isinstance(value, list) else [value])
        return [Choice(o.code, _t(o.text), o.code in chosen, o.exclusive) for o in question.options]
    if question.type == "yesno":
        return [Choice("true", _("Yes"), value is True), Choice("false", _("No"), value is False)]
    if question.type == "level":
        return [Choice(str(c.value), _t(c.text), value == c.value) for c in question.levels]
    return []


def _plain(number: Any) -> str:
    from assessments.services import number_text

    return "" if number is None else number_text(number)


def _question_view(fw: Framework, question: Question, value: Any, locked: bool) -> QuestionView:
    view = QuestionView(
        code=question.code,
        number=question_number(fw, question.code),
        type=question.type,
        text=_t(question.text),
        help=_t(question.help) if question.help else "",
        required=question.required,
        applicable=True,
        value=value,
        revision=0,
        choices=_choices(question, value),
        locked=locked,
    )
    if question.type == "number":
        view.unit = question.unit or ""
        view.min = _plain(question.min)
        view.max = _plain(question.max)
        view.integer = question.integer
    if question.type == "text":
        view.max_length = question.max_length
    return view


@dataclass
class PageState:
    """What the page needs besides the rows: the verification (None before the first
    finding) and its counts."""

    assessment: Assessment
    fw: Framework
    verification: Verification | None
    reported: dict[str, Any]
    findings: dict[str, VerifiedAnswer]
    evidence: dict[str, list[Evidence]]

    @classmethod
    def load(cls, assessment: Assessment) -> PageState:
        verification = (
            Verification.objects.filter(assessment=assessment).select_related("assessor").first()
        )
        findings: dict[str, VerifiedAnswer] = {}
        evidence: dict[str, list[Evidence]] = {}
        if verification is not None:
            findings = {a.question_code: a for a in verification.answers.all()}
            for item in verification.evidence.all():
                evidence.setdefault(item.question_code, []).append(item)
        return cls(
            assessment=assessment,
            fw=framework_for(assessment.framework_version),
            verification=verification,
            reported=assessment_answers(assessment),
            findings=findings,
            evidence=evidence,
        )

    @property
    def locked(self) -> bool:
        return self.verification is not None and self.verification.is_completed

    @property
    def reviewed(self) -> int:
        return sum(1 for code in self.reported if code in self.findings)

    def row(
        self, question: Question, *, posted: Any = None, has_posted: bool = False, **extra: Any
    ) -> FindingRow:
        code = question.code
        reported = self.reported.get(code)
        finding = self.findings.get(code)
        shown = posted if has_posted else (finding.value if finding is not None else reported)
        items = self.evidence.get(code, [])
        row = FindingRow(
            q=_question_view(self.fw, question, shown, self.locked),
            reported=reported,
            reported_display=answer_display(question, reported),
            finding=finding,
            verified_display=answer_display(question, finding.value) if finding else "",
            evidence=items,
            reason=finding.reason if finding is not None else "",
            can_add_evidence=not self.locked and len(items) < evidence_service.PER_QUESTION,
        )
        for name, value in extra.items():
            setattr(row, name, value)
        return row

    def sections(self, special: dict[str, FindingRow]) -> list[Section]:
        out = []
        for dim in self.fw.dimensions:
            section = Section(title=_t(dim.title), code=dim.code)
            for question in dim.questions:
                group = self.fw.group_of(question)
                title = _t(group.title) if group is not None else ""
                row = special.get(question.code) or self.row(question)
                if section.groups and section.groups[-1][0] == title:
                    section.groups[-1][1].append(row)
                else:
                    section.groups.append((title, [row]))
            out.append(section)
        return out


def _page_context(
    request: AuthenticatedHttpRequest,
    state: PageState,
    *,
    special: dict[str, FindingRow] | None = None,
    problem: str = "",
    visit_form: VisitForm | None = None,
) -> dict[str, Any]:
    assessment, fw, verification = state.assessment, state.fw, state.verification
    verified_level = ""
    if verification is not None and verification.is_completed:
        verified_level = _level_title(fw, verification.level or None)
    projects = list(
        RetrofitProject.objects.filter(Q(baseline=assessment) | Q(acceptance=assessment))
        .select_related("programme", "provider")
        .order_by("-created_at")
    )
    return {
        "assessment": assessment,
        "firm": assessment.firm,
        "framework_title": _t(fw.title),
        "verification": verification,
        "locked": state.locked,
        "sections": state.sections(special or {}),
        "reviewed": state.reviewed,
        "total": len(state.reported),
        "unreviewed": len(state.reported) - state.reviewed,
        "self_level": _level_title(fw, assessment.level),
        "verified_level": verified_level,
        "projects": projects,
        "problem": problem,
        "visit_form": visit_form
        or VisitForm(initial={"visited_on": verification.visited_on if verification else None}),
        "max_size": evidence_service.max_bytes(),
        "per_question": evidence_service.PER_QUESTION,
    }


def _render_page(
    request: AuthenticatedHttpRequest, state: PageState, *, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "programmes/verification/verify.html",
        _page_context(request, state, **extra),
        status=status,
    )


def _question(fw: Framework, code: str) -> Question:
    try:
        return fw.question(code)
    except KeyError:
        raise Http404 from None


def _back(assessment: Assessment, code: str = "") -> HttpResponse:
    url = reverse("verification:verify", args=[assessment.pk])
    return redirect(f"{url}#vq-{code}" if code else url)


def _reply(
    request: AuthenticatedHttpRequest,
    state: PageState,
    row: FindingRow,
    *,
    failed: bool,
) -> HttpResponse:
    """The answer to an action on one question: its block (htmx), else the page."""
    if request.headers.get("HX-Request") == "true":
        return render(
            request,
            "programmes/verification/_question_reply.html",
            {
                "assessment": state.assessment,
                "row": row,
                "locked": state.locked,
                "reviewed": state.reviewed,
                "total": len(state.reported),
                "max_size": evidence_service.max_bytes(),
                "per_question": evidence_service.PER_QUESTION,
            },
            # htmx swaps 2xx answers only; a refused finding still shows its message.
            status=200,
        )
    if failed:
        return _render_page(request, state, special={row.code: row}, status=400)
    return _back(state.assessment, row.code)


@login_required
@require_GET
def verify(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The verification page of one submitted assessment in the assessor's scope."""
    assessment = selectors.assessment_to_verify(request.user, pk)
    return _render_page(request, PageState.load(assessment))


@login_required
@require_POST
def finding(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    """Confirm one answer as the firm gave it, or change it with a reason."""
    assessment = selectors.assessment_to_verify(request.user, pk)
    fw = framework_for(assessment.framework_version)
    question = _question(fw, code)
    action = request.POST.get("action", "")
    reported = assessment_answers(assessment).get(code)
    reason = (request.POST.get("reason") or "")[: services.REASON_MAX + 1]
    posted: Any = None
    try:
        if action == "confirm":
            value = reported
        elif action == "change":
            posted = value = parse_answer(question, request.POST, question_number(fw, code))
        else:
            raise ProgrammeRuleError(_("Choose “Confirm” or “Save the change”."), field=code)
        verification = services.verification_start(assessment, user=request.user)
        saved = services.verification_record(
            verification, Finding(code, value, reason), user=request.user
        )
    except (ProgrammeRuleError, AnswerParseError) as exc:
        state = PageState.load(assessment)
        row = state.row(
            question,
            posted=posted,
            has_posted=action == "change",
            error=exc.message,
            reason=reason,
            open_change=action == "change",
        )
        return _reply(request, state, row, failed=True)
    state = PageState.load(assessment)
    if saved.changed:
        notice = _("Change saved, with its reason.")
    elif action == "change":
        notice = _("The same as the firm's answer: recorded as confirmed.")
    else:
        notice = _("Confirmed.")
    return _reply(request, state, state.row(question, notice=notice), failed=False)


def _declared_name(request: HttpRequest) -> str:
    """The file name a multipart body announces in its first part headers ("" if none), read
    from at most 16 KB of the body: the name of an upload refused before it is read."""
    try:
        head = request.read(16 * 1024)
    except OSError:
        return ""
    found = re.search(rb'filename="([^"\r\n]{0,400})"', head)
    return found.group(1).decode("utf-8", "replace") if found else ""


@csrf_exempt  # the size is checked before the body is read; csrf_protect runs right after
@login_required
@require_POST
def evidence_add(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    """Attach one file to a question (multipart `file`); refused files are named with the
    limit they break. An upload larger than the cap is refused before its body is read."""
    assessment = selectors.assessment_to_verify(request.user, pk)
    fw = framework_for(assessment.framework_version)
    question = _question(fw, code)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > evidence_service.max_bytes() + _UPLOAD_SLACK:
        exc = evidence_service.refuse_upload_too_large(_declared_name(request), length, code)
        state = PageState.load(assessment)
        row = state.row(question, error=exc.message)
        return _reply(request, state, row, failed=True)
    return _evidence_add(request, assessment, question)


@csrf_protect
def _evidence_add(
    request: AuthenticatedHttpRequest, assessment: Assessment, question: Question
) -> HttpResponse:
    code = question.code
    uploaded = request.FILES.get("file")
    try:
        if uploaded is None:
            raise ProgrammeRuleError(_("Choose a file to upload first."), field=code)
        verification = services.verification_start(assessment, user=request.user)
        item = evidence_service.evidence_add(verification, code, uploaded, request.user)
    except ProgrammeRuleError as exc:
        state = PageState.load(assessment)
        return _reply(request, state, state.row(question, error=exc.message), failed=True)
    state = PageState.load(assessment)
    notice = _("“%(name)s” added.") % {"name": item.original_name}
    return _reply(request, state, state.row(question, notice=notice), failed=False)


def _removable(user: Any, pk: int) -> Evidence:
    """An evidence file of an assessment the user verifies, or Http404."""
    found = (
        Evidence.objects.filter(
            pk=pk, verification__assessment__in=selectors.verifiable_assessments(user)
        )
        .select_related("verification__assessment__framework_version")
        .first()
    )
    if found is None:
        raise Http404
    return found


@login_required
@require_POST
def evidence_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Remove one evidence file while the verification is in progress."""
    item = _removable(request.user, pk)
    assessment = selectors.assessment_to_verify(request.user, item.verification.assessment_id)
    question = _question(framework_for(assessment.framework_version), item.question_code)
    try:
        evidence_service.evidence_remove(item, user=request.user)
    except ProgrammeRuleError as exc:
        state = PageState.load(assessment)
        return _reply(request, state, state.row(question, error=exc.message), failed=True)
    state = PageState.load(assessment)
    notice = _("“%(name)s” removed.") % {"name": item.original_name}
    return _reply(request, state, state.row(question, notice=notice), failed=False)


@login_required
@require_GET
def evidence_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """One evidence file, as an attachment, for whoever may see it (else 404)."""
    item = selectors.evidence_for_user(request.user, pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.original_name,
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def visit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the date of the on-site visit."""
    assessment = selectors.assessment_to_verify(request.user, pk)
    form = VisitForm(request.POST)
    if form.is_valid():
        try:
            verification = services.verification_start(assessment, user=request.user)
            services.verification_visit(
                verification, form.cleaned_data["visited_on"], user=request.user
            )
        except ProgrammeRuleError as exc:
            form.add_error("visited_on", exc.message)
        else:
            messages.success(request, _("The visit date is saved."))
            return _back(assessment)
    return _render_page(request, PageState.load(assessment), status=400, visit_form=form)


@login_required
@require_POST
def confirm_rest(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Confirm, as the firm gave them, every answer without a finding yet."""

    assessment = selectors.assessment_to_verify(request.user, pk)
    try:
        verification = services.verification_start(assessment, user=request.user)
        count = services.verification_confirm_rest(verification, user=request.user)
    except ProgrammeRuleError as exc:
        return _render_page(request, PageState.load(assessment), status=400, problem=exc.message)
    if count:
        messages.success(
            request,
            ngettext(
                "%(n)d answer confirmed as the firm gave it.",
                "%(n)d answers confirmed as the firm gave them.",
                count,
            )
            % {"n": count},
        )
    else:
        messages.info(request, _("Every answer had a finding already."))
    return _back(assessment)


@login_required
@require_POST
def complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Score the verified answers beside the self-report and lock the verification."""
    assessment = selectors.assessment_to_verify(request.user, pk)
    try:
        verification = services.verification_start(assessment, user=request.user)
        services.verification_complete(verification, user=request.user)
    except ProgrammeRuleError as exc:
        return _render_page(request, PageState.load(assessment), status=400, problem=exc.message)
    messages.success(request, _("The verification is complete; its result is locked."))
    return _back(assessment)
