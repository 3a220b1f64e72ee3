"""The cluster dashboard: its figures are the cluster report's, to the digit; scope; queries."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from assessments.models import Assessment, Invitation, InvitationOpening
from reports import dashboard
from reports.context import cluster_report
from reports.templatetags.report_format import count, num1, num2, pct, points
from tests.factories import FirmFactory, MembershipFactory
from tests.reports.builders import answers_for, make_round, submit_many

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _page(user: Any, slug: str, **params: Any) -> Any:
    return _client(user).get(reverse("report-dashboard", args=[slug]), params)


def _text(html: str) -> str:
    """The page's text with tags dropped and white space collapsed."""
    html = re.sub(r"</?b>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("<section", start)
    return _text(html[start : end if end != -1 else None])


def test_every_figure_equals_the_pdf_context(scored: Any, cluster_official: Any) -> None:
    response = _page(cluster_official, "alpha", round=scored.round.pk)
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override("en"):
        report = cluster_report(scored.round, language="en")
    h = report.headline
    headline = _section(html, "headline")
    for figure in (
        f"{h.assessed}",
        f"of {h.invited} invited (response rate {pct(h.response_rate)})",
        pct(h.basic_share),
        pct(h.advanced_share),
        f"firms: {count(h.basic_count)}",
        f"firms: {count(h.advanced_count)}",
        points(h.basic_change),
        points(h.advanced_change),
        pct(h.previous_basic_share),
        pct(h.previous_advanced_share),
        f"Previous round: {h.previous_round}.",
        num2(report.homogeneity.value),
    ):
        assert figure in headline, figure
    assert h.previous_round == scored.previous.name
    levels = _section(html, "levels")
    for lv in report.levels:
        assert f"{lv.title} {count(lv.count)} {pct(lv.share)}" in levels
    for row in report.by_size:
        cells = " ".join(count(c) for c in row.counts)
        assert f"{row.label} {cells} {count(row.total)}" in levels
    dims = _section(html, "dimensions")
    for d in report.dimensions:
        c = d.cluster
        expected = f"{d.title} {num1(c.mean)} {num1(c.median)} {num1(c.q1)} – {num1(c.q3)}"
        assert f"{expected} {num1(d.benchmark.mean)}" in dims
    hg = report.homogeneity
    assert f"Homogeneity of this cluster: {num2(hg.value)}." in dims
    assert f"mean {num2(hg.benchmark_mean)}, from {num2(hg.benchmark_min)}" in dims
    weakest = _section(html, "weakest")
    assert report.weakest
    for q in report.weakest:
        assert f"{count(q.met)} / {q.n} {pct(q.share)} {pct(q.benchmark_share)}" in weakest
    support = _section(html, "support")
    assert report.support
    assert f"{report.support_basic} for basic, {report.support_advanced} for advanced" in support
    for e in report.support[: dashboard.SUPPORT_PAGE_SIZE]:
        assert e.firm in support and num2(e.total) in support
        for item in e.lacks:
            assert item in support


def test_response_and_trend_agree_with_the_headline(scored: Any, cluster_official: Any) -> None:
    Assessment.objects.create(
        round=scored.round,
        firm=[f for f in FirmFactory.create_batch(1)][0],
        framework_version=scored.round.framework_version,
    )
    opened = list(Invitation.objects.filter(round=scored.round)[:3])
    for invitation in opened:
        InvitationOpening.objects.create(invitation=invitation)
    rounds = dashboard.cluster_rounds(scored.round.cluster)
    counts = dashboard.round_counts(rounds)
    board = dashboard.dashboard(scored.round.cluster, scored.round, rounds, counts, language="en")
    report = cluster_report(scored.round, language="en")
    current = next(r for r in board.response if r.round_id == scored.round.pk)
    assert (current.invited, current.submitted, current.draft) == (
        report.headline.invited,
        report.headline.assessed,
        1,
    )
    assert current.response_rate == report.headline.response_rate
    assert current.opened == len(opened) == 3  # first visits of the invitation links
    assert [t.round_id for t in board.trend] == [scored.previous.pk, scored.round.pk]
    last, first = board.trend[-1], board.trend[0]
    assert (last.basic_share, last.advanced_share) == (
        report.headline.basic_share,
        report.headline.advanced_share,
    )
    assert (first.basic_share, first.advanced_share) == (
        report.headline.previous_basic_share,
        report.headline.previous_advanced_share,
    )
    html = _page(cluster_official, "alpha").content.decode()
    trend = _section(html, "trend")
    for t in board.trend:
        assert f"{t.assessed} {pct(t.basic_share)} {pct(t.advanced_share)}" in trend
    assert "<svg" in html.split('id="trend"')[1].split("</section>")[0]


def test_default_round_is_the_latest_with_submissions(scored: Any, cluster_official: Any) -> None:
    just_opened = make_round(
        scored.round.cluster,
        scored.round.framework_version,
        name="Round T2 just opened",
        opens=scored.round.opens_at + dt.timedelta(days=365),
    )
    rounds = dashboard.cluster_rounds(scored.round.cluster)
    assert rounds[0] == just_opened
    assert dashboard.default_round(rounds, dashboard.round_counts(rounds)) == scored.round
    html = _page(cluster_official, "alpha").content.decode()
    assert f'<option value="{scored.round.pk}" selected>' in html
    chosen = _page(cluster_official, "alpha", round=just_opened.pk).content.decode()
    assert "No firm has submitted in this round yet" in chosen


@pytest.mark.parametrize("user", ["outsider", "firm_user", "cluster_official"])
def test_out_of_scope_answers_like_a_missing_cluster(
    scored: Any, request: pytest.FixtureRequest, user: str, world: dict[str, Any]
) -> None:
    who = request.getfixturevalue(user)
    gamma = _page(who, "gamma")
    missing = _page(who, "no-such-cluster")
    assert gamma.status_code == missing.status_code == 404
    other_round = _page(who, "alpha", round=999_999)
    assert other_round.status_code == 404


def test_a_round_of_another_cluster_is_404(
    scored: Any, regional_official: Any, world: dict[str, Any]
) -> None:
    beta_round = world["beta"].rounds.get()
    assert _page(regional_official, "beta").status_code == 200
    assert _page(regional_official, "alpha", round=beta_round.pk).status_code == 404
    assert _page(regional_official, "alpha", round="x").status_code == 404


def test_dashboard_is_linked_from_my_clusters_and_the_cluster_page(
    scored: Any, cluster_official: Any
) -> None:
    url = reverse("report-dashboard", args=["alpha"])
    client = _client(cluster_official)
    for page in ("clusters:list", "home"):
        assert url in client.get(reverse(page)).content.decode()
    assert url in client.get(reverse("clusters:detail", args=["alpha"])).content.decode()


def _queries(user: Any, slug: str) -> list[str]:
    """The queries of a dashboard load with nothing cached but the benchmark snapshot (which
    every report of the version shares, and the first load after a submission refreshes)."""
    client = _client(user)
    client.get(reverse("report-dashboard", args=[slug]))
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("report-dashboard", args=[slug])).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_query_count_does_not_grow_with_rounds_or_firms(
    scored: Any, cluster_official: Any, world: dict[str, Any]
) -> None:
    import random

    before = _queries(cluster_official, "alpha")
    rng = random.Random(3)
    cluster, version, fw = scored.round.cluster, scored.round.framework_version, scored.fw
    firms = []
    for i in range(15):
        firm = FirmFactory(name=f"Extra firm {i:02d}")
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    for k in range(3):
        r = make_round(
            cluster,
            version,
            name=f"Old round {k}",
            opens=dt.datetime(2020 + k, 1, 1, tzinfo=dt.UTC),
        )
        submit_many(r, fw, firms, [answers_for(fw, rng.random(), rng) for _ in firms])
    submit_many(scored.round, fw, firms, [answers_for(fw, rng.random(), rng) for _ in firms])
    after = _queries(cluster_official, "alpha")
    assert len(after) == len(before), "\n".join(q for q in after if q not in before)
    assert len(after) <= 40


