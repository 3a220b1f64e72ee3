"""Writes of the programme: projects and their stages, provider ratings, verifications.

Every rule of the programme lives here (DESIGN.md, "The programme"), so that pages, the admin's
actions, the API and the demo data all refuse the same things with the same words:
- a project's baseline and acceptance are its firm's submitted assessments, on the programme's
  framework version, the acceptance submitted after the baseline;
- a stage moves forward only, or to abandoned, and never after acceptance or abandonment; a
  project is accepted only with both assessments; every move is a StageChange row;
- the firm rates its provider once, after acceptance;
- an assessor verifies a submitted assessment of their scope: each answer is confirmed, or
  changed with a reason; the verified result is scored and stored beside the self-report,
  which is never changed; a completed verification locks the assessment.

Refusals raise `ProgrammeRuleError` with a sentence in the user's language, and write nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import scoring
from assessments.models import Assessment
from assessments.services import answer_problem, assessment_answers, result_fields
from assessments.versions import framework_for
from clusters.models import Firm
from programmes import selectors
from programmes.models import (
    Programme,
    Provider,
    ProviderRating,
    RetrofitProject,
    StageChange,
    Verification,
    VerifiedAnswer,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Stage = RetrofitProject.Stage

# The forward order of the stages; abandoned is reachable from any open stage.
STAGE_ORDER = (
    Stage.DIAGNOSED,
    Stage.CONTRACTED,
    Stage.IN_PROGRESS,
    Stage.DELIVERED,
    Stage.ACCEPTED,
)
# A project needs its baseline to leave diagnosed (the diagnosis is the baseline rating).
NEEDS_BASELINE = frozenset(STAGE_ORDER[1:])
REASON_MAX = 2000
COMMENT_MAX = 1000


class ProgrammeRuleError(Exception):
    """A programme rule refused a change; `message` says which, in the user's language.

    `field` names the input at fault where there is one (for forms and the API).
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- Projects ---------------------------------------------------------------------------------


def _check_assessment(
    project: RetrofitProject | None,
    programme: Programme,
    firm: Firm,
    assessment: Assessment,
    role: str,
) -> None:
    """Refuse an assessment that cannot be the project's baseline or acceptance."""
    field = role
    if assessment.firm_id != firm.pk:
        raise ProgrammeRuleError(
            _("That assessment belongs to another firm, not to %(firm)s.") % {"firm": firm.name},
            field=field,
        )
    if not assessment.is_submitted:
        raise ProgrammeRuleError(
            _("That assessment is still a draft: only a submitted assessment can be linked."),
            field=field,
        )
    if assessment.framework_version_id != programme.framework_version_id:
        raise ProgrammeRuleError(
            _(
                "That assessment was scored on %(used)s, but the programme rates firms on "
                "%(expected)s: before and after must use the same framework version."
            )
            % {
                "used": assessment.framework_version,
                "expected": programme.framework_version,
            },
            field=field,
        )


def _check_pair(baseline: Assessment | None, acceptance: Assessment | None) -> None:
    if baseline is None or acceptance is None:
        return
    if baseline.pk == acceptance.pk:
        raise ProgrammeRuleError(
            _("The acceptance assessment must be a new rating, not the baseline again."),
            field="acceptance",
        )
    if (
        baseline.submitted_at
        and acceptance.submitted_at
        and acceptance.submitted_at <= baseline.submitted_at
    ):
        raise ProgrammeRuleError(
            _("The acceptance assessment was submitted before the baseline: link a later one."),
            field="acceptance",
        )


def _record(
    project: RetrofitProject, from_stage: str, to_stage: str, user: User | None, note: str, now: Any
) -> None:
    StageChange.objects.create(
        project=project,
        from_stage=from_stage,
        to_stage=to_stage,
        note=note[:1000],
        changed_by=user,
        changed_at=now,
    )


