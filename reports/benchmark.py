"""The benchmark: aggregates over every submitted assessment of a framework version, which every
cluster report of that version compares itself with. Computed once and kept in a
`BenchmarkSnapshot` until a submission changes it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import Count, Max

from assessments.models import Assessment, DimensionScore, FrameworkVersion, QuestionAttainment
from assessments.versions import framework_for
from reports.aggregates import homogeneity_by_group, question_stats, spreads
from reports.models import BenchmarkSnapshot

# Bump when the shape or the meaning of the snapshot's data changes.
BENCHMARK_FORMAT = "1"


def benchmark_key(version: FrameworkVersion) -> str:
    """A digest that changes whenever the version's submitted assessments (or the way they are
    aggregated) change: one aggregate query."""
    stats = (
        Assessment.objects.submitted()
        .filter(framework_version=version)
        .aggregate(n=Count("id"), last=Max("id"), sub=Max("submitted_at"), upd=Max("updated_at"))
    )
    raw = json.dumps([BENCHMARK_FORMAT, version.content_hash, stats], default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def benchmark(version: FrameworkVersion) -> dict[str, Any]:
    """Aggregates over every submitted assessment of the version, recomputed only when they
    change: {"spreads": {dim: [n, mean, q1, median, q3]}, "questions": {code: [n, met]},
    "homogeneity": {round id: value}}."""
    key = benchmark_key(version)
    snapshot = BenchmarkSnapshot.objects.filter(framework_version=version).first()
    if snapshot is not None and snapshot.key == key:
        return snapshot.data
    fw = framework_for(version)
    subs = Assessment.objects.submitted().filter(framework_version=version)
    scores = DimensionScore.objects.filter(
        assessment__status=Assessment.Status.SUBMITTED, assessment__framework_version=version
    )
    data = {
        "spreads": {
            code: [sp.n, sp.mean, sp.q1, sp.median, sp.q3] for code, sp in spreads(scores).items()
        },
        "questions": {
            code: list(v)
            for code, v in question_stats(
                QuestionAttainment.objects.filter(assessment__in=subs), fw
            ).items()
        },
        "homogeneity": {
            str(k): v for k, v in homogeneity_by_group(scores, "assessment__round_id", fw).items()
        },
    }
    BenchmarkSnapshot.objects.update_or_create(
        framework_version=version, defaults={"key": key, "data": data}
    )
    return data