def test_firms_counting_next_come_from_the_support_list_for_a_band_level(
    scored: Any, cluster_official: Any
) -> None:
    from reports import targets

    fw = scored.fw
    deadline = timezone.localdate() + dt.timedelta(days=300)
    framework = scored.round.framework_version.framework
    with translation.override("en"):
        basic = targets.target_set(
            cluster_official,
            cluster=scored.round.cluster,
            framework=framework,
            level=fw.bands.basic,
            firms=999,
            deadline=deadline,
        )
        below_basic = targets.target_set(
            cluster_official,
            cluster=scored.round.cluster,
            framework=framework,
            level=fw.levels[0].code,
            firms=999,
            deadline=deadline,
        )
    rounds = dashboard.cluster_rounds(scored.round.cluster)
    counts = dashboard.round_counts(rounds)
    board = dashboard.dashboard(scored.round.cluster, scored.round, rounds, counts, language="en")
    report = cluster_report(scored.round, language="en")
    listed = {progress.target_id: firms for progress, firms in board.next_firms}
    assert [f.uscc for f in listed[basic.pk]] == [
        e.uscc for e in report.support if e.band == "basic"
    ][: targets.NEXT_LIMIT]
    assert [f.uscc for f in listed[below_basic.pk]] == [
        f.uscc for f in targets.next_to_count(scored.round, below_basic, language="en")
    ]
    html = _page(cluster_official, "alpha").content.decode()
    badges = _section(html, "support").count("Counts next towards a target")
    on_first_page = {e.uscc for e in report.support[: dashboard.SUPPORT_PAGE_SIZE]}
    assert badges == len(on_first_page & board.next_firm_codes) > 0


