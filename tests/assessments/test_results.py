"""The firm's result page and PDF: level, scores, gaps, peers, change, and who may see them."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from assessments import scoring
from assessments.models import Assessment
from assessments.services import assessment_store_result, assessment_submit
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all, make_round
from tests.factories import FirmFactory, MembershipFactory, SubmittedAssessmentFactory

# Reaches L1 only: total 40 (base 33.33, ops 50); L2 needs 40 and two scenes at level 2.
WEAK_ANSWERS = {
    "B1": 30,
    "B2": ["backup"],
    "B3": "office",
    "B4": False,
    "O1": 2,
    "O2": False,
    "O4": "sheet",
    "O5": 1,
}


@pytest.fixture
def submitted(draft, firm_user):
    answer_all(draft, WEAK_ANSWERS, firm_user)
    assessment_submit(draft, user=firm_user)
    draft.refresh_from_db()
    return draft


def _peer(round_, answers, cluster):
    """Another firm of the cluster that submitted these answers in the round."""
    firm = FirmFactory()
    MembershipFactory(cluster=cluster, firm=firm)
    return SubmittedAssessmentFactory(round=round_, firm=firm, answers=answers)


def _text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_result_page_shows_level_badges_scores_and_chart(client, firm_user, submitted):
    client.force_login(firm_user)
    html = client.get(reverse("assessments:result", args=[submitted.pk])).content.decode()
    assert "一级" in html and "起步阶段" in html  # level L1 with its description
    assert 'id="total">40<' in html
    assert "33.33" in html and "50" in html
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_gaps_are_sentences_naming_the_questions_that_help(client, firm_user, submitted):
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("assessments:result", args=[submitted.pk])).content.decode()
    assert "What is missing for Level 2" in html
    # L2: score 40 is met; two scenes at level 2 are needed and only O1 is.
    assert "Bring 1 more of the scenarios to level 2 or higher" in html
    assert "(now 1 of 2)" in html
    # Named as the questionnaire shows it: its number and title, not its code.
    from assessments.versions import framework_for
    from assessments.wording import question_numbers

    number = question_numbers(framework_for(submitted.framework_version))["O5"]
    assert f"<strong>{number}.</strong> Warehouse and logistics" in html
    assert "<strong>O5</strong>" not in html


def test_score_gap_ranks_questions_by_points_still_open(firm_user, draft, demo_framework):
    from django.utils import translation

    from assessments.results import result_context

    answers = {
        "B1": 5,
        "B2": ["none"],
        "B3": "none",
        "B4": False,
        "O1": 0,
        "O2": False,
        "O4": "paper",
        "O5": 0,
    }
    answer_all(draft, answers, firm_user)
    assessment_submit(draft, user=firm_user)
    draft.refresh_from_db()
    with translation.override("en"):
        context = result_context(firm_user, draft)
    gap = context["gaps"][0]
    assert gap.sentence == "Raise your total score from 0 to 20."
    # B1 (6 of 18 base points, weight 60) adds 20 to the total; O4 (4 of 4 ops points, weight 40)
    # adds 40: O4 first.
    assert [s.code for s in gap.suggestions] == ["O4", "B1", "B3"]
    assert "+40" in gap.suggestions[0].reason


def test_benchmark_is_hidden_below_five_firms_and_says_why(client, firm_user, submitted):
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("assessments:result", args=[submitted.pk])).content.decode()
    assert "The comparison is hidden: only 1 firm of the cluster has submitted" in html


def test_benchmark_shows_median_and_quartiles_from_five_firms(client, firm_user, submitted, world):
    for b1 in (10, 30, 90, 100):
        _peer(submitted.round, {**FULL_ANSWERS, "B1": b1}, world["alpha"])
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("assessments:result", args=[submitted.pk])).content.decode()
    # Totals: 40 (this firm), 70 (B1=10: base 50), 80 (B1=30: base 66.67), 90, 90.
    assert "5 firms of the cluster have submitted in this round" in html
    assert "Their median total is 80; half of them score between 70 and 90" in html


def test_change_since_previous_round_on_the_same_framework(
    client, firm_user, submitted, demo_framework, world
):
    earlier = make_round(
        world["alpha"], submitted.framework_version, name="2025 评估", days_ago=400, days_left=-300
    )
    old = Assessment.objects.create(
        round=earlier,
        firm=submitted.firm,
        framework_version=submitted.framework_version,
        status="submitted",
    )
    assessment_store_result(old, demo_framework, scoring.score(demo_framework, {"B1": 5}))
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("assessments:result", args=[submitted.pk])).content.decode()
    assert "+40 since the previous round" in html
    assert "In “2025 评估” your firm was at – with a total of 0" in html


def test_firm_pdf_carries_level_and_scores_in_chinese(client, firm_user, submitted):
    client.force_login(firm_user)
    response = client.get(reverse("report-firm-result", args=[submitted.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _text(response)
    assert submitted.firm.name in text
    assert "一级" in text
    assert "40" in text and "33.33" in text and "50" in text
    # the framework version is named as one, not a bare number after the title
    assert f"版本 {submitted.framework_version.version}" in text


def test_firm_pdf_in_english(client, firm_user, submitted):
    client.force_login(firm_user)
    client.cookies["django_language"] = "en"
    text = _text(client.get(reverse("report-firm-result", args=[submitted.pk])))
    assert "Level 1" in text and "Total score" in text and "Digital foundation" in text


def test_another_firms_result_and_pdf_are_404(client, other_firm_user, submitted):
    client.force_login(other_firm_user)
    assert client.get(reverse("assessments:result", args=[submitted.pk])).status_code == 404
    assert client.get(reverse("report-firm-result", args=[submitted.pk])).status_code == 404


def test_a_drafts_pdf_is_404(client, firm_user, draft):
    client.force_login(firm_user)
    assert client.get(reverse("report-firm-result", args=[draft.pk])).status_code == 404


def test_officials_in_scope_see_the_result_read_only(client, cluster_official, submitted):
    client.force_login(cluster_official)
    response = client.get(reverse("assessments:result", args=[submitted.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    # an official reads about the firm, not "your result", and has a way back
    assert "<h1>数字化水平评测结果</h1>" in page and "您的等级" not in page
    assert f'href="{reverse("assessments:round_list")}"' in page
    assert 'href="' + reverse("assessments:questionnaire", args=[submitted.pk]) not in (
        response.content.decode()
    )


def test_officials_out_of_scope_get_404(client, world, submitted):
    from tests.factories import OfficialScopeFactory, UserFactory

    official = UserFactory(username="gamma_official")
    OfficialScopeFactory(user=official, cluster=world["gamma"])
    client.force_login(official)
    assert client.get(reverse("assessments:result", args=[submitted.pk])).status_code == 404
    assert client.get(reverse("report-firm-result", args=[submitted.pk])).status_code == 404


def test_constrained_scenes_are_told_inside_the_scenes_sentence(firm_user, draft):
    from django.utils import translation

    from assessments.results import result_context

    answer_all(draft, {**FULL_ANSWERS, "O1": 2, "O5": 3}, firm_user)
    assessment_submit(draft, user=firm_user)
    draft.refresh_from_db()
    assert draft.level == "L2"
    with translation.override("en"):
        gaps = result_context(firm_user, draft)["gaps"]
    assert [g.sentence for g in gaps] == [
        "Bring 1 more of the scenarios to level 3 or higher (now 1 of 2). "
        "Of them, 1 more must be mandatory scenarios (now 0 of 1)."
    ]
    assert gaps[0].suggestions[0].code == "O1"
    with translation.override("zh-hans"):
        gaps = result_context(firm_user, draft)["gaps"]
    assert gaps[0].sentence.startswith("再让 1 项场景达到3 级或以上")


def test_result_page_names_the_framework_version(client, firm_user, submitted):
    client.force_login(firm_user)
    page = client.get(
        reverse("assessments:result", args=[submitted.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert f"版本 {submitted.framework_version.version}" in page
