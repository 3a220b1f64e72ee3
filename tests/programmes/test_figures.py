"""The programme's figures (programmes/figures.py) against values computed here, by plain
Python over the rows the builder stored: levels, verifications, stage changes and ratings are
read back from the database and the expected figures derived without calling figures.py."""

from __future__ import annotations

import statistics as pystats
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from assessments.models import Assessment, QuestionAttainment
from programmes import figures
from programmes.models import RetrofitProject, Verification
from reports.programme import programme_report
from tests.programmes.builders import Plan, build_programme, standard_plans
from tests.programmes.expected import _compared, _self_rank, _stored, _verified_rank

pytestmark = pytest.mark.django_db
ACCEPTED = RetrofitProject.Stage.ACCEPTED


@pytest.fixture
def built() -> Any:
    return build_programme(standard_plans())


# --- Tests ------------------------------------------------------------------------------------


def test_the_built_programme_has_what_the_figures_need(built: Any) -> None:
    """The fixture itself: verified acceptances that agree and that the assessor lowered."""
    stored = _stored(built)
    compared = _compared(stored)
    assert len(compared) == 8
    lowered = [s for s in compared if s["after_verified"] and s["after"] < s["after_self"]]
    agreed = [s for s in compared if s["after_verified"] and s["after"] == s["after_self"]]
    assert lowered and agreed
    assert any(s["before_verified"] for s in compared)


def test_firms_by_stage_count_every_stage(built: Any) -> None:
    stored = _stored(built)
    expected = Counter(s["stage"] for s in stored)
    got = figures.stage_counts(figures.project_rows(built.programme))
    assert [c.stage for c in got] == list(RetrofitProject.Stage.values)
    assert {c.stage: c.count for c in got} == {
        stage: expected.get(stage, 0) for stage in RetrofitProject.Stage.values
    }


def test_transition_matrix_uses_verified_levels_where_completed(built: Any) -> None:
    stored = _stored(built)
    compared = _compared(stored)
    ranks = [-1, *range(len(built.fw.levels))]
    best = figures.transition(figures.project_rows(built.programme), ranks)
    self_only = figures.transition(figures.project_rows(built.programme), ranks, basis="self")
    for b in ranks:
        for a in ranks:
            assert best.count(b, a) == sum(
                1 for s in compared if (s["before"], s["after"]) == (b, a)
            ), (b, a)
            assert self_only.count(b, a) == sum(
                1 for s in compared if (s["before_self"], s["after_self"]) == (b, a)
            ), (b, a)
    assert best.n == self_only.n == len(compared)
    assert best.up == sum(1 for s in compared if s["after"] > s["before"])
    assert best.down == sum(1 for s in compared if s["after"] < s["before"])
    both = [s for s in compared if s["before_verified"] and s["after_verified"]]
    neither = [s for s in compared if not s["before_verified"] and not s["after_verified"]]
    assert best.verified == len(both) and best.self_reported == len(neither)
    # The verifications lowered some levels: the two matrices differ.
    assert best.cells != self_only.cells


def test_target_share_and_progress(built: Any) -> None:
    stored = _stored(built)
    compared = _compared(stored)
    target_rank = built.fw.level_rank(built.programme.target_level)
    reached = sum(1 for s in compared if s["after"] >= target_rank)
    got = figures.target_figures(
        figures.project_rows(built.programme),
        target_rank=target_rank,
        target_firms=built.programme.target_firms,
        target_date=built.programme.target_date,
        today=built.programme.target_date,
    )
    assert got.reached.value == reached
    assert got.share.value == round(100.0 * reached / len(compared), 1)
    assert got.baseline_reached.value == sum(1 for s in compared if s["before"] >= target_rank)
    assert got.progress == round(100.0 * reached / built.programme.target_firms, 1)
    assert got.remaining == built.programme.target_firms - reached
    assert got.days_left == 0


def test_questions_moved_compare_attainment_verified_where_available(built: Any) -> None:
    stored = _stored(built)
    compared = _compared(stored)

    def attainment(assessment: Assessment) -> dict[str, Decimal]:
        v = Verification.objects.filter(assessment=assessment, status="completed").first()
        if v is not None:
            return {c: Decimal(str(x)) for c, x in v.result["attainment"].items()}
        return {
            a.question_code: a.attainment
            for a in QuestionAttainment.objects.filter(assessment=assessment)
        }

    codes = [q.code for q in built.fw.questions if q.type != "text"]
    expected = {}
    for code in codes:
        t_n = t_rose = a_n = a_rose = 0
        for s in compared:
            before = attainment(s["project"].baseline)
            after = attainment(s["project"].acceptance)
            if code not in before or code not in after:
                continue
            rose = after[code] > before[code]
            a_n += 1
            a_rose += rose
            if code in s["targeted"]:
                t_n += 1
                t_rose += rose
        expected[code] = (t_n, t_rose, a_n, a_rose)
    rows = figures.project_rows(built.programme)
    ids = [i for r in rows if r.compared for i in (r.baseline_id, r.acceptance_id)]
    got = figures.question_moves(rows, figures.attainment_of(ids), codes)
    assert {m.code: (m.targeted_n, m.targeted_rose, m.all_n, m.all_rose) for m in got} == expected
    assert any(m.all_rose for m in got) and any(m.targeted_n for m in got)


