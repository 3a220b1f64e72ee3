"""The assessments API: own assessments and results; PUT one answer with base_revision."""

from __future__ import annotations

from django.urls import reverse

from assessments.models import Answer
from assessments.services import assessment_submit
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all


def _put(client, assessment, code, body):
    url = reverse("assessments:api-assessment-answer", args=[assessment.pk, code])
    return client.put(url, body, content_type="application/json")


def test_put_saves_then_conflicts_on_a_stale_revision(client, firm_user, draft):
    client.force_login(firm_user)
    first = _put(client, draft, "B1", {"value": 35, "base_revision": 0})
    assert first.status_code == 200
    assert first.json() == {"status": "saved", "code": "B1", "value": 35, "revision": 1}
    stale = _put(client, draft, "B1", {"value": 60, "base_revision": 0})
    assert stale.status_code == 409
    assert stale.json()["other_value"] == 35 and stale.json()["revision"] == 1
    assert Answer.objects.get(assessment=draft, question_code="B1").value == 35


def test_put_an_invalid_answer_is_400_with_problems(client, firm_user, draft):
    client.force_login(firm_user)
    response = _put(client, draft, "B3", {"value": "everywhere", "base_revision": 0})
    assert response.status_code == 400
    assert response.json()["problems"][0].startswith("answers.B3: ")
    response = _put(client, draft, "B3", {"value": "full"})
    assert response.status_code == 400
    assert not Answer.objects.filter(assessment=draft).exists()


def test_put_after_submission_is_409_with_a_message(client, firm_user, draft):
    answer_all(draft, FULL_ANSWERS, firm_user)
    assessment_submit(draft, user=firm_user)
    client.force_login(firm_user)
    response = _put(client, draft, "B1", {"value": 10, "base_revision": 1})
    assert response.status_code == 409 and response.json()["detail"]


def test_list_and_detail_show_own_assessments_with_answers(client, firm_user, draft):
    answer_all(draft, {"B1": 55}, firm_user)
    client.force_login(firm_user)
    listing = client.get(reverse("assessments:api-assessment-list")).json()
    assert [row["id"] for row in listing["results"]] == [draft.pk]
    detail = client.get(reverse("assessments:api-assessment-detail", args=[draft.pk])).json()
    assert detail["answers"] == {"B1": {"value": 55, "revision": 1}}
    assert detail["result"] is None


def test_another_firm_sees_nothing_and_cannot_put(client, other_firm_user, draft):
    client.force_login(other_firm_user)
    assert client.get(reverse("assessments:api-assessment-list")).json()["results"] == []
    url = reverse("assessments:api-assessment-detail", args=[draft.pk])
    assert client.get(url).status_code == 404
    assert _put(client, draft, "B1", {"value": 1, "base_revision": 0}).status_code == 404


def test_officials_see_submitted_results_without_answers(
    client, cluster_official, firm_user, draft
):
    answer_all(draft, FULL_ANSWERS, firm_user)
    assessment_submit(draft, user=firm_user)
    client.force_login(cluster_official)
    detail = client.get(reverse("assessments:api-assessment-detail", args=[draft.pk])).json()
    assert detail["level"] == "L3" and detail["result"]["total"] == 90
    assert detail["answers"] == {}
    assert _put(client, draft, "B1", {"value": 1, "base_revision": 1}).status_code == 404


# As the page's autosave (tests/assessments/test_questionnaire_pages.py): one read of the
# answers, in the save service (13 queries before the service returned what it stored).
API_SAVE_MAX_QUERIES = 11


def test_put_reads_the_answers_once(client, firm_user, draft, django_assert_max_num_queries):
    answer_all(draft, {"B1": 20, "B3": "office"}, firm_user)
    client.force_login(firm_user)
    client.get(reverse("assessments:api-assessment-list"))
    with django_assert_max_num_queries(API_SAVE_MAX_QUERIES) as captured:
        response = _put(client, draft, "B3", {"value": "full", "base_revision": 1})
    assert response.status_code == 200 and response.json()["revision"] == 2
    answer_reads = [q for q in captured if 'FROM "assessments_answer"' in q["sql"]]
    assert len(answer_reads) == 1
