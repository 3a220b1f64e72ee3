"""The API's reminders and workspace figures (issue 12): reminders follow the round page's
rules, and the dashboard and comparison answer the pages' own figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Invitation, InvitationMessage, InvitationOpening
from assessments.services import MAX_REMINDERS
from reports import context, dashboard, targets
from tests.factories import AssessmentFactory
from tests.reports.conftest import Scored, scored  # noqa: F401 (the report tests' cast)

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code", "problems"} and body["problems"]
    return body


# --- Reminders -------------------------------------------------------------------------------


@pytest.fixture
def addressed(invitations: list[Invitation]) -> list[Invitation]:
    """The open round's three invitations, each with an address, none e-mailed yet."""
    for i, invitation in enumerate(invitations):
        invitation.email = f"firm{i}@example.com"
        invitation.save(update_fields=["email"])
    return invitations


def _remind_url(round_id: int) -> str:
    return reverse("assessments:api-round-remind", args=[round_id])


def test_reminding_a_round_mails_each_unsubmitted_firm_once(
    cluster_official, open_round, addressed, mailoutbox
):
    AssessmentFactory(round=open_round, firm=addressed[2].firm, status="submitted")
    client = _client(cluster_official)
    first = _post(client, _remind_url(open_round.pk), {"language": "en"})
    assert first.status_code == 200, first.content
    assert first.json() == {
        "invited": 0,
        "queued": 2,
        "sent_now": 2,
        "without_email": 0,
        "skipped": 0,
        "refused": [],
    }
    assert sorted(m.to[0] for m in mailoutbox) == ["firm0@example.com", "firm1@example.com"]
    again = _post(client, _remind_url(open_round.pk), {})
    assert again.status_code == 200
    assert (again.json()["queued"], again.json()["skipped"]) == (0, 2)
    assert len(mailoutbox) == 2
    assert InvitationMessage.objects.filter(kind="reminder").count() == 2


def test_reminding_chosen_firms_refuses_each_one_with_its_reason(
    cluster_official, open_round, addressed, mailoutbox
):
    client = _client(cluster_official)
    uscc = addressed[0].firm.uscc
    done = _post(client, _remind_url(open_round.pk), {"firms": [uscc]})
    assert done.status_code == 200, done.content
    assert (done.json()["queued"], done.json()["sent_now"], done.json()["refused"]) == (1, 1, [])
    assert [m.to for m in mailoutbox] == [["firm0@example.com"]]
    # Within 24 hours of the last e-mail: refused, by firm, and nothing is sent.
    body = _error(_post(client, _remind_url(open_round.pk), {"firms": [uscc]}), 422)
    assert body["code"] == "refused"
    assert body["problems"] == [f"firms.{uscc}: This firm was e-mailed less than 24 hours ago."]
    # One refused among others reminded: 200, with the refusal named.
    other = addressed[1].firm.uscc
    mixed = _post(client, _remind_url(open_round.pk), {"firms": [uscc, other]})
    assert mixed.status_code == 200
    assert mixed.json()["queued"] == 1 and [r["firm"] for r in mixed.json()["refused"]] == [uscc]
    assert len(mailoutbox) == 2


def test_the_most_reminders_are_refused_in_chinese(cluster_official, open_round, addressed):
    long_ago = timezone.now() - dt.timedelta(days=30)
    for _n in range(MAX_REMINDERS):
        message = InvitationMessage.objects.create(
            invitation=addressed[0], kind="reminder", email="firm0@example.com", status="sent"
        )
        InvitationMessage.objects.filter(pk=message.pk).update(created_at=long_ago)
    client = _client(cluster_official, "zh-hans")
    uscc = addressed[0].firm.uscc
    body = _error(_post(client, _remind_url(open_round.pk), {"firms": [uscc]}), 422)
    assert body["problems"][0].startswith(f"firms.{uscc}: ")
    assert "提醒" in body["problems"][0]
    assert InvitationMessage.objects.filter(kind="reminder").count() == MAX_REMINDERS


