"""Builders for report tests, samples and the benchmark: framework rows, rounds and scored,
submitted assessments stored in exactly the shape the questionnaire's submission writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assessments.demo import answers_for as answers_for  # the one generator, re-exported
from assessments.framework import Framework, load_framework_file
from assessments.models import Assessment, FrameworkVersion, Invitation, Round
from assessments.scoring import Result, score
from assessments.services import results_bulk_store
from clusters.models import Cluster, Firm
from tests.factories import FrameworkVersionFactory, RoundFactory

HERE = Path(__file__).resolve().parent
TEST_FRAMEWORK = HERE / "frameworks" / "report-test.yaml"


def framework_version(path: Path = TEST_FRAMEWORK) -> tuple[FrameworkVersion, Framework]:
    """A published FrameworkVersion row for a framework file, and the parsed framework."""
    return FrameworkVersionFactory(path=path), load_framework_file(path)


def make_round(
    cluster: Cluster, version: FrameworkVersion, *, name: str, opens: dt.datetime
) -> Round:
    """A round of the cluster on the framework version, open for 60 days from `opens`."""
    return RoundFactory(
        cluster=cluster,
        framework_version=version,
        name=name,
        opens_at=opens,
        closes_at=opens + dt.timedelta(days=60),
    )


def invite(round_: Round, firms: Sequence[Firm]) -> None:
    """Invitations of the firms to the round."""
    Invitation.objects.bulk_create(
        [Invitation(round=round_, firm=f, token=f"t{round_.pk}-{f.pk}") for f in firms],
        ignore_conflicts=True,
    )


def submit_many(
    round_: Round,
    fw: Framework,
    firms: Sequence[Firm],
    answers: Sequence[dict[str, Any]],
    *,
    with_invitations: bool = True,
    submitted_at: dt.datetime | None = None,
) -> list[tuple[Assessment, Result]]:
    """Score the answers with the real scorer and store them as submitted assessments."""
    when = submitted_at or round_.opens_at + dt.timedelta(days=3)
    if with_invitations:
        invite(round_, firms)
    rows = Assessment.objects.bulk_create(
        [
            Assessment(
                round=round_,
                firm=f,
                framework_version=round_.framework_version,
                status=Assessment.Status.SUBMITTED,
                submitted_at=when,
            )
            for f in firms
        ]
    )
    if rows and rows[0].pk is None:  # backends without RETURNING: fetch the ids
        by_firm = dict(Assessment.objects.filter(round=round_).values_list("firm_id", "pk"))
        for row in rows:
            row.pk = row.id = by_firm[row.firm_id]
    results = [score(fw, a) for a in answers]
    results_bulk_store([(row, fw, result) for row, result in zip(rows, results, strict=True)])
    return list(zip(rows, results, strict=True))
