"""On-site verification (issue 13): the service rules, and the assessor's pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from assessments.models import Answer, Assessment
from programmes import services
from programmes.models import Evidence, Verification, VerifiedAnswer
from programmes.services import Finding, ProgrammeRuleError
from tests.programmes.verification_builders import ANSWERS, World, build_world, png_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def started(world: World) -> Verification:
    return services.verification_start(world.assessment, user=world.assessor)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _self_report(assessment: Assessment) -> tuple[list[Any], dict[str, Any]]:
    assessment.refresh_from_db()
    rows = list(Answer.objects.filter(assessment=assessment).order_by("pk").values())
    fields = {
        name: getattr(assessment, name)
        for name in ("result", "total", "level", "level_rank", "basic", "advanced", "status")
    }
    return rows, fields


# --- Service rules --------------------------------------------------------------------------


def test_confirm_records_the_firms_answer_unchanged(world: World, started: Verification) -> None:
    saved = services.verification_record(started, Finding("B3", True), user=world.assessor)
    assert (saved.value, saved.reported_value, saved.changed, saved.reason) == (
        True,
        True,
        False,
        "",
    )


def test_a_change_needs_a_reason(world: World, started: Verification) -> None:
    with pytest.raises(ProgrammeRuleError) as refused:
        services.verification_record(started, Finding("B3", False, "  "), user=world.assessor)
    assert refused.value.field == "B3"
    assert "reason" in refused.value.message
    assert not VerifiedAnswer.objects.exists()
    saved = services.verification_record(
        started, Finding("B3", False, "No cloud contract on site"), user=world.assessor
    )
    assert saved.changed and saved.reason == "No cloud contract on site"


def test_an_invalid_value_is_refused_and_named(world: World, started: Verification) -> None:
    with pytest.raises(ProgrammeRuleError) as refused:
        services.verification_record(started, Finding("B1", 150, "counted"), user=world.assessor)
    assert refused.value.field == "B1"
    assert "100" in refused.value.message
    with pytest.raises(ProgrammeRuleError):
        services.verification_record(started, Finding("M1", "bogus", "x"), user=world.assessor)
    assert not VerifiedAnswer.objects.exists()


def test_unreviewed_answers_block_completion(world: World, started: Verification) -> None:
    services.verification_record(started, Finding("B3", True), user=world.assessor)
    with pytest.raises(ProgrammeRuleError) as refused:
        services.verification_complete(started, user=world.assessor)
    assert "B1" in refused.value.message and "B3" not in refused.value.message
    started.refresh_from_db()
    assert not started.is_completed
    world.assessment.refresh_from_db()
    assert world.assessment.verified_at is None


def test_completion_scores_verified_answers_and_never_touches_the_self_report(
    world: World, started: Verification
) -> None:
    before = _self_report(world.assessment)
    services.verification_record(
        started, Finding("B3", False, "No cloud services in use"), user=world.assessor
    )
    services.verification_record(
        started, Finding("B1", 5, "Counted 1 of 20 machines"), user=world.assessor
    )
    assert services.verification_confirm_rest(started, user=world.assessor) == len(ANSWERS) - 2
    done = services.verification_complete(started, user=world.assessor)
    assert _self_report(world.assessment) == before
    from assessments.scoring import score

    expected = score(world.fw, {**ANSWERS, "B3": False, "B1": 5})
    assert done.total == expected.total
    assert done.level == (expected.level or "")
    assert done.total < world.assessment.total
    world.assessment.refresh_from_db()
    assert world.assessment.verified_at is not None


def test_completed_verification_is_locked(world: World, started: Verification) -> None:
    services.verification_confirm_rest(started, user=world.assessor)
    services.verification_complete(started, user=world.assessor)
    from programmes.evidence import evidence_add

    refusals = [
        lambda: services.verification_record(started, Finding("B3", True), user=world.assessor),
        lambda: services.verification_confirm_rest(started, user=world.assessor),
        lambda: services.verification_complete(started, user=world.assessor),
        lambda: services.verification_visit(started, dt.date(2026, 1, 2), user=world.assessor),
        lambda: evidence_add(started, "B3", png_file(), world.assessor),
    ]
    for attempt in refusals:
        with pytest.raises(ProgrammeRuleError, match="locked"):
            attempt()
    assert not Evidence.objects.exists()


def test_visit_date_cannot_be_in_the_future(world: World, started: Verification) -> None:
    today = dt.date(2026, 5, 1)
    with pytest.raises(ProgrammeRuleError) as refused:
        services.verification_visit(started, dt.date(2026, 5, 2), user=world.assessor, today=today)
    assert refused.value.field == "visited_on"
    services.verification_visit(started, dt.date(2026, 4, 30), user=world.assessor, today=today)
    started.refresh_from_db()
    assert started.visited_on == dt.date(2026, 4, 30)


def test_verified_answers_go_to_the_audit_trail(world: World, started: Verification) -> None:
    services.verification_record(started, Finding("B3", False, "not on site"), user=world.assessor)
    services.verification_record(started, Finding("B3", True), user=world.assessor)
    kind = ContentType.objects.get_for_model(VerifiedAnswer)
    entries = LogEntry.objects.filter(content_type=kind).order_by("pk")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries[1].changes_dict["changed"] == ["True", "False"]


def test_an_assessor_outside_the_scope_cannot_start(world: World) -> None:
    with pytest.raises(ProgrammeRuleError):
        services.verification_start(world.assessment, user=world.outside_assessor)
    assert not Verification.objects.exists()


# --- Pages ----------------------------------------------------------------------------------


def test_worklist_lists_scope_with_state_and_filters(world: World, started: Verification) -> None:
    services.verification_record(started, Finding("B3", True), user=world.assessor)
    client = _client(world.assessor)
    page = client.get(reverse("verification:worklist")).content.decode()
    assert "企业Fennel" in page and "企业Gorse" in page
    assert f"In progress: 1 of {len(ANSWERS)} reviewed" in page
    assert "Not started" in page
    assert "改造F" in page
    found = client.get(reverse("verification:worklist"), {"q": world.g.uscc}).content.decode()
    assert "企业Gorse" in found and "企业Fennel" not in found
    assert _client(world.outside_assessor).get(reverse("verification:worklist")).status_code == 200
    outside = _client(world.outside_assessor).get(reverse("verification:worklist")).content
    assert "企业Fennel".encode() not in outside
    assert _client(world.firm_user).get(reverse("verification:worklist")).status_code == 404


def test_worklist_pages_and_drops_completed(world: World, started: Verification) -> None:
    services.verification_confirm_rest(started, user=world.assessor)
    services.verification_complete(started, user=world.assessor)
    page = _client(world.assessor).get(reverse("verification:worklist")).content.decode()
    assert "企业Fennel" not in page and "企业Gorse" in page


def test_home_links_assessors_to_the_worklist(world: World) -> None:
    home = _client(world.assessor).get(reverse("home")).content.decode()
    assert reverse("verification:worklist") in home
    assert reverse("verification:worklist") not in (
        _client(world.firm_user).get(reverse("home")).content.decode()
    )


def test_finding_without_js_refuses_a_change_without_reason_next_to_the_question(
    world: World,
) -> None:
    url = reverse("verification:finding", args=[world.assessment.pk, "B3"])
    got = _client(world.assessor, "zh-hans").post(url, {"action": "change", "value": "false"})
    assert got.status_code == 400
    body = got.content.decode()
    block = body[body.index('id="vq-B3"') :]
    block = block[: block.index("</section>")]
    assert "vq-error" in block and "原因" in block
    assert not VerifiedAnswer.objects.exists()


def test_finding_with_htmx_answers_the_question_block(world: World) -> None:
    url = reverse("verification:finding", args=[world.assessment.pk, "B3"])
    got = _client(world.assessor).post(
        url, {"action": "change", "value": "false", "reason": "no cloud"}, HTTP_HX_REQUEST="true"
    )
    assert got.status_code == 200
    body = got.content.decode()
    assert body.lstrip().startswith('<section id="vq-B3"')
    assert 'id="vcount" hx-swap-oob="true">1<' in body
    answer = VerifiedAnswer.objects.get()
    assert (answer.value, answer.changed, answer.reason) == (False, True, "no cloud")


def test_finding_with_htmx_shows_an_invalid_number_in_the_users_language(world: World) -> None:
    url = reverse("verification:finding", args=[world.assessment.pk, "B1"])
    got = _client(world.assessor, "zh-hans").post(
        url, {"action": "change", "value": "abc", "reason": "x"}, HTTP_HX_REQUEST="true"
    )
    body = got.content.decode()
    assert "vq-error" in body and "数字" in body
    assert not VerifiedAnswer.objects.exists()


def test_complete_through_the_page_then_read_only(world: World) -> None:
    client = _client(world.assessor)
    pk = world.assessment.pk
    refused = client.post(reverse("verification:complete", args=[pk]))
    assert refused.status_code == 400 and b"vproblem" in refused.content
    client.post(
        reverse("verification:finding", args=[pk, "B3"]),
        {"action": "change", "value": "false", "reason": "no cloud"},
    )
    client.post(reverse("verification:visit", args=[pk]), {"visited_on": "2026-01-05"})
    client.post(reverse("verification:confirm_rest", args=[pk]))
    done = client.post(reverse("verification:complete", args=[pk]))
    assert done.status_code == 302
    page = client.get(reverse("verification:verify", args=[pk])).content.decode()
    assert 'id="vlocked"' in page and 'id="verified-level"' in page
    assert reverse("verification:finding", args=[pk, "B3"]) not in page
    assert 'type="file"' not in page
    again = client.post(reverse("verification:finding", args=[pk, "B3"]), {"action": "confirm"})
    assert again.status_code == 400 and "locked" in again.content.decode()
    assert VerifiedAnswer.objects.get(question_code="B3").value is False


def test_firm_and_officials_see_the_verified_result_with_reasons(world: World) -> None:
    verification = services.verification_start(world.assessment, user=world.assessor)
    services.verification_record(
        verification, Finding("B3", False, "没有云服务合同"), user=world.assessor
    )
    from programmes.evidence import evidence_add

    item = evidence_add(verification, "B3", png_file("合同.png"), world.assessor)
    result_url = reverse("assessments:result", args=[world.assessment.pk])
    # In progress: nobody sees it on the result page yet.
    assert b"verified-result" not in _client(world.firm_user).get(result_url).content
    services.verification_confirm_rest(verification, user=world.assessor)
    services.verification_complete(verification, user=world.assessor)
    for user in (world.firm_user, world.official):
        page = _client(user).get(result_url).content.decode()
        assert 'id="verified-result"' in page
        assert "没有云服务合同" in page
        assert reverse("verification:evidence", args=[item.pk]) in page
        assert _client(user).get(reverse("verification:evidence", args=[item.pk])).status_code == (
            200
        )
    # Another firm's user sees neither the result nor the file.
    assert _client(world.other_firm_user).get(result_url).status_code == 404
    assert (
        _client(world.other_firm_user)
        .get(reverse("verification:evidence", args=[item.pk]))
        .status_code
        == 404
    )


def test_verification_page_outside_scope_is_404(world: World) -> None:
    url = reverse("verification:verify", args=[world.assessment.pk])
    assert _client(world.assessor).get(url).status_code == 200
    for user in (world.outside_assessor, world.firm_user, world.official):
        assert _client(user).get(url).status_code == 404


def test_the_firms_pages_stay_read_only_on_a_verified_assessment(world: World) -> None:
    verification = services.verification_start(world.assessment, user=world.assessor)
    services.verification_confirm_rest(verification, user=world.assessor)
    services.verification_complete(verification, user=world.assessor)
    before = _self_report(world.assessment)
    client = _client(world.firm_user)
    pk = world.assessment.pk
    questionnaire = client.get(reverse("assessments:questionnaire", args=[pk]))
    assert questionnaire.status_code == 302
    assert questionnaire["Location"] == reverse("assessments:result", args=[pk])
    client.post(
        reverse("assessments:answer", args=[pk, "B3"]), {"value": "false", "base_revision": "1"}
    )
    review = client.post(reverse("assessments:review", args=[pk]), {"confirm": "yes"})
    assert review.status_code == 302
    assert _self_report(world.assessment) == before
    page = client.get(reverse("assessments:result", args=[pk])).content.decode()
    assert 'id="verified-result"' in page and "confirmed every answer" in page
