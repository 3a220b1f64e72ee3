"""The API under /api/v1/ (issue 12): one test or more per endpoint, tokens, errors, limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token

from assessments.models import Answer, Assessment, Invitation, Round
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _json(client: Any, method: str, url: str, body: Any = None, **extra: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json", **EN, **extra)


def _assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code", "problems"} and body["problems"]
    return body


# --- Old paths, tokens, languages, limits ---------------------------------------------------


def test_old_paths_are_gone_and_answer_in_the_error_shape(client, firm_user):
    client.force_login(firm_user)
    for url in ("/api/clusters/", "/api/frameworks/", "/api/reports/1/", "/api/v1/nothing/"):
        body = _assert_error(client.get(url, **EN), 404)
        assert body == {"detail": "Not found.", "code": "not_found", "problems": ["Not found."]}


def test_a_token_made_by_the_command_signs_in_and_stops_working_once_deleted(
    client, cluster_official, capsys
):
    call_command("drf_create_token", "cluster_official")
    key = capsys.readouterr().out.split()[2]
    assert Token.objects.get(user=cluster_official).key == key
    header = {"HTTP_AUTHORIZATION": f"Token {key}"}
    listed = client.get(reverse("clusters:api-cluster-list"), **header).json()["results"]
    assert [c["slug"] for c in listed] == ["alpha"]  # the user's scope, nothing more
    Token.objects.filter(key=key).delete()
    _assert_error(client.get(reverse("clusters:api-cluster-list"), **header, **EN), 401)


def test_errors_follow_accept_language(client, firm_user):
    client.force_login(firm_user)
    url = reverse("assessments:api-round-detail", args=[999_999])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["detail"]
    assert english == "Not found." and chinese != english and chinese.startswith("未找到")


def test_a_caller_over_the_rate_gets_429_with_retry_after(client, firm_user, settings):
    settings.API_USER_RATE = "3/minute"
    client.force_login(firm_user)
    url = reverse("clusters:api-cluster-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(url, **EN)
    body = _assert_error(response, 429)
    assert body["code"] == "throttled" and 0 < int(response["Retry-After"]) <= 60


def test_anonymous_callers_are_throttled_per_address(client, db, settings):
    settings.API_ANON_RATE = "2/minute"
    url = reverse("clusters:api-cluster-list")
    assert [client.get(url).status_code for _ in range(2)] == [401, 401]
    assert client.get(url).status_code == 429
    assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 401  # another address


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=null", "page"), ("page=0", "page"), ("page_size=1000", "page_size")],
)
def test_a_bad_page_is_400_naming_the_parameter(client, firm_user, query, field):
    client.force_login(firm_user)
    body = _assert_error(client.get(f"{reverse('clusters:api-cluster-list')}?{query}", **EN), 400)
    assert body["problems"][0].startswith(f"{field}: ")


def test_a_page_past_the_end_is_404(client, firm_user):
    client.force_login(firm_user)
    _assert_error(client.get(f"{reverse('clusters:api-cluster-list')}?page=9", **EN), 404)


def test_an_empty_body_is_400_and_a_form_body_415(client, cluster_official, open_round):
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[open_round.pk])
    body = _assert_error(client.post(url, "", content_type="application/json", **EN), 400)
    assert body["problems"] == ["body: The request needs a JSON body."]
    assert not Invitation.objects.exists()
    form = client.post(url, "firms=x", content_type="application/x-www-form-urlencoded", **EN)
    _assert_error(form, 415)


# --- Rounds -------------------------------------------------------------------------------


def _round_body(world: Any, **changes: Any) -> dict[str, Any]:
    now = timezone.now()
    body = {
        "cluster": "alpha",
        "framework": "questionnaire-demo",
        "version": "1",
        "name": "2027 上半年",
        "opens_at": now.isoformat(),
        "closes_at": (now + dt.timedelta(days=30)).isoformat(),
    }
    return body | changes


def test_rounds_are_listed_with_their_figures_and_filtered(
    client, cluster_official, open_round, invitations, draft
):
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-list")
    [row] = client.get(url).json()["results"]
    assert row["id"] == open_round.pk and row["state"] == "open"
    assert (row["invited"], row["started"], row["submitted"]) == (3, 1, 0)
    assert client.get(url, {"state": "closed"}).json()["results"] == []
    assert client.get(url, {"cluster": "gamma"}).json()["results"] == []
    _assert_error(client.get(url, {"state": "sideways"}, **EN), 400)


def test_an_official_opens_a_round(client, cluster_official, world, demo_version):
    client.force_login(cluster_official)
    response = _json(client, "post", reverse("assessments:api-round-list"), _round_body(world))
    assert response.status_code == 201
    created = Round.objects.get(pk=response.json()["id"])
    assert created.cluster == world["alpha"] and created.created_by == cluster_official
    detail = client.get(reverse("assessments:api-round-detail", args=[created.pk])).json()
    assert detail["name"] == "2027 上半年" and detail["invited"] == 0


def test_opening_a_round_refuses_bad_content_with_422_by_field(
    client, cluster_official, world, demo_version
):
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-list")
    now = timezone.now()
    body = _round_body(world, closes_at=(now - dt.timedelta(days=1)).isoformat())
    problems = _assert_error(_json(client, "post", url, body), 422)["problems"]
    assert problems == ["closes_at: The closing date must be after the opening date."]
    blank = _assert_error(_json(client, "post", url, _round_body(world, name=" ")), 400)
    assert blank["problems"] == ["name: This field may not be blank."]
    missing = _assert_error(_json(client, "post", url, _round_body(world, version="9")), 422)
    assert missing["problems"][0].startswith("version: ")
    assert _json(client, "post", url, _round_body(world, cluster="gamma")).status_code == 404
    shape = _assert_error(_json(client, "post", url, {"cluster": "alpha"}), 400)
    assert "name: This field is required." in shape["problems"]
    assert not Round.objects.exists()


def test_closing_a_round_ends_it_once(client, cluster_official, open_round, draft, firm_user):
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-close", args=[open_round.pk])
    response = _json(client, "post", url)
    assert response.status_code == 200 and response.json()["state"] == "closed"
    open_round.refresh_from_db()
    assert open_round.closes_at <= timezone.now()
    _assert_error(_json(client, "post", url), 409)
    client.force_login(firm_user)
    answers = reverse("assessments:api-assessment-answers", args=[draft.pk])
    late = {"answers": {"B1": {"value": 10, "base_revision": 0}}}
    assert _assert_error(_json(client, "patch", answers, late), 409)["code"] == "locked"


# --- Invitations ----------------------------------------------------------------------------


def test_invitations_are_listed_with_their_status(client, cluster_official, invitations, draft):
    Invitation.objects.filter(pk=invitations[1].pk).update(sent_at=timezone.now())
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[draft.round_id])
    rows = client.get(url).json()["results"]
    by_firm = {row["firm"]: row["status"] for row in rows}
    firms = [inv.firm for inv in invitations]
    assert by_firm == {firms[0].uscc: "started", firms[1].uscc: "sent", firms[2].uscc: "invited"}
    assert [r["firm"] for r in client.get(url, {"status": "sent"}).json()["results"]] == [
        firms[1].uscc
    ]
    assert all(row["url"].startswith("http") for row in rows)


def test_firms_are_invited_in_bulk_and_e_mailed(
    client, cluster_official, open_round, world, mailoutbox
):
    firms = world["firms"]["alpha"]
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[open_round.pk])
    body = {
        "firms": [firms[0].uscc, firms[1].uscc],
        "emails": {firms[1].uscc: "boss@example.com"},
        "send": True,
        "language": "en",
    }
    response = _json(client, "post", url, body)
    assert response.status_code == 201
    assert sorted(i["firm"] for i in response.json()["invitations"]) == sorted(
        [firms[0].uscc, firms[1].uscc]
    )
    assert [m.to for m in mailoutbox] == [["boss@example.com"]]
    everyone = _json(client, "post", url, {})
    assert everyone.status_code == 201 and len(everyone.json()["invitations"]) == 3
    assert Invitation.objects.filter(round=open_round).count() == 3


def test_inviting_a_firm_of_another_cluster_is_422_and_invites_nobody(
    client, cluster_official, open_round, world
):
    client.force_login(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[open_round.pk])
    stranger = world["firms"]["gamma"][0].uscc
    body = _assert_error(_json(client, "post", url, {"firms": [stranger]}), 422)
    assert body["problems"] == [f"firms: Not a firm of the round’s cluster: {stranger}"]
    bad_mail = _json(client, "post", url, {"emails": {stranger: "not-an-address"}})
    assert _assert_error(bad_mail, 400)["problems"][0].startswith(f"emails.{stranger}: ")
    assert not Invitation.objects.exists()


# --- Drafts, answers, submission, result ------------------------------------------------------


def test_a_firm_starts_then_resumes_its_draft(client, firm_user, open_round, invitations):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-start")
    first = _json(client, "post", url, {"round": open_round.pk})
    assert first.status_code == 201 and first.json()["status"] == "draft"
    again = _json(client, "post", url, {"round": open_round.pk})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Assessment.objects.count() == 1
    assert _json(client, "post", url, {"round": 999_999}).status_code == 404


def test_a_firm_not_invited_cannot_start(client, other_firm_user, open_round):
    client.force_login(other_firm_user)
    response = _json(
        client, "post", reverse("assessments:api-assessment-start"), {"round": open_round.pk}
    )
    _assert_error(response, 404)
    assert not Assessment.objects.exists()


def test_answers_are_read_and_saved_many_at_once(client, firm_user, draft):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-answers", args=[draft.pk])
    assert client.get(url).json() == {"answers": {}}
    body = {
        "answers": {
            "B1": {"value": 55, "base_revision": 0},
            "B3": {"value": "office", "base_revision": 0},
        }
    }
    saved = _json(client, "patch", url, body)
    assert saved.status_code == 200
    assert saved.json()["answers"] == {
        "B1": {"value": 55, "revision": 1},
        "B3": {"value": "office", "revision": 1},
    }
    put = _json(client, "put", url, {"answers": {"B1": {"value": 60, "base_revision": 1}}})
    assert put.json()["answers"]["B1"] == {"value": 60, "revision": 2}
    assert put.json()["answers"]["B3"] == {"value": "office", "revision": 1}  # kept


def test_invalid_answers_are_each_named_and_nothing_is_saved(client, firm_user, draft):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-answers", args=[draft.pk])
    body = {
        "answers": {
            "B1": {"value": 55, "base_revision": 0},
            "B3": {"value": "everywhere", "base_revision": 0},
            "ZZ": {"value": 1, "base_revision": 0},
        }
    }
    problems = _assert_error(_json(client, "patch", url, body), 422)["problems"]
    assert [p.split(":")[0] for p in problems] == ["answers.B3", "answers.ZZ"]
    shape = _assert_error(_json(client, "patch", url, {"answers": {"B1": {"value": 1}}}), 400)
    assert shape["problems"] == ["answers.B1.base_revision: This field is required."]
    assert not Answer.objects.filter(assessment=draft).exists()


def test_a_stale_revision_is_409_and_rolls_back_the_batch(client, firm_user, draft):
    answer_all(draft, {"B1": 35}, firm_user)
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-answers", args=[draft.pk])
    body = {
        "answers": {
            "B3": {"value": "office", "base_revision": 0},
            "B1": {"value": 60, "base_revision": 0},
        }
    }
    response = _assert_error(_json(client, "patch", url, body), 409)
    assert response["code"] == "conflict"
    assert response["conflicts"] == {"B1": {"value": 35, "revision": 1}}
    assert not Answer.objects.filter(assessment=draft, question_code="B3").exists()


def test_submitting_an_incomplete_draft_is_422_naming_each_question(client, firm_user, draft):
    answer_all(draft, {"B1": 55}, firm_user)
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-submit", args=[draft.pk])
    body = _assert_error(_json(client, "post", url), 422)
    assert body["code"] == "incomplete"
    assert "answers.B2: This question needs an answer." in body["problems"]
    assert all(p.startswith("answers.") for p in body["problems"])
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_submit_then_read_the_result(client, firm_user, cluster_official, draft):
    answer_all(draft, FULL_ANSWERS, firm_user)
    client.force_login(firm_user)
    result_url = reverse("assessments:api-assessment-result", args=[draft.pk])
    assert _assert_error(client.get(result_url, **EN), 409)["code"] == "draft"
    submitted = _json(client, "post", reverse("assessments:api-assessment-submit", args=[draft.pk]))
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["level"] == "L3"
    again = _json(client, "post", reverse("assessments:api-assessment-submit", args=[draft.pk]))
    assert _assert_error(again, 409)["code"] == "locked"
    result = client.get(result_url).json()
    assert result["level"] == "L3" and result["result"]["total"] == 90
    client.force_login(cluster_official)
    assert client.get(result_url).json()["id"] == draft.pk  # the cluster's official too


def test_assessments_are_filtered_by_round_and_status(client, firm_user, draft):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-list")
    assert [a["id"] for a in client.get(url, {"status": "draft"}).json()["results"]] == [draft.pk]
    assert client.get(url, {"status": "submitted"}).json()["results"] == []
    assert client.get(url, {"round": draft.round_id + 1}).json()["results"] == []


# --- Exports --------------------------------------------------------------------------------


@pytest.fixture
def submitted(firm_user: Any, draft: Any) -> Any:
    from assessments.services import assessment_submit

    answer_all(draft, FULL_ANSWERS, firm_user)
    draft.firm.name = "=HYPERLINK(1)"
    draft.firm.save()
    return assessment_submit(draft, user=firm_user)


def test_results_download_as_csv_with_formulas_kept_as_text(client, cluster_official, submitted):
    client.force_login(cluster_official)
    response = client.get(reverse("api-round-results", args=[submitted.round_id, "csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["uscc", "firm", "total", "level"]
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][3] == "L3"


def test_results_download_as_xlsx(client, cluster_official, submitted):
    client.force_login(cluster_official)
    response = client.get(reverse("api-round-results", args=[submitted.round_id, "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == submitted.firm.uscc and values[1][2] == 90
    assert sheet.cell(2, 2).data_type == "s"  # the formula-like name stays text


def test_results_of_a_round_outside_the_scope_are_404(client, firm_user, submitted):
    client.force_login(firm_user)  # a firm user, not an official
    response = client.get(reverse("api-round-results", args=[submitted.round_id, "csv"]), **EN)
    _assert_error(response, 404)
    assert client.get(f"/api/v1/rounds/{submitted.round_id}/results.pdf").status_code == 404


# --- Report files -----------------------------------------------------------------------------


def test_a_finished_report_downloads_with_a_token_and_a_queued_one_is_409(
    client, cluster_official, world
):
    from django.core.files.base import ContentFile

    from reports.models import ReportJob

    key = Token.objects.create(user=cluster_official).key
    header = {"HTTP_AUTHORIZATION": f"Token {key}", **EN}
    job = ReportJob.objects.create(
        kind="cluster",
        cluster=world["alpha"],
        language="en",
        requested_by=cluster_official,
        fingerprint="api-file-test",
        status=ReportJob.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    job.pdf.save(f"job-{job.pk}.pdf", ContentFile(b"%PDF-1.4 test"))
    status = client.get(reverse("api-report-job", args=[job.pk]), **header).json()
    assert list(status["api_files"]) == ["pdf"]
    response = client.get(status["api_files"]["pdf"], **header)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 test"
    missing = client.get(reverse("api-report-file", args=[job.pk, "xlsx"]), **header)
    assert _assert_error(missing, 404)["code"] == "expired"
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING)
    busy = client.get(reverse("api-report-file", args=[job.pk, "pdf"]), **header)
    assert _assert_error(busy, 409)["detail"] == "The report is not ready yet."
