"""The demo's COPY path (assessments/bulk_load.py) writes what the ORM path writes.

Same seed, same firms, memberships, rounds, invitations and assessments (who answered what,
submitted or draft); the answers come from pre-scored profiles, so each submitted assessment's
stored result must equal a fresh scoring of its stored answers, with its dimension and
attainment rows; every index and constraint is back after the load.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from assessments import bulk_load, scoring
from assessments.demo import seed_assessments
from assessments.models import (
    Answer,
    Assessment,
    DimensionScore,
    Invitation,
    QuestionAttainment,
    Round,
)
from assessments.services import _result_fields, _result_rows, assessment_answers
from assessments.versions import framework_for
from clusters.demo import seed_register
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, OfficialScope, Region

MODELS = (
    Firm,
    ClusterMembership,
    Invitation,
    Assessment,
    Answer,
    DimensionScore,
    QuestionAttainment,
)


def _seed(fast: bool, *, firms: int = 300, seed: int = 5) -> None:
    register = seed_register(clusters=4, firms=firms, seed=seed, fast=fast)
    seed_assessments(clusters=register.clusters, seed=seed, created=register.created, fast=fast)


def _snapshot() -> dict[str, object]:
    return {
        "firms": list(
            Firm.objects.order_by("uscc").values_list(
                "uscc",
                "name",
                "region__code",
                "industry_division",
                "employees",
                "revenue_10k_cny",
                "size_class",
                "contact_email",
                "industry_group",
            )
        ),
        "memberships": list(
            ClusterMembership.objects.order_by("cluster__slug", "firm__uscc").values_list(
                "cluster__slug", "firm__uscc", "start_date"
            )
        ),
        "rounds": list(
            Round.objects.order_by("cluster__slug", "opens_at").values_list(
                "cluster__slug", "name", "framework_version__version"
            )
        ),
        "invitations": sorted(
            Invitation.objects.values_list("round__cluster__slug", "round__name", "firm__uscc")
        ),
        "assessments": sorted(
            Assessment.objects.values_list(
                "round__cluster__slug", "round__name", "firm__uscc", "status"
            )
        ),
        "demo firm": list(
            FirmMember.objects.filter(user__username="demo_firm").values_list("firm__uscc")
        ),
    }


def _wipe() -> None:
    for model in (Answer, DimensionScore, QuestionAttainment, Assessment, Invitation, Round):
        model.objects.all().delete()
    FirmMember.objects.all().delete()
    OfficialScope.objects.all().delete()
    ClusterMembership.objects.all().delete()
    Firm.objects.all().delete()
    Cluster.objects.all().delete()
    for region in sorted(Region.objects.all(), key=lambda r: -len(r.path)):
        region.delete()
    get_user_model().objects.filter(username__startswith="demo_").delete()


def _check_stored_results(sample: int = 60) -> None:
    """A sample of submitted assessments: stored fields and rows equal a fresh scoring."""
    submitted = list(Assessment.objects.submitted().select_related("framework_version"))
    assert len(submitted) > 100
    for assessment in random.Random(1).sample(submitted, sample):
        fw = framework_for(assessment.framework_version)
        answers = assessment_answers(assessment)
        assert not scoring.missing_required(fw, answers)
        fresh = scoring.score(fw, answers)
        expected = _result_fields(fw, fresh)
        for name, value in expected.items():
            assert getattr(assessment, name) == value, name
        dims, atts = _result_rows(assessment, fw, fresh)
        assert sorted(
            DimensionScore.objects.filter(assessment=assessment).values_list(
                "dimension_code", "score"
            )
        ) == sorted((d.dimension_code, d.score) for d in dims)
        assert sorted(
            QuestionAttainment.objects.filter(assessment=assessment).values_list(
                "question_code", "dimension_code", "attainment", "earned", "points"
            )
        ) == sorted(
            (a.question_code, a.dimension_code, a.attainment, a.earned, a.points) for a in atts
        )
        assert assessment.submitted_at is not None
        assert assessment.round.opens_at <= assessment.submitted_at <= assessment.round.closes_at
    drafts = Assessment.objects.drafts()
    assert drafts.exists() and not drafts.filter(result__isnull=False).exists()
    assert not DimensionScore.objects.filter(assessment__in=drafts).exists()
    assert Answer.objects.filter(assessment__in=drafts).exists()


def test_a_table_refuses_to_leave_out_a_column_with_no_default(db):
    with pytest.raises(ValueError, match="assessment_id"):
        bulk_load.Table(Answer, ["question_code", "value"], now=dt.datetime.now(dt.UTC))
    table = bulk_load.Table(
        Answer,
        ["assessment_id", "question_code", "value"],
        now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    # Every other column gets its default: revision 1, updated_at the load's time, no user.
    assert table.columns[:3] == ["assessment_id", "question_code", "value"]
    assert set(table.columns) == {f.column for f in Answer._meta.concrete_fields} - {"id"}
    assert table.line("7", "Q1", bulk_load.json_text(["a\\b"])) == (
        '7\tQ1\t["a\\\\\\\\b"]\t1\t2026-01-01T00:00:00+00:00\t\\N\n'
    )


def test_the_fast_path_is_for_postgresql_only(db, settings):
    if connection.vendor == "postgresql":
        assert bulk_load.use_fast_path(bulk_load.FAST_PATH_MIN_FIRMS)
        assert not bulk_load.use_fast_path(300)
        assert bulk_load.use_fast_path(300, fast=True)
    else:
        assert not bulk_load.use_fast_path(10**6, fast=True)


@pytest.mark.postgres
def test_fast_path_writes_what_the_orm_path_writes(db):
    indexes = bulk_load.index_names(*MODELS)
    _seed(fast=False)
    slow = _snapshot()
    slow_counts = {m.__name__: m.objects.count() for m in MODELS}
    _wipe()
    _seed(fast=True)
    fast = _snapshot()
    assert fast == slow
    for name in ("Firm", "ClusterMembership", "Invitation", "Assessment", "DimensionScore"):
        assert MODELS_BY_NAME[name].objects.count() == slow_counts[name], name
    # Answers and attainments come from profiles: as many as the assessments' answers give.
    assert abs(Answer.objects.count() - slow_counts["Answer"]) < 0.1 * slow_counts["Answer"]
    _check_stored_results()
    assert bulk_load.index_names(*MODELS) == indexes
    submitted = Assessment.objects.submitted().first()
    assert submitted is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(
            assessment=submitted,
            question_code=submitted.answers.first().question_code,
            value=None,
        )


MODELS_BY_NAME = {m.__name__: m for m in MODELS}


@pytest.mark.postgres
def test_side_by_side_load_outside_a_transaction_restores_everything(transactional_db):
    indexes = bulk_load.index_names(*MODELS)
    assert not connection.in_atomic_block
    _seed(fast=True, firms=400, seed=9)
    assert bulk_load.index_names(*MODELS) == indexes
    assert Firm.objects.count() == 400
    per_round = {
        r.pk: r.cluster.memberships.count() for r in Round.objects.select_related("cluster")
    }
    for round_id, firms in per_round.items():
        assert Invitation.objects.filter(round_id=round_id).count() == firms
    _check_stored_results(sample=40)
    # The sequences moved past the reserved ids: the next rows get fresh ones.
    firm = Firm.objects.create(uscc="TESTUSCC0000000001", name="x")
    assert firm.pk > Firm.objects.exclude(pk=firm.pk).order_by("-pk").first().pk
