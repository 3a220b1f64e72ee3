"""The firm file (一企一档, issue 10 part 4): who may open it, what it shows, and its query bound.

The firm F is alpha's first firm (firm_user's). It was in two past rounds of alpha on the test
framework, one past round of alpha on MIIT, and is invited to an open alpha round where it has
a draft; it also belongs to cluster gamma (another province), where it has a result that only
its own users and staff may see.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment, DimensionScore, Invitation
from assessments.results import result_context
from clusters.models import Firm
from clusters.selectors import firm_for_user
from reports import history
from tests.factories import (
    AssessmentFactory,
    FirmMemberFactory,
    MembershipFactory,
    UserFactory,
    builtin_framework_path,
)
from tests.reports.builders import answers_for, framework_version, make_round, submit_many

pytestmark = pytest.mark.django_db

MISSING = 999_999


@dataclass
class FileCast:
    firm: Firm
    t0: Assessment
    t1: Assessment
    miit: Assessment
    gamma: Assessment
    draft: Assessment
    open_round: Any
    gamma_round: Any


def _when(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


@pytest.fixture
def file_cast(world: dict[str, Any], firm_user: Any) -> FileCast:
    rng = random.Random(10)
    version, fw = framework_version()
    miit_version, miit_fw = framework_version(builtin_framework_path("miit-sme"))
    alpha, gamma = world["alpha"], world["gamma"]
    firm = world["firms"]["alpha"][0]
    MembershipFactory(cluster=gamma, firm=firm)
    peers = world["firms"]["alpha"][1:]
    t0_round = make_round(alpha, version, name="轮次Tzero", opens=_when(800))
    t1_round = make_round(alpha, version, name="轮次Tone", opens=_when(430))
    miit_round = make_round(alpha, miit_version, name="轮次Miit", opens=_when(300))
    gamma_round = make_round(gamma, version, name="轮次Gamma", opens=_when(200))
    open_round = make_round(alpha, version, name="轮次Open", opens=_when(2))
    [(t0, _), *_rest] = submit_many(
        t0_round, fw, [firm, *peers], [answers_for(fw, x, rng) for x in (0.2, 0.5, 0.6)]
    )
    [(t1, _), *_rest] = submit_many(
        t1_round, fw, [firm, *peers], [answers_for(fw, x, rng) for x in (0.9, 0.4, 0.3)]
    )
    [(miit, _)] = submit_many(miit_round, miit_fw, [firm], [answers_for(miit_fw, 0.5, rng)])
    [(gamma_result, _)] = submit_many(gamma_round, fw, [firm], [answers_for(fw, 0.7, rng)])
    Invitation.objects.filter(round=t1_round, firm=firm).update(
        sent_at=_when(429), accepted_at=_when(428)
    )
    Invitation.objects.create(round=open_round, firm=firm, token="open-round-token-firm-f")
    draft = AssessmentFactory(round=open_round, firm=firm)
    return FileCast(firm, t0, t1, miit, gamma_result, draft, open_round, gamma_round)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def _url(firm: Firm | int) -> str:
    return reverse("reports:firm_file", args=[firm if isinstance(firm, int) else firm.pk])


_TOKEN = re.compile(r"[A-Za-z0-9]{64}")  # CSRF tokens differ from one response to the next


def _get(user: Any, target: Firm | int) -> tuple[int, str]:
    response = _client(user).get(_url(target))
    return response.status_code, response.content.decode()


def _masked(body: str, target: Firm | int) -> str:
    return _TOKEN.sub("<TOKEN>", body.replace(_url(target), "<PATH>"))


# --- Who may open which file ----------------------------------------------------------------


def test_the_url_is_reports_firm_file_under_reports() -> None:
    assert _url(7) == "/reports/firms/7/"


@pytest.mark.parametrize(
    ("role", "firm_key", "allowed"),
    [
        ("firm_user", "own", True),
        ("firm_user", "peer", False),
        ("other_firm_user", "own", False),
        ("other_firm_user", "peer", True),
        ("cluster_official", "own", True),
        ("cluster_official", "beta", False),
        ("cluster_official", "gamma", False),
        ("regional_official", "own", True),
        ("regional_official", "beta", True),
        ("regional_official", "gamma", False),
        ("outsider", "own", False),
        ("staff_user", "gamma", True),
    ],
)
def test_scope_matrix(
    role: str,
    firm_key: str,
    allowed: bool,
    request: pytest.FixtureRequest,
    world: dict[str, Any],
    file_cast: FileCast,
) -> None:
    """In scope: 200 with the firm's name. Out of scope: exactly the answer of a missing firm."""
    user = request.getfixturevalue(role)
    firm = {
        "own": file_cast.firm,
        "peer": world["firms"]["alpha"][1],
        "beta": world["firms"]["beta"][0],
        "gamma": world["firms"]["gamma"][0],
    }[firm_key]
    status, body = _get(user, firm)
    missing = _get(user, MISSING)
    assert missing[0] == 404
    if allowed:
        assert status == 200
        assert firm.name in body and firm.uscc in body
    else:
        assert (status, _masked(body, firm)) == (missing[0], _masked(missing[1], MISSING))
        assert firm.name not in body