@transaction.atomic
def project_create(
    programme: Programme,
    *,
    firm: Firm,
    provider: Provider,
    user: User | None,
    baseline: Assessment | None = None,
    title: str = "",
    targeted_questions: list[str] | None = None,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    budget_10k_cny: Decimal | None = None,
    subsidy_10k_cny: Decimal | None = None,
    now: datetime.datetime | None = None,
) -> RetrofitProject:
    """Create a project at stage diagnosed; returns it. Refuses a firm outside the programme's
    region, a second project of the firm in the programme, and a baseline that breaks a rule."""
    now = now or timezone.now()
    if not selectors.firm_in_region(firm.pk, programme.region):
        raise ProgrammeRuleError(
            _("%(firm)s is not in %(region)s, the programme's region.")
            % {"firm": firm.name, "region": programme.region},
            field="firm",
        )
    if RetrofitProject.objects.filter(programme=programme, firm=firm).exists():
        raise ProgrammeRuleError(
            _("%(firm)s already has a project in this programme.") % {"firm": firm.name},
            field="firm",
        )
    if baseline is not None:
        _check_assessment(None, programme, firm, baseline, "baseline")
    _check_money(budget_10k_cny, subsidy_10k_cny)
    _check_dates(starts_on, ends_on)
    codes = _check_targets(programme, targeted_questions or [])
    try:
        with transaction.atomic():
            project = RetrofitProject.objects.create(
                programme=programme,
                firm=firm,
                provider=provider,
                baseline=baseline,
                title=title[:200],
                targeted_questions=codes,
                starts_on=starts_on,
                ends_on=ends_on,
                budget_10k_cny=budget_10k_cny,
                subsidy_10k_cny=subsidy_10k_cny,
                stage_changed_at=now,
            )
    except IntegrityError:  # a concurrent request created it first
        raise ProgrammeRuleError(
            _("%(firm)s already has a project in this programme.") % {"firm": firm.name},
            field="firm",
        ) from None
    _record(project, "", Stage.DIAGNOSED, user, "", now)
    return project


def _check_money(budget: Decimal | None, subsidy: Decimal | None) -> None:
    for name, value in (("budget_10k_cny", budget), ("subsidy_10k_cny", subsidy)):
        if value is not None and value < 0:
            raise ProgrammeRuleError(_("Amounts cannot be negative."), field=name)
    if budget is not None and subsidy is not None and subsidy > budget:
        raise ProgrammeRuleError(
            _("The subsidy (%(subsidy)s) is larger than the budget (%(budget)s).")
            % {"subsidy": subsidy, "budget": budget},
            field="subsidy_10k_cny",
        )


