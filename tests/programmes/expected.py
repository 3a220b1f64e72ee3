"""Expected programme figures computed by plain Python from the stored rows (levels,
verifications, stage changes, ratings read back from the database), never by figures.py."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from programmes.models import ProviderRating, RetrofitProject, StageChange, Verification

ACCEPTED = RetrofitProject.Stage.ACCEPTED


def _self_rank(assessment: Assessment | None) -> int | None:
    if assessment is None:
        return None
    return -1 if assessment.level_rank is None else assessment.level_rank


def _verified_rank(assessment: Assessment | None) -> int | None:
    if assessment is None:
        return None
    v = Verification.objects.filter(assessment=assessment, status="completed").first()
    if v is None:
        return None
    return -1 if v.level_rank is None else v.level_rank


def _best(assessment: Assessment | None) -> int | None:
    verified = _verified_rank(assessment)
    return verified if verified is not None else _self_rank(assessment)


def _stored(built: Any) -> list[dict[str, Any]]:
    out = []
    for p in RetrofitProject.objects.filter(programme=built.programme).select_related(
        "baseline", "acceptance"
    ):
        changes = list(StageChange.objects.filter(project=p).order_by("changed_at", "pk"))
        contract = next((c.changed_at for c in changes if c.to_stage == "contracted"), None)
        start = contract or changes[0].changed_at
        accepted = next((c.changed_at for c in changes if c.to_stage == ACCEPTED), None)
        rating = ProviderRating.objects.filter(project=p).first()
        out.append(
            {
                "project": p,
                "stage": p.stage,
                "provider": p.provider_id,
                "before": _best(p.baseline),
                "after": _best(p.acceptance),
                "before_self": _self_rank(p.baseline),
                "after_self": _self_rank(p.acceptance),
                "before_verified": _verified_rank(p.baseline) is not None,
                "after_verified": _verified_rank(p.acceptance) is not None,
                "days": (accepted - start).days if accepted else None,
                "rating": rating.score if rating else None,
                "targeted": list(p.targeted_questions),
            }
        )
    return out


def _compared(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        s
        for s in stored
        if s["stage"] == ACCEPTED and s["before"] is not None and s["after"] is not None
    ]