def test_a_cluster_without_rounds_says_so(cluster_official: Any) -> None:
    response = _page(cluster_official, "alpha")
    assert response.status_code == 200
    assert "This cluster has no round yet." in response.content.decode()


def _warm_key(round_: Any, language: str) -> str:
    from reports.models import ReportJob
    from reports.services import report_fingerprint

    return "dashboard:" + report_fingerprint(
        ReportJob.Kind.CLUSTER,
        round_=round_,
        language=language,
        shareable=False,
        with_targets=False,
    )


def test_a_submission_warms_the_dashboard_report_once_per_round(
    scored: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    import random

    from reports import tasks
    from tests.factories import SubmittedAssessmentFactory

    queued: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        tasks.dashboard_warm,
        "apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    rng = random.Random(3)
    late = [FirmFactory(name=f"Late firm {i}") for i in range(3)]
    for firm in late:
        MembershipFactory(cluster=scored.round.cluster, firm=firm)
    with django_capture_on_commit_callbacks(execute=True):
        for firm in late[:2]:  # a rush: two submissions, one warm-up
            SubmittedAssessmentFactory(
                round=scored.round, firm=firm, answers=answers_for(scored.fw, 0.7, rng)
            )
    assert queued == [([scored.round.pk], tasks.WARM_DELAY_SECONDS)]
    assert cache.get(_warm_key(scored.round, "en")) is None

    assert tasks.dashboard_warm(scored.round.pk) == 2
    for language in ("zh-hans", "en"):
        warmed = cache.get(_warm_key(scored.round, language))
        assert warmed is not None, language
        with translation.override(language):
            fresh = cluster_report(scored.round, language=language)
        assert warmed.headline == fresh.headline
        assert warmed.headline.assessed == 22  # the 20 of the fixture and the rush's 2
    # The regional comparison's stored figures of the round are up to date as well.
    from reports.models import RoundFigures

    stored = RoundFigures.objects.get(round_id=scored.round.pk)
    assert stored.data["heads"][0] == 22

    # Once the warm-up has started, the next submission queues the next one.
    with django_capture_on_commit_callbacks(execute=True):
        SubmittedAssessmentFactory(
            round=scored.round, firm=late[2], answers=answers_for(scored.fw, 0.7, rng)
        )
    assert len(queued) == 2
    assert cache.get(_warm_key(scored.round, "en")) is None  # its inputs changed


def test_a_warm_dashboard_needs_no_report_assembly(
    scored: Any, cluster_official: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports import tasks

    tasks.dashboard_warm(scored.round.pk)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("assembled on view although warmed")

    monkeypatch.setattr(dashboard, "cluster_report", fail)
    response = _page(cluster_official, "alpha", round=scored.round.pk)
    assert response.status_code == 200


def test_a_warm_up_of_a_deleted_round_does_nothing(scored: Any) -> None:
    from reports import tasks

    assert tasks.dashboard_warm(10**9) == 0


def test_a_broker_down_does_not_fail_the_submission_and_the_next_one_retries(
    scored: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    import random

    from reports import tasks
    from tests.factories import SubmittedAssessmentFactory

    calls: list[int] = []

    def down(args: Any, countdown: int) -> None:
        calls.append(args[0])
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.dashboard_warm, "apply_async", down)
    rng = random.Random(4)
    firms = [FirmFactory() for _ in range(2)]
    for firm in firms:
        MembershipFactory(cluster=scored.round.cluster, firm=firm)
        with django_capture_on_commit_callbacks(execute=True):
            done = SubmittedAssessmentFactory(
                round=scored.round, firm=firm, answers=answers_for(scored.fw, 0.6, rng)
            )
        assert done.status == Assessment.Status.SUBMITTED
    assert calls == [scored.round.pk, scored.round.pk]  # the key was released after the failure
