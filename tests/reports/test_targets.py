"""Targets: validation, progress counted from the scorer's results, the firms that count next,
and setting one on the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from assessments.models import Framework
from reports import targets
from reports.models import Target
from tests.factories import FirmFactory, MembershipFactory
from tests.reports.builders import answers_for, make_round, submit_many

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Services word their errors in the active language; the pages set their own."""
    with translation.override("en"):
        yield


def _framework(scored: Any) -> Framework:
    return scored.round.framework_version.framework


def _at_or_above(results: Any, fw: Any, level: str) -> int:
    rank = fw.level_rank(level)
    return sum(1 for r in results if fw.level_rank(r.level) >= rank)


def _set(user: Any, scored: Any, **changes: Any) -> Target:
    fields: dict[str, Any] = {
        "cluster": scored.round.cluster,
        "framework": _framework(scored),
        "level": "L2",
        "firms": 15,
        "deadline": timezone.localdate() + dt.timedelta(days=200),
    }
    fields.update(changes)
    return targets.target_set(user, **fields)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"level": "L9"}, "level", "L9 is not a level of"),
        ({"level": ""}, "level", "is not a level of"),
        ({"firms": 0}, "firms", "between 1 and 1,000,000"),
        ({"firms": 2_000_000}, "firms", "between 1 and 1,000,000"),
        ({"deadline": dt.date(2000, 1, 1)}, "deadline", "must be after today"),
        ({"deadline": dt.date(2090, 1, 1)}, "deadline", "within 20 years"),
        ({"industry": "Z99"}, "industry", "Z99 is not a GB/T 4754 industry code"),
    ],
)
def test_a_bad_target_is_refused_with_the_field_and_nothing_is_stored(
    scored: Any, cluster_official: Any, changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _set(cluster_official, scored, **changes)
    assert words in " ".join(caught.value.message_dict[field])
    assert not Target.objects.exists()


def test_a_target_outside_the_scope_is_refused_like_a_missing_cluster(
    scored: Any, cluster_official: Any, world: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as caught:
        _set(cluster_official, scored, cluster=world["gamma"])
    assert caught.value.message_dict == {"cluster": ["No such cluster."]}
    with pytest.raises(ValidationError):
        _set(cluster_official, scored, cluster=None, region=world["province_b"])
    with pytest.raises(ValidationError):
        _set(cluster_official, scored, region=world["province_a"])  # both subjects
    assert not Target.objects.exists()


def test_progress_counts_the_latest_round_with_submissions_and_its_trend(
    scored: Any, cluster_official: Any
) -> None:
    fw = scored.fw
    target = _set(cluster_official, scored, level="L2", firms=15)
    make_round(  # just opened, nobody submitted: it must not reset the count to 0
        scored.round.cluster,
        scored.round.framework_version,
        name="Round T2",
        opens=scored.round.opens_at + dt.timedelta(days=365),
    )
    (progress,) = targets.progress_for_cluster(scored.round.cluster, "report-test", language="en")
    now = _at_or_above(scored.results.values(), fw, "L2")
    before = _at_or_above(scored.previous_results.values(), fw, "L2")
    assert progress.target_id == target.pk
    assert progress.round == scored.round.name
    assert (progress.current, progress.goal) == (now, 15)
    assert progress.met == (now >= 15)
    assert progress.share == min(100.0, round(100 * now / 15, 1))
    assert [(p.round, p.count) for p in progress.trend] == [
        (scored.previous.name, before),
        (scored.round.name, now),
    ]
    assert progress.level == "Level 2"
    assert progress.days_left == 200
    # Another framework's targets are not this framework's.
    assert targets.progress_for_cluster(scored.round.cluster, "no-such-framework") == []


def test_progress_for_one_industry_counts_only_its_firms(
    scored: Any, cluster_official: Any
) -> None:
    fw = scored.fw
    some = scored.firms[:7]
    for i, firm in enumerate(scored.firms):
        firm.industry_section, firm.industry_division = ("C", "34") if i < 7 else ("C", "13")
        firm.save()
    _set(cluster_official, scored, level="L1", industry="c 34")
    (progress,) = targets.progress_for_cluster(scored.round.cluster, _framework(scored))
    assert progress.industry == "C34"
    assert progress.current == _at_or_above([scored.results[f.pk] for f in some], fw, "L1")


def test_region_progress_counts_each_firm_once_on_each_clusters_latest_round(
    scored: Any, regional_official: Any, world: dict[str, Any]
) -> None:
    fw = scored.fw
    beta_round = world["beta"].rounds.get()
    # A firm of alpha's latest round also submitted in beta's round: it counts once.
    shared = scored.firms[0]
    MembershipFactory(cluster=world["beta"], firm=shared)
    ((row, result),) = submit_many(
        beta_round, fw, [shared], [answers_for(fw, 0.99, __import__("random").Random(1))]
    )
    target = targets.target_set(
        regional_official,
        region=world["province_a"],
        framework=_framework(scored),
        level="L1",
        firms=40,
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    (progress,) = targets.progress_for_region(world["province_a"], "report-test", language="en")
    from assessments.models import Assessment

    beta_firms = {
        a.firm_id: a.level for a in Assessment.objects.submitted().filter(round=beta_round)
    }
    alpha_firms = {fid: r.level for fid, r in scored.results.items()}
    counted = {
        fid
        for fid, level in list(alpha_firms.items()) + list(beta_firms.items())
        if fw.level_rank(level or None) >= fw.level_rank("L1")
    }
    assert progress.target_id == target.pk
    assert progress.current == len(counted)
    assert shared.pk in counted


def test_next_to_count_lists_the_firms_just_below_nearest_first(
    scored: Any, cluster_official: Any
) -> None:
    fw = scored.fw
    target = _set(cluster_official, scored, level="L2")
    found = targets.next_to_count(scored.round, target, language="en")
    rank = fw.level_rank("L2")
    expected = sorted(
        (
            (len(r.next_level.unmet), -r.total, fid)
            for fid, r in scored.results.items()
            if fw.level_rank(r.level) == rank - 1 and r.next_level and r.next_level.code == "L2"
        )
    )
    assert found, "the fixture has firms one level below L2"
    assert [f.firm_id for f in found] == [fid for _u, _t, fid in expected][: targets.NEXT_LIMIT]
    assert all(len(f.lacks) == f.unmet for f in found)


def _dashboard(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_an_official_sets_a_target_on_the_dashboard(scored: Any, cluster_official: Any) -> None:
    client = _dashboard(cluster_official)
    url = reverse("report-target-create", args=["alpha"])
    deadline = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    response = client.post(
        url,
        {"round": scored.round.pk, "level": "L2", "firms": "12", "deadline": deadline},
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.cluster, target.level, target.firms, target.framework_version) == (
        scored.round.cluster,
        "L2",
        12,
        None,
    )
    assert target.created_by == cluster_official
    page = client.get(response["Location"]).content.decode()
    now = _at_or_above(scored.results.values(), scored.fw, "L2")
    assert f"12 firms at Level 2 or above by {deadline}" in page
    assert f'<span class="value">{now}</span> / 12' in page
    assert "The target is set." in page


@pytest.mark.parametrize(
    ("language", "post", "message"),
    [
        ("en", {"firms": "-3"}, "Ensure this value is greater than or equal to 1."),
        ("en", {"deadline": "2000-01-01"}, "The deadline must be after today"),
        ("en", {"industry": "99"}, "99 is not a GB/T 4754 industry code"),
        ("en", {"level": "L7"}, "Select a valid choice."),
        ("zh-hans", {"deadline": "2000-01-01"}, "截止日期"),
    ],
)
def test_a_bad_target_form_says_what_is_wrong_and_stores_nothing(
    scored: Any, cluster_official: Any, language: str, post: dict[str, str], message: str
) -> None:
    client = _dashboard(cluster_official, language)
    data = {
        "round": scored.round.pk,
        "level": "L2",
        "firms": "12",
        "deadline": (timezone.localdate() + dt.timedelta(days=40)).isoformat(),
        **post,
    }
    response = client.post(reverse("report-target-create", args=["alpha"]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Target.objects.exists()


def test_an_official_removes_a_target(scored: Any, cluster_official: Any) -> None:
    target = _set(cluster_official, scored)
    client = _dashboard(cluster_official)
    url = reverse("report-target-remove", args=["alpha", target.pk])
    assert client.post(url, {"round": scored.round.pk}).status_code == 302
    assert not Target.objects.exists()


def test_the_pdf_partial_shows_the_progress(scored: Any, cluster_official: Any) -> None:
    from django.template.loader import render_to_string

    _set(cluster_official, scored, level="L2", firms=15)
    with translation.override("en"):
        progress = targets.progress_for_cluster(scored.round.cluster, "report-test", language="en")
        html = render_to_string("reports/pdf/_targets.html", {"targets": progress})
    now = _at_or_above(scored.results.values(), scored.fw, "L2")
    assert "15 firms at Level 2 or above by" in html
    assert f'<td class="num">{now}</td>' in html


def test_extra_firms_do_not_change_the_number_of_queries_of_the_progress(
    scored: Any, cluster_official: Any, django_assert_max_num_queries: Any
) -> None:
    import random

    _set(cluster_official, scored)
    rng = random.Random(5)
    firms = [FirmFactory() for _ in range(10)]
    for firm in firms:
        MembershipFactory(cluster=scored.round.cluster, firm=firm)
    submit_many(scored.round, scored.fw, firms, [answers_for(scored.fw, 0.7, rng) for _ in firms])
    with django_assert_max_num_queries(4):
        targets.progress_for_cluster(scored.round.cluster, _framework(scored))


def _set_for_region(user: Any, scored: Any, world: dict[str, Any]) -> Target:
    """40 firms at level 1 or above in province A, within 30 days."""
    deadline = timezone.localdate() + dt.timedelta(days=30)
    return _set(
        user,
        scored,
        cluster=None,
        region=world["province_a"],
        level="L1",
        firms=40,
        deadline=deadline,
    )


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_the_cluster_pdf_shows_progress_and_the_officials_edition_who_counts_next(
    scored: Any, cluster_official: Any
) -> None:
    from reports import rendering

    target = _set(cluster_official, scored, level="L2", firms=15)
    now = _at_or_above(scored.results.values(), scored.fw, "L2")
    upcoming = targets.next_to_count(scored.round, target, language="en")
    assert upcoming, "the fixture has firms one level below L2"

    officials = rendering.render_cluster(scored.round, language="en", with_xlsx=False)
    text = " ".join(_pdf_text(officials.pdf).split())
    assert "15 firms at Level 2 or above by" in text
    assert "Would count next for Level 2 or above" in text
    assert upcoming[0].name in text
    assert f"{now} 15" in text  # now, goal

    shared = rendering.render_cluster(scored.round, language="en", shareable=True, with_xlsx=False)
    text = " ".join(_pdf_text(shared.pdf).split())
    assert "15 firms at Level 2 or above by" in text
    assert "Would count next" not in text
    assert not [f.name for f in upcoming if f.name in text]


def test_the_regional_pdf_and_page_show_the_regions_targets(
    scored: Any, regional_official: Any, world: dict[str, Any]
) -> None:
    from reports import rendering

    _set_for_region(regional_official, scored, world)
    (progress,) = targets.progress_for_region(world["province_a"], "report-test", language="en")
    out = rendering.render_region(
        world["province_a"], language="en", framework=_framework(scored), with_xlsx=False
    )
    assert "40 firms at Level 1 or above by" in out.html
    assert f'<td class="num">{progress.current}</td>' in out.html
    page = _dashboard(regional_official).get(
        reverse("report-region", kwargs={"region_id": world["province_a"].pk})
    )
    html = page.content.decode()
    assert "40 firms at Level 1 or above by" in html
    assert f'<span class="value">{progress.current}</span> / 40' in html


def test_a_report_is_stale_once_a_target_is_set_or_removed(
    scored: Any, cluster_official: Any, regional_official: Any, world: dict[str, Any]
) -> None:
    from reports.models import ReportJob
    from reports.services import report_fingerprint

    def cluster_fp(**kw: Any) -> str:
        return report_fingerprint(
            ReportJob.Kind.CLUSTER, round_=scored.round, language="en", shareable=True, **kw
        )

    def region_fp() -> str:
        return report_fingerprint(
            ReportJob.Kind.REGION,
            region=world["province_a"],
            framework=_framework(scored),
            language="en",
            shareable=False,
        )

    before, region_before, dashboard_key = cluster_fp(), region_fp(), cluster_fp(with_targets=False)
    target = _set(cluster_official, scored)
    assert cluster_fp() != before
    assert region_fp() == region_before  # a cluster's target is not in the regional report
    assert cluster_fp(with_targets=False) == dashboard_key
    targets.target_delete(cluster_official, target)
    assert cluster_fp() == before
    _set_for_region(regional_official, scored, world)
    assert region_fp() != region_before


def _region_url(name: str, world: dict[str, Any], *args: Any) -> str:
    return reverse(name, args=[world["province_a"].pk, *args])


def test_a_regional_official_sets_and_removes_a_target_on_the_regional_page(
    scored: Any, regional_official: Any, world: dict[str, Any]
) -> None:
    client = _dashboard(regional_official)
    deadline = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    response = client.post(
        _region_url("report-region-target-create", world),
        {
            "framework": "report-test",
            "sort": "-basic",
            "level": "L2",
            "firms": "30",
            "deadline": deadline,
        },
    )
    assert response.status_code == 302
    assert "framework=report-test" in response["Location"]
    assert "sort=-basic" in response["Location"]
    target = Target.objects.get()
    assert (target.region, target.cluster, target.level, target.firms) == (
        world["province_a"],
        None,
        "L2",
        30,
    )
    page = client.get(response["Location"]).content.decode()
    assert f"30 firms at Level 2 or above by {deadline}" in page
    assert "The target is set." in page
    remove = client.post(
        _region_url("report-region-target-remove", world, target.pk), {"framework": "report-test"}
    )
    assert remove.status_code == 302
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("language", "post", "message"),
    [
        ("en", {"firms": "0"}, "Ensure this value is greater than or equal to 1."),
        ("en", {"deadline": "2000-01-01"}, "The deadline must be after today"),
        ("en", {"industry": "Q9"}, "Q9 is not a GB/T 4754 industry code"),
        ("zh-hans", {"deadline": "2000-01-01"}, "截止日期"),
    ],
)
def test_a_bad_regional_target_says_what_is_wrong_and_stores_nothing(
    scored: Any,
    regional_official: Any,
    world: dict[str, Any],
    language: str,
    post: dict[str, str],
    message: str,
) -> None:
    data = {
        "framework": "report-test",
        "level": "L2",
        "firms": "12",
        "deadline": (timezone.localdate() + dt.timedelta(days=40)).isoformat(),
        **post,
    }
    response = _dashboard(regional_official, language).post(
        _region_url("report-region-target-create", world), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("who", "framework"),
    [
        ("regional_official", "no-such"),  # a framework with no round in the region
        ("cluster_official", "report-test"),  # the region is outside the official's scope
    ],
)
def test_a_regional_target_out_of_reach_is_404_and_stores_nothing(
    scored: Any, world: dict[str, Any], request: pytest.FixtureRequest, who: str, framework: str
) -> None:
    response = _dashboard(request.getfixturevalue(who)).post(
        _region_url("report-region-target-create", world),
        {"framework": framework, "level": "L2", "firms": "12", "deadline": "2031-01-01"},
    )
    assert response.status_code == 404
    assert not Target.objects.exists()