def test_anonymous_is_sent_to_log_in(file_cast: FileCast) -> None:
    for target in (file_cast.firm, MISSING):
        response = _client(None).get(_url(target))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_only_get_is_answered(firm_user: Any, file_cast: FileCast) -> None:
    assert _client(firm_user).post(_url(file_cast.firm)).status_code == 405


def test_selector_raises_404_outside_the_scope(
    cluster_official: Any, outsider: Any, world: dict[str, Any]
) -> None:
    from django.http import Http404

    inside, outside = world["firms"]["alpha"][0], world["firms"]["gamma"][0]
    assert firm_for_user(cluster_official, inside.pk) == inside
    for user, pk in ((cluster_official, outside.pk), (outsider, inside.pk), (None, inside.pk)):
        with pytest.raises(Http404):
            firm_for_user(user, pk)


# --- What each viewer sees ------------------------------------------------------------------


def test_official_sees_only_results_and_invitations_of_rounds_they_oversee(
    cluster_official: Any, file_cast: FileCast, world: dict[str, Any]
) -> None:
    status, body = _get(cluster_official, file_cast.firm)
    assert status == 200
    for name in ("轮次Tzero", "轮次Tone", "轮次Miit", "轮次Open"):
        assert name in body
    # F's round in gamma, gamma's name and the result's PDF are not alpha's official's business.
    assert "轮次Gamma" not in body and world["gamma"].name_zh not in body
    assert reverse("report-firm-result", args=[file_cast.gamma.pk]) not in body
    # Nor is the firm's draft: the official's sight is submitted results (not "in progress").
    assert "In progress" not in body
    file = history.firm_file(cluster_official, file_cast.firm)
    assert {c.slug for c in file.clusters} == {"alpha"}
    assert {inv.round_id for inv in file.invitations} == {
        file_cast.t0.round_id,
        file_cast.t1.round_id,
        file_cast.miit.round_id,
        file_cast.open_round.pk,
    }


def test_firm_user_sees_every_round_of_their_firm(
    firm_user: Any, file_cast: FileCast, world: dict[str, Any]
) -> None:
    status, body = _get(firm_user, file_cast.firm)
    assert status == 200
    for name in ("轮次Tzero", "轮次Tone", "轮次Miit", "轮次Gamma", "轮次Open"):
        assert name in body
    assert "In progress" in body  # their own draft
    assert "Your firm&#x27;s history" in body or "Your firm's history" in body
    for result in (file_cast.t0, file_cast.t1, file_cast.miit, file_cast.gamma):
        assert reverse("report-firm-result", args=[result.pk]) in body
        assert reverse("assessments:result", args=[result.pk]) in body
    assert reverse("report-firm-result", args=[file_cast.draft.pk]) not in body
    # A firm user gets no links to the officials' cluster pages.
    assert reverse("clusters:detail", args=["alpha"]) not in body


def test_rounds_are_grouped_by_framework_newest_first(firm_user: Any, file_cast: FileCast) -> None:
    file = history.firm_file(firm_user, file_cast.firm)
    assert [len(g.rows) for g in file.groups] == [4, 1]  # test framework, then MIIT
    assert [r.round_name for r in file.groups[0].rows] == [
        "轮次Open",
        "轮次Gamma",
        "轮次Tone",
        "轮次Tzero",
    ]
    assert [r.round_name for r in file.groups[0].results] == ["轮次Tzero", "轮次Tone", "轮次Gamma"]
    assert file.groups[1].rows[0].round_name == "轮次Miit"
    assert [d.code for d in file.groups[0].dimensions] == ["base", "mgmt", "ops"]
    assert not file.truncated


