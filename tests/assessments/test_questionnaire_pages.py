"""The questionnaire pages over HTTP: rendering, htmx autosave, conflicts, review and submit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Answer, Assessment
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all

HTMX = {"HTTP_HX_REQUEST": "true"}


def _answer_url(assessment, code):
    return reverse("assessments:answer", args=[assessment.pk, code])


def test_first_part_renders_every_question_type_in_chinese(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.get(reverse("assessments:questionnaire", args=[draft.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "数字化设备占生产设备的比例" in html  # number
    assert 'inputmode="decimal"' in html and "%" in html
    assert 'type="checkbox"' in html and "以上都没有" in html  # multi with exclusive
    assert 'type="radio"' in html  # single and yes/no
    assert "0 / 18" not in html
    assert "0 of 9" not in html  # language is Chinese by default


def test_second_part_shows_the_ladder_and_hides_the_conditional_question(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.get(reverse("assessments:questionnaire_dimension", args=[draft.pk, "ops"]))
    html = response.content.decode()
    assert 'class="ladder"' in html and "数据驱动" in html
    assert 'id="q-O3" class="question" data-code="O3" hidden' in html


def test_english_switch_shows_english_framework_texts(client, firm_user, draft):
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("assessments:questionnaire", args=[draft.pk]))
    html = response.content.decode()
    assert "Share of production equipment that is digital" in html
    assert "0 of 9 questions answered" in html


def test_htmx_save_answers_with_saved_state_and_new_revision(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.post(
        _answer_url(draft, "B1"), {"value": "３５", "base_revision": "0"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "st-saved" in html
    assert 'id="rev-B1" value="1" hx-swap-oob="true"' in html
    assert Answer.objects.get(assessment=draft, question_code="B1").value == 35


def test_invalid_number_is_explained_and_not_saved(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.post(_answer_url(draft, "B1"), {"value": "250", "base_revision": "0"})
    html = response.content.decode()
    assert "st-invalid" in html
    assert "0" in html and "100" in html
    assert not Answer.objects.filter(assessment=draft).exists()


def test_text_in_a_number_field_is_explained(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.post(_answer_url(draft, "B1"), {"value": "大约一半", "base_revision": "0"})
    assert "st-invalid" in response.content.decode()
    assert not Answer.objects.filter(assessment=draft).exists()


def test_exclusive_option_clears_the_others(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, {"B2": ["policy", "firewall"]}, firm_user)
    response = client.post(
        _answer_url(draft, "B2"),
        {"value": ["policy", "firewall", "none"], "clicked": "none", "base_revision": "1"},
    )
    html = response.content.decode()
    assert Answer.objects.get(assessment=draft, question_code="B2").value == ["none"]
    # The controls are sent back so that the page unticks the other options.
    assert 'id="ctl-B2" hx-swap-oob="true"' in html
    assert 'value="none" checked' in html and 'value="policy" checked' not in html


def test_ticking_another_option_clears_the_exclusive_one(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, {"B2": ["none"]}, firm_user)
    client.post(
        _answer_url(draft, "B2"),
        {"value": ["none", "backup"], "clicked": "backup", "base_revision": "1"},
    )
    assert Answer.objects.get(assessment=draft, question_code="B2").value == ["backup"]


def test_show_if_is_updated_out_of_band(client, firm_user, draft):
    client.force_login(firm_user)
    response = client.post(_answer_url(draft, "O2"), {"value": "true", "base_revision": "0"})
    html = response.content.decode()
    assert 'id="q-O3" class="question" data-code="O3" hx-swap-oob="true"' in html
    response = client.post(_answer_url(draft, "O2"), {"value": "false", "base_revision": "1"})
    assert 'id="q-O3" class="question" data-code="O3" hidden hx-swap-oob="true"' in (
        response.content.decode()
    )


def test_conflict_shows_both_values_and_both_choices(client, firm_user, draft):
    client.force_login(firm_user)
    client.post(_answer_url(draft, "B3"), {"value": "full", "base_revision": "0"})
    response = client.post(_answer_url(draft, "B3"), {"value": "office", "base_revision": "0"})
    html = response.content.decode()
    assert "st-conflict" in html
    assert "全厂覆盖" in html and "仅办公区" in html
    assert 'name="force_revision" value="1"' in html and 'name="take_other"' in html
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "full"


def test_keep_mine_overwrites_and_use_theirs_shows_the_stored_answer(client, firm_user, draft):
    client.force_login(firm_user)
    client.post(_answer_url(draft, "B3"), {"value": "full", "base_revision": "0"})
    client.post(
        _answer_url(draft, "B3"), {"value": "office", "base_revision": "0", "force_revision": "1"}
    )
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "office"
    response = client.post(
        _answer_url(draft, "B3"), {"value": "none", "base_revision": "0", "take_other": "2"}
    )
    html = response.content.decode()
    assert Answer.objects.get(assessment=draft, question_code="B3").value == "office"
    assert 'value="office" checked' in html and 'id="rev-B3" value="2"' in html


def test_saving_into_a_submitted_assessment_is_refused_with_a_message(client, firm_user, draft):
    client.force_login(firm_user)
    Assessment.objects.filter(pk=draft.pk).update(status="submitted")
    response = client.post(_answer_url(draft, "B1"), {"value": "10", "base_revision": "0"})
    assert "st-locked" in response.content.decode()
    assert not Answer.objects.filter(assessment=draft).exists()


def test_review_lists_missing_required_questions(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, {"B1": 55}, firm_user)
    html = client.get(reverse("assessments:review", args=[draft.pk])).content.decode()
    for code in ("q-B2", "q-B3", "q-B4", "q-O1", "q-O4", "q-O5"):
        assert f"#{code}" in html
    assert "#q-B1" not in html and "#q-O6" not in html


def test_submit_needs_confirmation(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, FULL_ANSWERS, firm_user)
    response = client.post(reverse("assessments:review", args=[draft.pk]), {})
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_submit_with_confirmation_goes_to_the_result(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, FULL_ANSWERS, firm_user)
    response = client.post(reverse("assessments:review", args=[draft.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    assert response.url == reverse("assessments:result", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == "submitted"
    # The questionnaire of a submitted assessment leads to the result, read-only.
    page = client.get(reverse("assessments:questionnaire", args=[draft.pk]))
    assert page.status_code == 302 and page.url.endswith("/result/")


def test_incomplete_submit_is_refused_and_lists_what_is_missing(client, firm_user, draft):
    client.force_login(firm_user)
    answer_all(draft, {"B1": 55}, firm_user)
    response = client.post(reverse("assessments:review", args=[draft.pk]), {"confirm": "yes"})
    assert response.status_code == 400
    assert "#q-B2" in response.content.decode()


@pytest.mark.parametrize("page", ["questionnaire", "review", "result"])
def test_another_firms_draft_is_404(client, other_firm_user, draft, page):
    client.force_login(other_firm_user)
    assert client.get(reverse(f"assessments:{page}", args=[draft.pk])).status_code == 404


def test_another_firm_cannot_save_answers(client, other_firm_user, draft):
    client.force_login(other_firm_user)
    response = client.post(_answer_url(draft, "B1"), {"value": "10", "base_revision": "0"})
    assert response.status_code == 404
    assert not Answer.objects.filter(assessment=draft).exists()


def test_officials_do_not_see_drafts(client, cluster_official, draft):
    client.force_login(cluster_official)
    assert client.get(reverse("assessments:result", args=[draft.pk])).status_code == 404
    assert client.get(reverse("assessments:questionnaire", args=[draft.pk])).status_code == 404


def test_home_panel_lists_the_firms_round(client, firm_user, draft):
    client.force_login(firm_user)
    html = client.get(reverse("home")).content.decode()
    assert draft.round.name in html
    assert reverse("assessments:round_start", args=[draft.round_id, draft.firm_id]) in html


def _close(round_):
    import datetime as dt

    from django.utils import timezone

    round_.opens_at = timezone.now() - dt.timedelta(days=30)
    round_.closes_at = timezone.now() - dt.timedelta(minutes=1)
    round_.save()


def test_after_the_closing_date_the_questionnaire_is_read_only(client, firm_user, draft):
    _close(draft.round)
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("assessments:questionnaire", args=[draft.pk])).content.decode()
    assert "This round closed on" in html
    assert "<fieldset disabled>" in html
    response = client.post(_answer_url(draft, "B1"), {"value": "10", "base_revision": "0"})
    assert "st-locked" in response.content.decode()
    assert not Answer.objects.filter(assessment=draft).exists()


def test_late_submission_is_refused_on_the_review_page(client, firm_user, draft):
    answer_all(draft, FULL_ANSWERS, firm_user)
    _close(draft.round)
    client.force_login(firm_user)
    response = client.post(reverse("assessments:review", args=[draft.pk]), {"confirm": "yes"})
    assert response.status_code == 400
    assert "截止" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_officials_home_links_to_their_rounds(client, cluster_official):
    client.force_login(cluster_official)
    html = client.get(reverse("home")).content.decode()
    assert reverse("assessments:round_list") in html


# The answers are read once per autosave: by the save service, under the assessment's row lock
# (before it returned what it stored, the view read them again before and after: 15 queries).
# The 11: session, user, the official scope, the assessment, can_answer; savepoint, the locked
# assessment with its framework version, the answers, the answer's write, the assessment's
# updated_at, release.
AUTOSAVE_MAX_QUERIES = 11


@pytest.mark.parametrize(
    ("code", "value"),
    [("B4", "true"), ("B1", "35"), ("O2", "true"), ("B2", ["none"])],
    ids=["new", "changed", "show-if", "multi"],
)
def test_htmx_autosave_reads_the_answers_once(
    client, firm_user, draft, django_assert_max_num_queries, code, value
):
    answer_all(draft, {"B1": 20, "B2": ["policy"], "B3": "office"}, firm_user)
    stored = Answer.objects.filter(assessment=draft, question_code=code).first()
    base = str(stored.revision if stored else 0)
    client.force_login(firm_user)
    client.get(reverse("assessments:questionnaire", args=[draft.pk]))
    with django_assert_max_num_queries(AUTOSAVE_MAX_QUERIES) as captured:
        response = client.post(
            _answer_url(draft, code), {"value": value, "base_revision": base}, **HTMX
        )
    assert response.status_code == 200 and "st-saved" in response.content.decode()
    answer_reads = [q for q in captured if 'FROM "assessments_answer"' in q["sql"]]
    assert len(answer_reads) == 1
