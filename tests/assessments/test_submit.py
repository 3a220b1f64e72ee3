"""Submission: validation, discarding answers that do not apply, and the stored snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from assessments import scoring
from assessments.models import Answer, DimensionScore, QuestionAttainment
from assessments.services import (
    AssessmentLocked,
    SubmissionIncomplete,
    assessment_store_result,
    assessment_submit,
)
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all
from tests.factories import AssessmentFactory


def test_submission_lists_missing_required_questions(draft, firm_user):
    answer_all(draft, {"B1": 55, "O2": True}, firm_user)
    with pytest.raises(SubmissionIncomplete) as caught:
        assessment_submit(draft, user=firm_user)
    # O3 applies because O2 is yes; optional O6 is not listed.
    assert caught.value.missing == ["B2", "B3", "B4", "O1", "O3", "O4", "O5"]
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.result is None


def test_submission_stores_the_snapshot_and_rows(draft, firm_user, demo_framework):
    answer_all(draft, FULL_ANSWERS, firm_user)
    submitted = assessment_submit(draft, user=firm_user)
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.submitted_by == firm_user
    assert draft.submitted_at is not None
    expected = scoring.score(demo_framework, FULL_ANSWERS).snapshot()
    assert draft.result == expected
    assert draft.total == Decimal("90.00")
    assert (draft.level, draft.level_rank, draft.basic, draft.advanced) == ("L3", 2, True, True)
    assert submitted.pk == draft.pk
    dims = dict(
        DimensionScore.objects.filter(assessment=draft).values_list("dimension_code", "score")
    )
    assert dims == {"base": Decimal("83.33"), "ops": Decimal("100.00")}


def test_submission_discards_answers_to_questions_that_do_not_apply(draft, firm_user):
    # O3 was answered while O2 was yes; O2 then changed to no, so O3 no longer applies.
    answer_all(draft, {**FULL_ANSWERS, "O2": True, "O3": 2}, firm_user)
    answer_all(draft, {"O2": False}, firm_user)
    assessment_submit(draft, user=firm_user)
    draft.refresh_from_db()
    assert not Answer.objects.filter(assessment=draft, question_code="O3").exists()
    assert "O3" not in draft.result["attainment"]
    assert not QuestionAttainment.objects.filter(assessment=draft, question_code="O3").exists()


def test_late_submission_is_refused(draft, firm_user):
    answer_all(draft, FULL_ANSWERS, firm_user)
    with pytest.raises(AssessmentLocked) as caught:
        assessment_submit(
            draft, user=firm_user, now=draft.round.closes_at + dt.timedelta(seconds=1)
        )
    assert caught.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_submitted_assessment_cannot_be_submitted_again(draft, firm_user):
    answer_all(draft, FULL_ANSWERS, firm_user)
    assessment_submit(draft, user=firm_user)
    with pytest.raises(AssessmentLocked):
        assessment_submit(draft, user=firm_user)


def test_one_assessment_per_firm_per_round(draft):
    with pytest.raises(IntegrityError):
        AssessmentFactory(round=draft.round, firm=draft.firm)


def test_store_result_writes_exact_rows(draft, demo_framework):
    answers = {
        "B1": 30,
        "B2": ["backup"],
        "B3": "office",
        "B4": False,
        "O1": 2,
        "O2": False,
        "O4": "sheet",
        "O5": 1,
    }
    result = scoring.score(demo_framework, answers)
    assessment_store_result(draft, demo_framework, result)
    draft.refresh_from_db()
    # base: (3 + 1 + 2 + 0) / 18 = 33.33; ops: 2 / 4 = 50; total (60·33.33 + 40·50) / 100.
    assert draft.total == Decimal("40.00")
    assert draft.level == "L1" and draft.level_rank == 0
    assert draft.basic is False and draft.advanced is False
    assert draft.result["next_level"]["code"] == "L2"
    rows = {
        r.question_code: (r.dimension_code, r.attainment, r.earned, r.points)
        for r in QuestionAttainment.objects.filter(assessment=draft)
    }
    assert rows == {
        "B1": ("base", Decimal("0.5"), Decimal("3"), Decimal("6")),
        "B2": ("base", Decimal("0.25"), Decimal("1"), Decimal("4")),
        "B3": ("base", Decimal("0.4"), Decimal("2"), Decimal("5")),
        "B4": ("base", Decimal("0"), Decimal("0"), Decimal("3")),
        "O1": ("ops", Decimal("2"), None, None),
        "O2": ("ops", Decimal("0"), Decimal("0"), Decimal("0")),
        "O4": ("ops", Decimal("0.5"), Decimal("2"), Decimal("4")),
        "O5": ("ops", Decimal("1"), None, None),
    }
    dims = dict(
        DimensionScore.objects.filter(assessment=draft).values_list("dimension_code", "score")
    )
    assert dims == {"base": Decimal("33.33"), "ops": Decimal("50.00")}


def test_store_result_twice_replaces_the_rows(draft, demo_framework):
    first = scoring.score(demo_framework, FULL_ANSWERS)
    assessment_store_result(draft, demo_framework, first)
    second = scoring.score(demo_framework, {"B1": 5})
    assessment_store_result(draft, demo_framework, second)
    assert list(
        QuestionAttainment.objects.filter(assessment=draft).values_list("question_code", flat=True)
    ) == ["B1"]
    assert DimensionScore.objects.filter(assessment=draft).count() == 2
    draft.refresh_from_db()
    assert draft.level == "" and draft.level_rank == -1


def test_null_dimension_score_is_stored_as_null(draft, demo_framework, world):
    # Only level questions answered in ops and no scored question applies... ops still has O4,
    # so build the case with the engine: a dimension with no applicable points gives None.
    result = scoring.score(demo_framework, FULL_ANSWERS)
    object.__setattr__(result, "dimensions", {"base": result.dimensions["base"], "ops": None})
    assessment_store_result(draft, demo_framework, result)
    assert DimensionScore.objects.get(assessment=draft, dimension_code="ops").score is None