def test_figures_equal_the_stored_results(firm_user: Any, file_cast: FileCast) -> None:
    """Level, total and every dimension score are the assessment's stored ones."""
    file = history.firm_file(firm_user, file_cast.firm)
    rows = [row for group in file.groups for row in group.rows if row.is_submitted]
    assert len(rows) == 4
    body = _get(firm_user, file_cast.firm)[1]
    for row in rows:
        stored = Assessment.objects.get(pk=row.assessment.pk)
        assert row.total == stored.total and row.total is not None
        assert row.level_number == stored.level_rank + 1
        group = next(g for g in file.groups if row in g.rows)
        scores = dict(
            DimensionScore.objects.filter(assessment=stored).values_list("dimension_code", "score")
        )
        assert dict(zip([d.code for d in group.dimensions], row.scores, strict=True)) == {
            d.code: scores.get(d.code) for d in group.dimensions
        }
        assert f"{stored.total.normalize():f}" in body or str(stored.total) in body


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_level_titles_are_the_framework_versions(
    firm_user: Any, file_cast: FileCast, language: str
) -> None:
    from django.utils import translation

    from assessments.framework import text
    from assessments.versions import framework_for

    with translation.override(language):
        file = history.firm_file(firm_user, file_cast.firm)
    miit = file.groups[1]
    fw = framework_for(file_cast.miit.framework_version)
    stored = file_cast.miit
    stored.refresh_from_db()
    level = next(lv for lv in fw.levels if lv.code == stored.level)
    assert miit.rows[0].level_title == text(level.title, language)
    assert [lv.title for lv in miit.levels] == [text(lv.title, language) for lv in fw.levels]


def test_latest_gaps_are_the_result_pages_sentences(firm_user: Any, file_cast: FileCast) -> None:
    """The latest result (gamma's round for the firm's users) and the gap sentences that
    assessments/results.py writes for it, shown in words."""
    file = history.firm_file(firm_user, file_cast.firm)
    assert file.latest is not None and file.latest.assessment.pk == file_cast.gamma.pk
    context = result_context(firm_user, Assessment.objects.get(pk=file_cast.gamma.pk))
    assert [g.sentence for g in file.latest.gaps] == [g.sentence for g in context["gaps"]]
    body = _get(firm_user, file_cast.firm)[1]
    for gap in file.latest.gaps:
        assert gap.sentence.replace("'", "&#x27;").replace('"', "&quot;") in body


def test_an_officials_latest_result_is_one_they_may_see(
    cluster_official: Any, file_cast: FileCast
) -> None:
    file = history.firm_file(cluster_official, file_cast.firm)
    assert file.latest is not None and file.latest.assessment.pk == file_cast.miit.pk


def test_trajectory_chart_is_drawn_from_two_results_with_a_table(
    firm_user: Any, file_cast: FileCast
) -> None:
    file = history.firm_file(firm_user, file_cast.firm)
    svg = file.groups[0].chart_svg
    assert svg.startswith("<svg") and "<script" not in svg
    assert 'width="300"' in svg
    assert file.groups[1].chart_svg == ""  # one MIIT result: no line from one point
    body = _get(firm_user, file_cast.firm)[1]
    assert body.count("<svg") == 1
    assert "The trajectory is drawn from the second result on this framework." in body
    # The numbers of the chart are in the page's table as well.
    for row in file.groups[0].results:
        assert re.search(rf'class="stepno">{row.level_number}<', body)


def test_invitations_list_sent_and_accepted(firm_user: Any, file_cast: FileCast) -> None:
    body = _get(firm_user, file_cast.firm)[1]
    invitation = Invitation.objects.get(round=file_cast.t1.round, firm=file_cast.firm)
    section = body[body.index('id="invitations"') :]
    for moment in (invitation.sent_at, invitation.accepted_at):
        local = timezone.localtime(moment)
        assert f'{local:%Y-%m-%d}</span> <span class="nowrap">{local:%H:%M}' in section
    assert section.count("<tr>") == 1 + 5  # the header and the five visible invitations


def test_the_page_speaks_chinese_by_default(firm_user: Any, file_cast: FileCast) -> None:
    body = _client(firm_user, "zh-hans").get(_url(file_cast.firm)).content.decode()
    for text in ("登记信息", "等级轨迹", "邀请", "各维度得分"):
        assert text in body
    for english in ("Register data", "Level trajectory", "Dimension scores", "My history"):
        assert english not in body


def test_a_firm_without_rounds_has_a_file_saying_so(firm_user: Any, world: dict[str, Any]) -> None:
    body = _get(firm_user, world["firms"]["alpha"][0])[1]
    assert "The firm has not been in any round yet." in body
    assert "No submitted result yet." in body and "No invitations." in body


# --- Queries do not grow with the rounds ----------------------------------------------------