def test_reminding_refuses_strangers_and_closed_rounds_without_mailing(
    cluster_official, open_round, addressed, world, mailoutbox
):
    client = _client(cluster_official)
    stranger = world["firms"]["gamma"][0].uscc
    body = _error(_post(client, _remind_url(open_round.pk), {"firms": [stranger]}), 422)
    assert body["problems"] == [f"firms: Not a firm invited to this round: {stranger}"]
    _error(_post(client, _remind_url(open_round.pk), {"firms": []}), 400)
    many = [f"91320583MA{n:08d}" for n in range(21)]  # more than are e-mailed within a request
    too_many = _error(_post(client, _remind_url(open_round.pk), {"firms": many}), 400)
    assert too_many["problems"][0].startswith("firms: ")
    _error(_post(client, _remind_url(open_round.pk), {"language": "fr"}), 400)
    type(open_round).objects.filter(pk=open_round.pk).update(closes_at=timezone.now())
    closed = _error(_post(client, _remind_url(open_round.pk), {}), 422)
    assert closed["problems"] == ["body: This round is closed."]
    assert not mailoutbox and not InvitationMessage.objects.exists()


@pytest.mark.parametrize("who", ["firm_user", "other_firm_user", "outsider"])
def test_reminding_is_404_for_those_who_do_not_manage_the_cluster(
    request, who, open_round, addressed, mailoutbox
):
    """Firms, even invited ones, and users without a scope: 404, as for a missing round."""
    client = _client(request.getfixturevalue(who))
    _error(_post(client, _remind_url(open_round.pk), {}), 404)
    assert not mailoutbox


def test_invitation_status_shows_openings_and_reminders(
    cluster_official, open_round, addressed, draft
):
    InvitationOpening.objects.create(invitation=addressed[1])
    InvitationMessage.objects.create(invitation=addressed[1], kind="reminder", email="a@b.cn")
    InvitationMessage.objects.create(
        invitation=addressed[1], kind="reminder", email="a@b.cn", status="failed"
    )
    client = _client(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[open_round.pk])
    rows = {r["firm"]: r for r in client.get(url).json()["results"]}
    opened = rows[addressed[1].firm.uscc]
    assert opened["status"] == "opened" and opened["opened_at"] is not None
    assert opened["reminders"] == 1  # the failed e-mail does not count
    assert rows[addressed[0].firm.uscc]["status"] == "started"
    assert (rows[addressed[2].firm.uscc]["status"], rows[addressed[2].firm.uscc]["reminders"]) == (
        "invited",
        0,
    )
    only = client.get(url, {"status": "opened"}).json()["results"]
    assert [r["firm"] for r in only] == [addressed[1].firm.uscc]


def test_inviting_with_send_twice_mails_each_firm_once(
    cluster_official, open_round, world, mailoutbox
):
    firms = world["firms"]["alpha"]
    client = _client(cluster_official)
    url = reverse("assessments:api-round-invitations", args=[open_round.pk])
    body = {"firms": [firms[0].uscc], "emails": {firms[0].uscc: "a@example.com"}, "send": True}
    first = _post(client, url, body)
    assert first.status_code == 201, first.content
    assert first.json()["mailing"] == {
        "invited": 1,
        "queued": 1,
        "sent_now": 1,
        "without_email": 0,
        "skipped": 0,
    }
    assert first.json()["invitations"][0]["status"] == "sent"
    second = _post(client, url, body)
    assert second.json()["mailing"]["skipped"] == 1 and len(mailoutbox) == 1
    assert InvitationMessage.objects.filter(kind="invitation").count() == 1
    assert _post(client, url, {"firms": [firms[1].uscc]}).json()["mailing"] is None


# --- Workspace figures -----------------------------------------------------------------------


@pytest.fixture
def figures(request: pytest.FixtureRequest, cluster_official: Any) -> dict[str, Any]:
    """The report tests' cast (tests/reports/conftest.py): alpha with 24 firms invited to round
    T1 and 20 submitted, after round T0 with 16; beta with one round. Here also one opening of
    an unsubmitted firm's link, and a target on the advanced level."""
    cast: Scored = request.getfixturevalue("scored")
    cache.clear()
    waiting = Invitation.objects.filter(round=cast.round).exclude(firm__in=cast.firms)
    InvitationOpening.objects.create(invitation=waiting.order_by("pk").first())
    version = cast.round.framework_version
    target = targets.target_set(
        cluster_official,
        cluster=cast.round.cluster,
        framework=version.framework,
        level=cast.fw.bands.advanced,
        firms=25,
        deadline=dt.date(2027, 6, 30),
    )
    return {"first": cast.previous, "second": cast.round, "version": version, "target": target}