def _check_dates(starts_on: datetime.date | None, ends_on: datetime.date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ProgrammeRuleError(
            _("The project ends (%(end)s) before it starts (%(start)s).")
            % {"end": ends_on, "start": starts_on},
            field="ends_on",
        )


def _check_targets(programme: Programme, codes: list[str]) -> list[str]:
    """The targeted question codes, each once, in framework order; unknown codes refused."""
    framework = framework_for(programme.framework_version)
    known = [q.code for q in framework.questions]
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ProgrammeRuleError(
            _("The framework has no question %(codes)s.") % {"codes": ", ".join(unknown[:5])},
            field="targeted_questions",
        )
    wanted = set(codes)
    return [c for c in known if c in wanted]


@transaction.atomic
def project_update(
    project: RetrofitProject, *, user: User | None, **fields: Any
) -> RetrofitProject:
    """Change a project's details (title, targets, dates, money, provider); returns it.

    Stages move through `project_move`, assessments through `project_link`.
    """
    project = RetrofitProject.objects.select_for_update().get(pk=project.pk)
    allowed = {
        "title",
        "targeted_questions",
        "starts_on",
        "ends_on",
        "budget_10k_cny",
        "subsidy_10k_cny",
        "provider",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a project detail: {sorted(unknown)}")
    if "targeted_questions" in fields:
        fields["targeted_questions"] = _check_targets(
            project.programme, fields["targeted_questions"] or []
        )
    _check_money(
        fields.get("budget_10k_cny", project.budget_10k_cny),
        fields.get("subsidy_10k_cny", project.subsidy_10k_cny),
    )
    _check_dates(fields.get("starts_on", project.starts_on), fields.get("ends_on", project.ends_on))
    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    return project


@transaction.atomic
def project_link(
    project: RetrofitProject,
    *,
    user: User | None,
    baseline: Assessment | None = None,
    acceptance: Assessment | None = None,
) -> RetrofitProject:
    """Link the baseline and/or acceptance assessment; returns the project.

    The baseline cannot change once the project has left diagnosed, nor the acceptance once it
    is accepted: the figures of the programme rest on them.
    """
    project = (
        RetrofitProject.objects.select_for_update(of=("self",))
        .select_related("programme", "firm", "baseline")
        .get(pk=project.pk)
    )
    if baseline is not None:
        if project.stage != Stage.DIAGNOSED and project.baseline_id not in (None, baseline.pk):
            raise ProgrammeRuleError(
                _("The baseline cannot change once the project is under way."), field="baseline"
            )
        _check_assessment(project, project.programme, project.firm, baseline, "baseline")
        project.baseline = baseline
    if acceptance is not None:
        if project.is_closed:
            raise ProgrammeRuleError(
                _("This project is %(stage)s: its assessments can no longer change.")
                % {"stage": project.get_stage_display()},
                field="acceptance",
            )
        _check_assessment(project, project.programme, project.firm, acceptance, "acceptance")
        project.acceptance = acceptance
    _check_pair(project.baseline, project.acceptance)
    project.save(update_fields=["baseline", "acceptance"])
    return project


def next_stages(project: RetrofitProject) -> list[str]:
    """The stages the project may move to now (forward ones, then abandoned)."""
    if project.is_closed:
        return []
    position = STAGE_ORDER.index(Stage(project.stage))
    return [*STAGE_ORDER[position + 1 :], Stage.ABANDONED]


@transaction.atomic
def project_move(
    project: RetrofitProject,
    to_stage: str,
    *,
    user: User | None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> RetrofitProject:
    """Move the project to `to_stage` and record who did it and when; returns the project."""
    now = now or timezone.now()
    project = (
        RetrofitProject.objects.select_for_update(of=("self",))
        .select_related("programme", "baseline", "acceptance")
        .get(pk=project.pk)
    )
    if to_stage not in Stage.values:
        raise ProgrammeRuleError(_("There is no stage %(stage)s.") % {"stage": to_stage})
    if project.is_closed:
        raise ProgrammeRuleError(
            _("This project is %(stage)s: its stage can no longer change.")
            % {"stage": project.get_stage_display()}
        )
    if to_stage not in next_stages(project):
        raise ProgrammeRuleError(
            _("A project moves forward only: it cannot go from %(from)s back to %(to)s.")
            % {"from": project.get_stage_display(), "to": Stage(to_stage).label}
        )
    if to_stage in NEEDS_BASELINE and project.baseline_id is None:
        raise ProgrammeRuleError(
            _("Link the baseline assessment first: the diagnosis is the firm's first rating."),
            field="baseline",
        )
    if to_stage == Stage.ACCEPTED:
        if project.acceptance_id is None:
            raise ProgrammeRuleError(
                _("Link the acceptance assessment first: a project is accepted on a new rating."),
                field="acceptance",
            )
        _check_pair(project.baseline, project.acceptance)
        project.accepted_at = now
    if len(note) > 1000:
        raise ProgrammeRuleError(_("Keep the note under 1,000 characters."), field="note")
    from_stage = project.stage
    project.stage = to_stage
    project.stage_changed_at = now
    project.save(update_fields=["stage", "stage_changed_at", "accepted_at"])
    _record(project, from_stage, to_stage, user, note, now)
    return project


# --- Provider ratings -------------------------------------------------------------------------


@transaction.atomic
def provider_rate(
    project: RetrofitProject,
    *,
    user: User,
    score: int,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> ProviderRating:
    """The firm's one rating of its provider, after acceptance; returns it."""
    from clusters.selectors import user_firms

    if not user_firms(user).filter(pk=project.firm_id).exists():
        raise ProgrammeRuleError(_("Only the firm's own users rate its provider."))
    if project.stage != Stage.ACCEPTED:
        raise ProgrammeRuleError(_("The provider is rated once the project has been accepted."))
    if isinstance(score, bool) or not isinstance(score, int) or score not in ProviderRating.SCALE:
        raise ProgrammeRuleError(_("Choose a rating from 1 to 5."), field="score")
    if len(comment) > COMMENT_MAX:
        raise ProgrammeRuleError(
            _("Keep the comment under %(n)s characters.") % {"n": COMMENT_MAX}, field="comment"
        )
    if ProviderRating.objects.filter(project=project).exists():
        raise ProgrammeRuleError(_("This provider has already been rated for this project."))
    try:
        with transaction.atomic():
            return ProviderRating.objects.create(
                project=project,
                score=score,
                comment=comment.strip(),
                rated_by=user,
                rated_at=now or timezone.now(),
            )
    except IntegrityError:
        raise ProgrammeRuleError(
            _("This provider has already been rated for this project.")
        ) from None


# --- On-site verification ---------------------------------------------------------------------


def _locked(verification: Verification) -> None:
    if verification.is_completed:
        raise ProgrammeRuleError(
            _("This verification has been completed and is locked; nothing can change now.")
        )


@transaction.atomic
def verification_start(
    assessment: Assessment, *, user: User, visited_on: datetime.date | None = None
) -> Verification:
    """Open (or resume) the verification of a submitted assessment in the assessor's scope."""
    if not selectors.verifiable_assessments(user).filter(pk=assessment.pk).exists():
        raise ProgrammeRuleError(_("This assessment is not yours to verify."))
    verification, _created = Verification.objects.get_or_create(
        assessment=assessment, defaults={"assessor": user, "visited_on": visited_on}
    )
    return verification


@transaction.atomic
def verification_visit(
    verification: Verification,
    visited_on: datetime.date | None,
    *,
    user: User,
    today: datetime.date | None = None,
) -> Verification:
    """Record (or clear) the date of the on-site visit while the verification is open."""
    verification = Verification.objects.select_for_update().get(pk=verification.pk)
    _locked(verification)
    today = today or timezone.localdate()
    if visited_on is not None and visited_on > today:
        raise ProgrammeRuleError(
            _("The visit date cannot be in the future (today is %(today)s).")
            % {"today": today.isoformat()},
            field="visited_on",
        )
    verification.visited_on = visited_on
    verification.save(update_fields=["visited_on"])
    return verification


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return Decimal(str(a)) == Decimal(str(b))
    return bool(a == b)


@dataclass(frozen=True)
class Finding:
    """An assessor's finding on one question, as `verification_record` takes it."""

    code: str
    value: Any
    reason: str = ""


@transaction.atomic
def verification_record(
    verification: Verification, finding: Finding, *, user: User
) -> VerifiedAnswer:
    """Confirm or change one answer; returns the stored finding.

    A value equal to the self-reported one confirms it; a different value is a change and needs
    a reason. The self-reported answer is never touched.
    """
    verification = Verification.objects.select_for_update().get(pk=verification.pk)
    _locked(verification)
    assessment = verification.assessment
    framework = framework_for(assessment.framework_version)
    problem = answer_problem(framework, finding.code, finding.value)
    if problem:
        raise ProgrammeRuleError(problem, field=finding.code)
    reported = assessment_answers(assessment).get(finding.code)
    changed = not _same(reported, finding.value)
    reason = (finding.reason or "").strip()
    if changed and not reason:
        raise ProgrammeRuleError(
            _("Say why the answer differs from the firm's: a change needs a reason."),
            field=finding.code,
        )
    if len(reason) > REASON_MAX:
        raise ProgrammeRuleError(
            _("Keep the reason under %(n)s characters.") % {"n": REASON_MAX}, field=finding.code
        )
    answer, _created = VerifiedAnswer.objects.update_or_create(
        verification=verification,
        question_code=finding.code,
        defaults={
            "value": finding.value,
            "reported_value": reported,
            "changed": changed,
            "reason": reason,
            "updated_by": user,
        },
    )
    return answer


@transaction.atomic
def verification_confirm_rest(verification: Verification, *, user: User) -> int:
    """Confirm, as self-reported, every answered question without a finding; returns how many."""
    verification = Verification.objects.select_for_update().get(pk=verification.pk)
    _locked(verification)
    reported = assessment_answers(verification.assessment)
    done = set(verification.answers.values_list("question_code", flat=True))
    rows = [
        VerifiedAnswer(
            verification=verification,
            question_code=code,
            value=value,
            reported_value=value,
            changed=False,
            updated_by=user,
        )
        for code, value in reported.items()
        if code not in done
    ]
    # Saved one by one so that each lands in the audit trail (a questionnaire has < 200).
    for row in rows:
        row.save()
    return len(rows)


def verified_answers(verification: Verification) -> dict[str, Any]:
    """The answers as verified: the self-report, overlaid with every finding."""
    answers = dict(assessment_answers(verification.assessment))
    for code, value in verification.answers.values_list("question_code", "value"):
        if value is None:
            answers.pop(code, None)
        else:
            answers[code] = value
    return answers


def verification_unreviewed(verification: Verification) -> list[str]:
    """Self-reported answers the assessor has neither confirmed nor changed yet."""
    reported = assessment_answers(verification.assessment)
    done = set(verification.answers.values_list("question_code", flat=True))
    return [code for code in reported if code not in done]


@transaction.atomic
def verification_complete(
    verification: Verification, *, user: User, now: datetime.datetime | None = None
) -> Verification:
    """Score the verified answers, store the result beside the self-report, and lock both.

    Refused while answers are unreviewed, or when the verified answers leave a required
    question unanswered or break a rule of the framework (each named).
    """
    now = now or timezone.now()
    verification = (
        Verification.objects.select_for_update()
        .select_related("assessment__framework_version")
        .get(pk=verification.pk)
    )
    _locked(verification)
    unreviewed = verification_unreviewed(verification)
    if unreviewed:
        raise ProgrammeRuleError(
            _("Confirm or change every answer first; not reviewed yet: %(codes)s.")
            % {"codes": ", ".join(unreviewed[:10]) + ("…" if len(unreviewed) > 10 else "")}
        )
    framework = framework_for(verification.assessment.framework_version)
    answers = verified_answers(verification)
    applicable = scoring.applicable(framework, answers)
    kept = {code: value for code, value in answers.items() if code in applicable}
    missing = scoring.missing_required(framework, kept)
    if missing:
        raise ProgrammeRuleError(
            _("The verified answers leave required questions unanswered: %(codes)s.")
            % {"codes": ", ".join(missing[:10])}
        )
    problems = scoring.check_answers(framework, kept)
    if problems:
        raise ProgrammeRuleError(
            _("Some verified answers are not valid: %(codes)s.")
            % {"codes": ", ".join(problems[:10])}
        )
    result = scoring.score(framework, kept)
    for name, value in result_fields(framework, result).items():
        setattr(verification, name, value)
    verification.status = Verification.Status.COMPLETED
    verification.completed_at = now
    if verification.assessor_id != user.pk:
        verification.assessor = user
    verification.save()
    Assessment.objects.filter(pk=verification.assessment_id).update(verified_at=now)
    return verification


def verification_changes(verification: Verification) -> Mapping[str, VerifiedAnswer]:
    """The changed answers of a verification, by question code, with their reasons."""
    return {a.question_code: a for a in verification.answers.filter(changed=True)}