def _queries(user: Any, firm: Firm) -> int:
    client = _client(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(_url(firm)).status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_rounds(
    firm_user: Any,
    cluster_official: Any,
    file_cast: FileCast,
    world: dict[str, Any],
    django_assert_max_num_queries: Any,
) -> None:
    before = {user.pk: _queries(user, file_cast.firm) for user in (firm_user, cluster_official)}
    version, fw = framework_version()
    rng = random.Random(4)
    for i in range(8):
        round_ = make_round(
            world["alpha"], version, name=f"轮次Extra{i}", opens=_when(900 + 70 * i)
        )
        submit_many(round_, fw, [file_cast.firm], [answers_for(fw, 0.1 * i, rng)])
    after = {user.pk: _queries(user, file_cast.firm) for user in (firm_user, cluster_official)}
    assert after == before
    for user in (firm_user, cluster_official):
        client = _client(user)
        with django_assert_max_num_queries(25):
            assert client.get(_url(file_cast.firm)).status_code == 200


def test_the_list_is_bounded(
    firm_user: Any, file_cast: FileCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "ROUND_LIMIT", 3)
    file = history.firm_file(firm_user, file_cast.firm)
    rows = [row for g in file.groups for row in g.rows]
    assert [row.round_name for row in rows] == ["轮次Open", "轮次Gamma", "轮次Miit"]
    assert file.truncated and len(file.invitations) == 3
    body = _get(firm_user, file_cast.firm)[1]
    assert "Only the latest 3 rounds are listed." in body
    # Exactly at the limit, nothing is hidden and nothing is said.
    monkeypatch.setattr(history, "ROUND_LIMIT", 5)
    file = history.firm_file(firm_user, file_cast.firm)
    assert sum(len(g.rows) for g in file.groups) == 5 and not file.truncated


# --- Links to the file ----------------------------------------------------------------------


def test_register_list_links_firm_names_to_their_files(
    cluster_official: Any, world: dict[str, Any]
) -> None:
    body = _client(cluster_official).get(reverse("clusters:detail", args=["alpha"])).content
    for firm in world["firms"]["alpha"]:
        assert f'href="{_url(firm)}"'.encode() in body


def test_home_links_a_firm_user_to_their_history(firm_user: Any, world: dict[str, Any]) -> None:
    body = _client(firm_user).get(reverse("home")).content.decode()
    assert f'href="{_url(world["firms"]["alpha"][0])}"' in body and "My history" in body
    assert _url(world["firms"]["alpha"][1]) not in body


def test_home_names_each_firm_of_a_user_with_two(world: dict[str, Any]) -> None:
    user = UserFactory(username="two_firms")
    first, second = world["firms"]["alpha"][0], world["firms"]["beta"][0]
    FirmMemberFactory(user=user, firm=first)
    FirmMemberFactory(user=user, firm=second)
    body = _client(user).get(reverse("home")).content.decode()
    assert body.count("My history") == 2
    assert first.name in body and second.name in body


def test_totals_are_decimal_two_places(firm_user: Any, file_cast: FileCast) -> None:
    file = history.firm_file(firm_user, file_cast.firm)
    for row in file.groups[0].results:
        assert isinstance(row.total, Decimal) and row.total.as_tuple().exponent == -2


def test_officials_see_contacts_reminders_and_first_opening(
    cluster_official: Any, firm_user: Any, file_cast: FileCast
) -> None:
    from assessments.models import InvitationMessage, InvitationOpening

    Firm.objects.filter(pk=file_cast.firm.pk).update(
        contact_person="王经理", contact_email="wang@example.cn", contact_phone="13800138000"
    )
    invitation = Invitation.objects.get(round=file_cast.t1.round, firm=file_cast.firm)
    InvitationOpening.objects.create(invitation=invitation, opened_at=_when(429))
    for days, status in ((20, "sent"), (10, "sent"), (5, "failed")):
        InvitationMessage.objects.create(
            invitation=invitation,
            kind=InvitationMessage.Kind.REMINDER,
            email="wang@example.cn",
            status=status,
            created_at=_when(days),
        )
    body = _get(cluster_official, file_cast.firm)[1]
    assert "王经理" in body and "mailto:wang@example.cn" in body and "13800138000" in body
    section = body[body.index('id="invitations"') :]
    # The failed e-mail is no reminder; the last one counted is ten days old.
    assert f"Reminded 2 times, last on {timezone.localtime(_when(10)):%Y-%m-%d}" in section
    assert f"opened {timezone.localtime(_when(429)):%Y-%m-%d}" in section
    zh = _client(cluster_official, "zh-hans").get(_url(file_cast.firm)).content.decode()
    assert "已提醒 2 次" in zh
    # A firm's own user is not shown its register contacts as if it were an official's record.
    assert "mailto:wang@example.cn" not in _get(firm_user, file_cast.firm)[1]