def _dashboard(client: Client, slug: str = "alpha", **params: Any) -> Any:
    return client.get(reverse("api-cluster-dashboard", args=[slug]), params)


def _pct(value: float | None) -> float | None:
    return None if value is None else float(value)


def test_dashboard_figures_equal_the_page_and_the_report(figures, cluster_official):
    client = _client(cluster_official)
    api = _dashboard(client)
    assert api.status_code == 200, api.content
    data = api.json()
    page = client.get(reverse("report-dashboard", args=["alpha"]))
    board: dashboard.Dashboard = page.context["board"]
    report = context.cluster_report(figures["second"], language="en")
    # The default round is the page's: the newest with submissions.
    assert data["round"] == {"id": figures["second"].pk, "name": "Round T1"}
    assert board.round == figures["second"]
    assert [r["id"] for r in data["rounds"]] == [r.pk for r in board.rounds]
    h = data["headline"]
    for name in (
        "invited",
        "assessed",
        "response_rate",
        "basic_count",
        "advanced_count",
        "basic_share",
        "advanced_share",
        "previous_round",
        "basic_change",
        "advanced_change",
    ):
        assert h[name] == getattr(board.report.headline, name) == getattr(report.headline, name)
    assert (h["invited"], h["assessed"], h["previous_round"]) == (24, 20, "Round T0")
    assert [(lv["code"], lv["count"], lv["share"]) for lv in data["levels"]] == [
        (lv.code, lv.count, lv.share) for lv in report.levels
    ]
    assert [
        (d["code"], d["weight"], d["cluster"]["mean"], d["cluster"]["median"], d["benchmark"]["n"])
        for d in data["dimensions"]
    ] == [
        (d.code, float(d.weight), d.cluster.mean, d.cluster.median, d.benchmark.n)
        for d in report.dimensions
    ]
    assert [(q["code"], q["met"], q["share"]) for q in data["weakest"]] == [
        (q.code, q.met, q.share) for q in report.weakest
    ]
    assert data["homogeneity"]["value"] == report.homogeneity.value
    assert [
        (r["round_id"], r["invited"], r["opened"], r["submitted"]) for r in data["response"]
    ] == [(r.round_id, r.invited, r.opened, r.submitted) for r in board.response]
    assert data["response"][0]["opened"] == 1
    assert [(t["round_id"], t["assessed"], t["basic_share"]) for t in data["trend"]] == [
        (t.round_id, t.assessed, t.basic_share) for t in board.trend
    ]
    [target] = data["targets"]
    [progress] = board.targets
    assert (target["target_id"], target["goal"], target["current"], target["share"]) == (
        figures["target"].pk,
        25,
        progress.current,
        progress.share,
    )
    next_codes = {f.uscc for _p, firms in board.next_firms for f in firms}
    assert {f["uscc"] for f in target["next_firms"]} == next_codes
    support = data["support"]
    assert support["count"] == len(report.support) > 0
    assert len(data["trend"]) == 2 and data["weakest"] and target["next_firms"]
    shown = page.context["support"].object_list if page.context["support"] else []
    assert [(s["uscc"], s["total"], s["firm_id"]) for s in support["results"]] == [
        (row.entry.uscc, _pct(row.entry.total), row.firm_id) for row in shown
    ]
    assert (data["support_basic"], data["support_advanced"]) == (
        report.support_basic,
        report.support_advanced,
    )


def test_dashboard_picks_a_round_and_refuses_bad_ones(figures, cluster_official, world):
    client = _client(cluster_official)
    older = _dashboard(client, round=figures["first"].pk).json()
    assert older["round"]["id"] == figures["first"].pk
    assert older["headline"]["assessed"] == 16 and older["headline"]["previous_round"] is None
    beta_round = figures["second"].__class__.objects.get(cluster=world["beta"])
    _error(_dashboard(client, round=beta_round.pk), 404)
    assert _error(_dashboard(client, round="x"), 400)["problems"][0].startswith("round: ")
    _error(_dashboard(client, page="0"), 400)
    _error(_dashboard(client, page="99"), 404)


