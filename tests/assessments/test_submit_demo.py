"""Demo assessments: realistic, stored exactly like real submissions, and seeded once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessments import scoring
from assessments.demo import seed_assessments
from assessments.models import Assessment, DimensionScore, Invitation, QuestionAttainment, Round
from assessments.services import assessment_answers
from assessments.versions import framework_for
from clusters.demo import seed_register


@pytest.fixture
def seeded(db):
    register = seed_register(clusters=2, firms=60, seed=3)
    summary = seed_assessments(clusters=register.clusters, seed=3, created=register.created)
    return register, summary


def test_two_rounds_per_cluster_with_invitations_for_every_firm(seeded):
    register, summary = seeded
    assert summary.rounds == Round.objects.count() == 4
    for round_ in Round.objects.all():
        firms = round_.cluster.firms.count()
        assert Invitation.objects.filter(round=round_).count() == firms


def test_submitted_results_are_the_scores_of_their_stored_answers(seeded):
    _register, summary = seeded
    submitted = list(Assessment.objects.submitted().select_related("framework_version"))
    assert len(submitted) == summary.submitted > 20
    for assessment in submitted[:25]:
        fw = framework_for(assessment.framework_version)
        expected = scoring.score(fw, assessment_answers(assessment))
        assert assessment.result == expected.snapshot()
        assert assessment.total == Decimal(str(expected.total)).quantize(Decimal("0.01"))
        assert DimensionScore.objects.filter(assessment=assessment).count() == len(fw.dimensions)
        assert QuestionAttainment.objects.filter(assessment=assessment).count() == len(
            expected.attainment
        )
        assert not scoring.missing_required(fw, assessment_answers(assessment))


def test_scores_spread_out_over_levels(seeded):
    levels = set(Assessment.objects.submitted().values_list("level", flat=True))
    totals = sorted(Assessment.objects.submitted().values_list("total", flat=True))
    assert len(levels) >= 3
    assert totals[-1] - totals[0] > 25


def test_a_few_drafts_and_the_demo_firm_has_one_to_continue(seeded):
    _register, summary = seeded
    assert summary.drafts == Assessment.objects.drafts().count() >= 1
    demo = Assessment.objects.filter(firm__members__user__username="demo_firm")
    assert demo.drafts().count() == 1 and demo.submitted().count() == 1
    draft = demo.drafts().get()
    assert draft.round.is_open_at(draft.round.opens_at) and draft.answers.exists()


def test_seeding_again_adds_nothing(seeded):
    register, _summary = seeded
    before = Assessment.objects.count()
    again = seed_assessments(clusters=register.clusters, seed=3, created=True)
    assert again.rounds == 0 and Assessment.objects.count() == before