def test_provider_scorecards(built: Any) -> None:
    stored = _stored(built)
    cards = {c.provider_id: c for c in figures.scorecards(figures.project_rows(built.programme))}
    assert set(cards) == {p.pk for p in built.providers}
    for provider in built.providers:
        mine = [s for s in stored if s["provider"] == provider.pk]
        accepted = [s for s in mine if s["stage"] == ACCEPTED]
        days = [s["days"] for s in accepted if s["days"] is not None]
        gains = [s["after"] - s["before"] for s in _compared(mine)]
        ratings = [s["rating"] for s in mine if s["rating"] is not None]
        card = cards[provider.pk]
        assert card.projects == len(mine)
        assert card.accepted.value == len(accepted)
        assert card.accepted_share.value == round(100.0 * len(accepted) / len(mine), 1)
        assert card.days_median.value == float(pystats.median(days))
        assert card.days_median.n == len(days)
        assert card.days_mean.value == round(sum(days) / len(days), 1)
        assert card.gain_mean.value == round(sum(gains) / len(gains), 2)
        assert card.gain_mean.n == len(gains)
        assert card.rating_mean.value == round(sum(ratings) / len(ratings), 2)
        assert card.rating_mean.n == len(ratings)
        assert card.small == (len(mine) < 5)
    # Provider 0 has eight projects, provider 1 four: the second is flagged.
    assert not cards[built.providers[0].pk].small
    assert cards[built.providers[1].pk].small


def test_shareable_scorecards_suppress_figures_from_fewer_than_five_projects(built: Any) -> None:
    cards = {
        c.provider_id: c
        for c in figures.scorecards(figures.project_rows(built.programme), shareable=True)
    }
    small = cards[built.providers[1].pk]
    assert small.accepted_share.value is None and small.accepted_share.suppressed
    assert small.days_median.value is None and small.gain_mean.value is None
    assert small.rating_mean.value is None
    assert small.projects == 4  # the sample size itself is always stated
    big = cards[built.providers[0].pk]
    assert big.accepted_share.value is not None and big.days_median.value is not None
    # Five ratings on the big provider: shown; its gains rest on six projects: shown.
    assert big.rating_mean.n == 5 and big.rating_mean.value is not None


def test_programme_verification_agreement(built: Any) -> None:
    stored = _stored(built)
    linked = {}
    for s in stored:
        for a in (s["project"].baseline, s["project"].acceptance):
            if a is not None:
                linked[a.pk] = (_self_rank(a), _verified_rank(a))
    verified = [(s, v) for s, v in linked.values() if v is not None]
    over = [s - v for s, v in verified if s > v]
    ranks = [-1, *range(len(built.fw.levels))]
    got = figures.verification_figures(
        figures.programme_level_pairs(figures.project_rows(built.programme)), ranks
    )
    assert got.submitted == len(linked) and got.verified == len(verified)
    assert got.share_verified.value == round(100.0 * len(verified) / len(linked), 1)
    assert got.exact.value == round(100.0 * sum(s == v for s, v in verified) / len(verified), 1)
    assert got.overstated.value == round(100.0 * len(over) / len(verified), 1)
    assert got.mean_overstatement.value == round(sum(over) / len(over), 2)
    assert got.max_overstatement.value == max(over)
    self_dist = Counter(s for s, _v in verified)
    verified_dist = Counter(v for _s, v in verified)
    assert {d.rank: d.self_reported.value for d in got.distribution} == {
        r: self_dist.get(r, 0) for r in ranks
    }
    assert {d.rank: d.verified.value for d in got.distribution} == {
        r: verified_dist.get(r, 0) for r in ranks
    }


def test_round_verification_counts_the_rounds_submitted_assessments(built: Any) -> None:
    subs = list(Assessment.objects.submitted().filter(round=built.t1_round))
    pairs = [(_self_rank(a), _verified_rank(a)) for a in subs]
    verified = [(s, v) for s, v in pairs if v is not None]
    ranks = [-1, *range(len(built.fw.levels))]
    got = figures.round_verification(built.t1_round.pk, ranks)
    assert got.submitted == len(subs) and got.verified == len(verified)
    assert got.exact.value == round(100.0 * sum(s == v for s, v in verified) / len(verified), 1)
    over = [s - v for s, v in verified if s > v]
    assert got.overstated_count.value == len(over)


def test_no_verification_shows_nothing(built: Any) -> None:
    ranks = [-1, 0, 1, 2]
    got = figures.verification_figures([figures.LevelPair(1, None, 7)], ranks)
    assert not got.any_verified and got.distribution == ()
    assert got.share_verified.value == 0.0 and got.exact.value is None


def test_figure_suppression_follows_the_small_sample_rule() -> None:
    assert figures.figure(3.5, 4).small and figures.figure(3.5, 4).value == 3.5
    shared = figures.figure(3.5, 4, shareable=True)
    assert shared.value is None and shared.suppressed
    assert figures.figure(3.5, 5, shareable=True).value == 3.5
    # A share whose numerator is small is suppressed when shared, as the cluster report does.
    assert figures.figure(20.0, 20, shareable=True, basis=4).value is None


def _plans(n: int) -> list[Plan]:
    base = standard_plans()
    return [base[i % len(base)] for i in range(n)]


def test_query_count_is_constant_in_the_number_of_projects(
    django_assert_max_num_queries: Any,
) -> None:
    from tests.factories import RegionFactory

    small = build_programme(_plans(4), region=RegionFactory(code="350201"))
    large = build_programme(_plans(16), region=RegionFactory(code="350202"), seed=9)
    counts = []
    for b in (small, large):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            programme_report(b.programme, language="zh-hans")
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        programme_report(large.programme, language="en", shareable=True)