@pytest.mark.parametrize(
    ("who", "slug", "status"),
    [
        ("cluster_official", "alpha", 200),
        ("regional_official", "alpha", 200),
        ("cluster_official", "beta", 404),
        ("regional_official", "gamma", 404),
        ("firm_user", "alpha", 404),
        ("outsider", "alpha", 404),
        ("cluster_official", "no-such-cluster", 404),
    ],
)
def test_dashboard_is_scoped_like_the_page(request, figures, who, slug, status):
    client = _client(request.getfixturevalue(who))
    response = _dashboard(client, slug)
    page = client.get(reverse("report-dashboard", args=[slug]))
    assert response.status_code == page.status_code == status
    if status == 404:
        _error(response, 404)


def test_a_cluster_without_rounds_has_an_empty_dashboard(world, cluster_official):
    data = _dashboard(_client(cluster_official)).json()
    assert data["round"] is None and data["headline"] is None and data["support"]["count"] == 0
    assert data["rounds"] == [] and data["targets"] == []


def _comparison(client: Client, region_id: int, **params: Any) -> Any:
    return client.get(reverse("api-region-comparison", args=[region_id]), params)


def test_comparison_figures_equal_the_regional_page(figures, regional_official, world):
    province = world["province_a"]
    client = _client(regional_official)
    for sort in ("-basic", "cluster", "response"):
        api = _comparison(client, province.pk, sort=sort)
        assert api.status_code == 200, api.content
        data = api.json()
        page = client.get(reverse("report-region", args=[province.pk]), {"sort": sort})
        shown: context.RegionReport = page.context["report"]
        assert data["framework"] == shown.framework_slug == figures["version"].framework.slug
        assert data["sort"] == sort
        rows = [r for g in data["groups"] for r in g["rows"]]
        expected = [r for g in shown.groups for r in g.rows]
        assert [
            (
                r["cluster_slug"],
                r["round_id"],
                r["invited"],
                r["assessed"],
                r["response_rate"],
                r["basic_share"],
                r["advanced_share"],
                r["basic_change"],
                r["homogeneity"],
                r["dimension_means"],
                r["level_counts"],
            )
            for r in rows
        ] == [
            (
                r.cluster_slug,
                r.round_id,
                r.invited,
                r.assessed,
                r.response_rate,
                r.basic_share,
                r.advanced_share,
                r.basic_change,
                r.homogeneity,
                list(r.dimension_means),
                list(r.level_counts),
            )
            for r in expected
        ]
    assert {r["cluster_slug"] for r in rows} == {"alpha", "beta"}
    assert [g["levels"][0]["code"] for g in data["groups"]] == [""] * len(data["groups"])
    assert data["frameworks"][0]["slug"] == data["framework"]


def test_comparison_refuses_bad_input_and_answers_outside_scope_as_missing(
    figures, regional_official, cluster_official, world
):
    province = world["province_a"]
    client = _client(regional_official)
    body = _error(_comparison(client, province.pk, framework="nope"), 404)
    assert body["problems"] == ["framework: No framework “nope” in this region."]
    assert _error(_comparison(client, province.pk, year="1999"), 400)["problems"][0].startswith(
        "year: "
    )
    _error(_comparison(client, province.pk, sort="nothing"), 400)
    in_2025 = _comparison(client, province.pk, year="2025").json()
    alpha = next(r for g in in_2025["groups"] for r in g["rows"] if r["cluster_slug"] == "alpha")
    assert (in_2025["year"], alpha["round_id"]) == (2025, figures["first"].pk)
    _error(_comparison(client, world["province_b"].pk), 404)
    official = _client(cluster_official)
    page = official.get(reverse("report-region", args=[province.pk]))
    assert page.status_code == 404
    _error(_comparison(official, province.pk), 404)
    _error(_comparison(client, 10**17), 404)
