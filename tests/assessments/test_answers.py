"""Autosave: one answer at a time, validated, with revisions that make conflicts visible."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from assessments.models import Answer
from assessments.services import AnswerInvalid, AssessmentLocked, answer_save


def test_first_save_creates_revision_one(draft, firm_user):
    outcome = answer_save(draft, "B1", 35, base_revision=0, user=firm_user)
    assert outcome.status == "saved"
    assert outcome.revision == 1
    row = Answer.objects.get(assessment=draft, question_code="B1")
    assert (row.value, row.revision, row.updated_by) == (35, 1, firm_user)


def test_each_change_bumps_the_revision(draft, firm_user):
    answer_save(draft, "B3", "none", base_revision=0, user=firm_user)
    outcome = answer_save(draft, "B3", "full", base_revision=1, user=firm_user)
    assert (outcome.status, outcome.revision) == ("saved", 2)
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "full"


def test_saving_an_unchanged_value_is_a_no_op(draft, firm_user):
    answer_save(draft, "B1", 35, base_revision=0, user=firm_user)
    outcome = answer_save(draft, "B1", 35.0, base_revision=1, user=firm_user)
    assert outcome.status == "unchanged"
    assert Answer.objects.get(assessment=draft, question_code="B1").revision == 1


def test_second_tab_with_a_stale_revision_gets_a_conflict_and_nothing_is_overwritten(
    draft, firm_user
):
    # Both tabs loaded the page when B3 was unanswered (revision 0).
    answer_save(draft, "B3", "full", base_revision=0, user=firm_user)  # tab A
    outcome = answer_save(draft, "B3", "office", base_revision=0, user=firm_user)  # tab B
    assert outcome.status == "conflict"
    assert outcome.other_value == "full"
    assert outcome.revision == 1
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "full"


def test_keeping_mine_after_a_conflict_saves_with_the_other_revision(draft, firm_user):
    answer_save(draft, "B3", "full", base_revision=0, user=firm_user)
    conflict = answer_save(draft, "B3", "office", base_revision=0, user=firm_user)
    outcome = answer_save(draft, "B3", "office", base_revision=conflict.revision, user=firm_user)
    assert (outcome.status, outcome.revision) == ("saved", 2)
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "office"


def test_stale_tab_saving_the_same_value_is_not_a_conflict(draft, firm_user):
    answer_save(draft, "B4", True, base_revision=0, user=firm_user)
    outcome = answer_save(draft, "B4", True, base_revision=0, user=firm_user)
    assert outcome.status == "unchanged"


def test_invalid_answer_is_refused_with_a_message_and_not_saved(draft, firm_user):
    with pytest.raises(AnswerInvalid) as caught:
        answer_save(draft, "B1", 150, base_revision=0, user=firm_user)
    assert "0" in caught.value.message and "100" in caught.value.message
    assert not Answer.objects.filter(assessment=draft, question_code="B1").exists()


def test_invalid_answer_message_is_in_chinese_by_default(draft, firm_user):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(AnswerInvalid) as caught:
        answer_save(draft, "B1", 150, base_revision=0, user=firm_user)
    assert "请输入" in caught.value.message


def test_exclusive_option_with_another_is_refused_by_the_service(draft, firm_user):
    with pytest.raises(AnswerInvalid):
        answer_save(draft, "B2", ["none", "policy"], base_revision=0, user=firm_user)


def test_unknown_question_is_refused(draft, firm_user):
    with pytest.raises(AnswerInvalid):
        answer_save(draft, "ZZ9", 1, base_revision=0, user=firm_user)


def test_clearing_an_answer_keeps_the_row_with_a_new_revision(draft, firm_user):
    answer_save(draft, "O6", "更好的排产", base_revision=0, user=firm_user)
    outcome = answer_save(draft, "O6", None, base_revision=1, user=firm_user)
    assert (outcome.status, outcome.revision) == ("saved", 2)
    assert Answer.objects.get(assessment=draft, question_code="O6").value is None


def test_save_reports_which_questions_apply(draft, firm_user):
    assert "O3" not in answer_save(draft, "O2", False, base_revision=0, user=firm_user).applicable
    assert "O3" in answer_save(draft, "O2", True, base_revision=1, user=firm_user).applicable


def test_saving_after_submission_is_refused(draft, firm_user):
    draft.status = "submitted"
    draft.save()
    with pytest.raises(AssessmentLocked) as caught:
        answer_save(draft, "B1", 10, base_revision=0, user=firm_user)
    assert caught.value.message
    assert not Answer.objects.filter(assessment=draft).exists()


def test_saving_after_the_round_closed_is_refused(draft, firm_user):
    later = draft.round.closes_at + dt.timedelta(minutes=1)
    with pytest.raises(AssessmentLocked):
        answer_save(draft, "B1", 10, base_revision=0, user=firm_user, now=later)
    assert not Answer.objects.filter(assessment=draft).exists()


def test_saving_before_the_round_opens_is_refused(draft, firm_user):
    draft.round.opens_at = timezone.now() + dt.timedelta(days=1)
    draft.round.save()
    with pytest.raises(AssessmentLocked):
        answer_save(draft, "B1", 10, base_revision=0, user=firm_user)


def test_exclusive_combination_message_names_the_option(draft, firm_user):
    from django.utils import translation

    with translation.override("en"), pytest.raises(AnswerInvalid) as caught:
        answer_save(draft, "B2", ["none", "policy"], base_revision=0, user=firm_user)
    assert caught.value.message == '"None of these" cannot be combined with other choices.'


def test_unknown_option_is_refused_with_a_plain_message(draft, firm_user):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(AnswerInvalid) as caught:
        answer_save(draft, "B2", ["cloud"], base_revision=0, user=firm_user)
    assert caught.value.message == "该回答不在可选范围内。"


def test_a_save_returns_every_stored_answer_and_what_applied_before(draft, firm_user):
    answer_save(draft, "B1", 35, base_revision=0, user=firm_user)
    answer_save(draft, "O6", "更好的排产", base_revision=0, user=firm_user)
    answer_save(draft, "O6", None, base_revision=1, user=firm_user)  # a cleared answer
    outcome = answer_save(draft, "O2", True, base_revision=0, user=firm_user)
    assert outcome.answers == {"B1": (35, 1), "O6": (None, 2), "O2": (True, 1)}
    assert "O3" not in outcome.applicable_before and "O3" in outcome.applicable


def test_a_conflict_returns_the_answers_as_they_stand(draft, firm_user):
    answer_save(draft, "B3", "full", base_revision=0, user=firm_user)
    outcome = answer_save(draft, "B3", "office", base_revision=0, user=firm_user)
    assert outcome.status == "conflict"
    assert outcome.answers == {"B3": ("full", 1)}
    assert outcome.applicable == outcome.applicable_before
