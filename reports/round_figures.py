"""The per-round figures of the regional comparison, stored and reused while a round is unchanged.

A province compares hundreds of clusters, each on its latest round. Their figures (how many
submitted, basic and advanced; invitations; each dimension's mean; the level counts; the
homogeneity) come from GROUP BY queries over every submitted assessment of those rounds: at a
million firms that is tens of seconds. Only the rounds that changed need them again, so each
round's figures are kept in `RoundFigures` with the state they were computed from:

- the state of a round is what its figures depend on: the count, last id, last submission and
  last change of its submitted assessments, and the count and last id of its invitations
  (two GROUP BY queries for all rounds at once; the first is an index-only scan of
  `assessment_round_fingerprint`);
- a stored row whose state is the round's current one is used as it is; the others are
  computed in one batch and written back.

The state is read before the figures are computed: a submission arriving in between is either
in the figures or makes the state stale on the next view, never lost.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Max
from django.utils import timezone

from assessments.models import DimensionScore, Invitation, Round
from assessments.versions import framework_for
from reports.aggregates import (
    NO_BAND_COUNTS,
    BandCounts,
    band_counts,
    homogeneity_by_group,
    submitted_in,
)
from reports.models import RoundFigures

# Bump when what a row holds, or how it is computed, changes: every stored row is then stale.
FIGURES_VERSION = 1


@dataclass(frozen=True)
class Figures:
    """One round's figures for the regional comparison (raw: suppression is the caller's)."""

    heads: BandCounts
    invited: int
    # {dimension code: (firms with a score, mean score)}
    means: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    # {level code: firms at that level}
    levels: dict[str, int] = field(default_factory=dict)
    homogeneity: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "heads": [self.heads.n, self.heads.basic, self.heads.advanced],
            "invited": self.invited,
            "means": {code: [n, m] for code, (n, m) in self.means.items()},
            "levels": self.levels,
            "homogeneity": self.homogeneity,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Figures:
        heads = data["heads"]
        means = data["means"]
        assert isinstance(heads, list) and isinstance(means, dict)
        levels = data["levels"]
        assert isinstance(levels, dict)
        homogeneity = data["homogeneity"]
        invited = data["invited"]
        assert isinstance(invited, int)
        return cls(
            heads=BandCounts(*heads),
            invited=invited,
            means={code: (nm[0], nm[1]) for code, nm in means.items()},
            levels={str(k): int(v) for k, v in levels.items()},
            homogeneity=float(homogeneity) if homogeneity is not None else None,  # type: ignore[arg-type]
        )


def round_states(round_ids: Iterable[int]) -> dict[int, str]:
    """{round id: a digest of what its figures depend on}, in two queries."""
    ids = sorted(set(round_ids))
    submitted = {
        row["round_id"]: row
        for row in submitted_in(ids)
        .values("round_id")
        .annotate(n=Count("id"), last=Max("id"), sub=Max("submitted_at"), upd=Max("updated_at"))
        .order_by()
    }
    invited = {
        row["round_id"]: (row["c"], row["last"])
        for row in Invitation.objects.filter(round_id__in=ids)
        .values("round_id")
        .annotate(c=Count("id"), last=Max("id"))
        .order_by()
    }
    out = {}
    for pk in ids:
        row: dict[str, Any] = dict(submitted.get(pk) or {})
        raw = json.dumps(
            [
                FIGURES_VERSION,
                pk,
                row.get("n", 0),
                row.get("last"),
                str(row.get("sub")),
                str(row.get("upd")),
                invited.get(pk, (0, None)),
            ]
        )
        out[pk] = hashlib.sha256(raw.encode()).hexdigest()
    return out


def compute(rounds: list[Round]) -> dict[int, Figures]:
    """The figures of these rounds from the database, in a fixed number of queries (one
    homogeneity query per framework version among them)."""
    ids = [r.pk for r in rounds]
    if not ids:
        return {}
    subs = submitted_in(ids)
    heads = band_counts(ids)
    invited = dict(
        Invitation.objects.filter(round_id__in=ids)
        .values("round_id")
        .annotate(c=Count("id"))
        .order_by()
        .values_list("round_id", "c")
    )
    means: dict[int, dict[str, tuple[int, float | None]]] = defaultdict(dict)
    for row in (
        DimensionScore.objects.filter(assessment__in=subs, score__isnull=False)
        .values("assessment__round_id", "dimension_code")
        .annotate(n=Count("id"), m=Avg("score"))
        .order_by()
    ):
        m = row["m"]
        means[row["assessment__round_id"]][row["dimension_code"]] = (
            row["n"],
            float(m) if m is not None else None,
        )
    levels: dict[int, dict[str, int]] = defaultdict(dict)
    for counted in subs.values("round_id", "level").annotate(c=Count("id")).order_by():
        levels[counted["round_id"]][counted["level"]] = counted["c"]
    by_version: dict[int, list[Round]] = defaultdict(list)
    for r in rounds:
        by_version[r.framework_version_id].append(r)
    homogeneity: dict[int, float] = {}
    for members in by_version.values():
        fw = framework_for(members[0].framework_version)
        homogeneity.update(
            homogeneity_by_group(
                DimensionScore.objects.filter(assessment__in=submitted_in(r.pk for r in members)),
                "assessment__round_id",
                fw,
            )
        )
    return {
        pk: Figures(
            heads=heads.get(pk, NO_BAND_COUNTS),
            invited=invited.get(pk, 0),
            means=means.get(pk, {}),
            levels=levels.get(pk, {}),
            homogeneity=homogeneity.get(pk),
        )
        for pk in ids
    }


def figures_for(rounds: Iterable[Round]) -> dict[int, Figures]:
    """{round id: its Figures}: the stored ones while their round is unchanged, the others
    computed in one batch and stored. Pass rounds with `framework_version` loaded."""
    return _figures(rounds)[0]


def _figures(rounds: Iterable[Round]) -> tuple[dict[int, Figures], int]:
    """`figures_for`, and how many rounds it computed."""
    by_id = {r.pk: r for r in rounds}
    if not by_id:
        return {}, 0
    states = round_states(by_id)
    out: dict[int, Figures] = {}
    for row in RoundFigures.objects.filter(round_id__in=list(by_id)):
        if row.state == states.get(row.round_id):
            out[row.round_id] = Figures.from_json(row.data)
    stale = [r for pk, r in by_id.items() if pk not in out]
    if not stale:
        return out, 0
    computed = compute(stale)
    now = timezone.now()
    RoundFigures.objects.bulk_create(
        [
            RoundFigures(round_id=pk, state=states[pk], data=figures.to_json(), computed_at=now)
            for pk, figures in computed.items()
        ],
        update_conflicts=True,
        unique_fields=["round"],
        update_fields=["state", "data", "computed_at"],
    )
    out.update(computed)
    return out, len(computed)


def refresh(round_ids: Iterable[int]) -> int:
    """Bring the stored figures of these rounds up to date (after a submission, or after
    seeding); returns how many rounds were computed."""
    rounds = (
        Round.objects.filter(pk__in=list(round_ids))
        .select_related("framework_version")
        .defer("framework_version__definition")
    )
    return _figures(rounds)[1]
