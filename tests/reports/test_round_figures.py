"""The regional comparison's per-round figures, stored while a round is unchanged
(reports/round_figures.py): the same figures as a fresh computation, recomputed for exactly the
rounds that changed, never used once stale."""

from __future__ import annotations

import statistics as pystats
from dataclasses import replace
from typing import Any

import pytest

from assessments.models import DimensionScore
from reports import context, round_figures
from reports.models import RoundFigures
from tests.reports import test_comparisons
from tests.reports.builders import framework_version, invite
from tests.reports.test_comparisons import _firms, _row, _submit

pytestmark = pytest.mark.django_db

# The province of tests/reports/test_comparisons.py: two clusters, a previous round, a pilot.
region = test_comparisons.region


def _computed(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record the round ids of each batch computed from the database."""
    calls: list[list[int]] = []
    original = round_figures.compute

    def recording(rounds: list[Any]) -> dict[int, round_figures.Figures]:
        calls.append(sorted(r.pk for r in rounds))
        return original(rounds)

    monkeypatch.setattr(round_figures, "compute", recording)
    return calls


def _report(region: dict[str, Any]) -> context.RegionReport:
    return context.region_report(region["province"], language="en", framework=region["framework"])


def test_stored_figures_are_those_of_a_fresh_computation(region: dict[str, Any]) -> None:
    first = _report(region)
    big, earlier, small = region["big"], region["earlier"], region["small"]
    stored = set(RoundFigures.objects.values_list("round_id", flat=True))
    # The compared rounds and the previous round the change is measured against.
    assert stored == {big.pk, earlier.pk, small.pk}
    again = _report(region)
    assert replace(again, generated_at=first.generated_at) == first
    # The stored figures, read back, equal a computation straight from the database.
    for pk, figures in round_figures.figures_for([big, earlier, small]).items():
        assert (
            figures == round_figures.compute([r for r in (big, earlier, small) if r.pk == pk])[pk]
        )
    # And the row shows what the stored assessments say, counted here without the module.
    alpha = _row(again, "alpha")
    assert (alpha.assessed, alpha.invited) == (98, 110)
    for (code, _title), shown in zip(
        again.groups[0].dimensions, alpha.dimension_means, strict=True
    ):
        scores = DimensionScore.objects.filter(
            assessment__round=big, assessment__status="submitted", dimension_code=code
        ).values_list("score", flat=True)
        values = [float(s) for s in scores if s is not None]
        assert shown == (round(pystats.fmean(values), 1) if values else None)


def test_only_the_rounds_that_changed_are_computed_again(
    region: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(region)
    calls = _computed(monkeypatch)
    _report(region)
    assert calls == []  # nothing changed: every round's figures are read back
    small = region["small"]
    _submit(small, framework_version()[1], _firms(small.cluster, 1, "新乙"), 12)
    report = _report(region)
    assert calls == [[small.pk]]
    assert _row(report, "beta").assessed == 7
    # An invitation alone changes the round's state too (its response rate).
    invite(region["big"], _firms(region["big"].cluster, 1, "再邀"))
    report = _report(region)
    assert calls[-1] == [region["big"].pk]
    assert _row(report, "alpha").invited == 111


def test_a_row_is_used_only_with_the_state_it_was_computed_from(region: dict[str, Any]) -> None:
    _report(region)
    big = region["big"]
    row = RoundFigures.objects.get(round_id=big.pk)
    row.data = {**row.data, "heads": [1, 0, 0]}
    row.save()
    # The state still holds, so the stored row is what is shown …
    assert _row(_report(region), "alpha").assessed == 1
    # … until the round changes: then it is computed again from the database.
    _submit(big, framework_version()[1], _firms(big.cluster, 1, "后加"), 13)
    assert _row(_report(region), "alpha").assessed == 99
    assert RoundFigures.objects.get(round_id=big.pk).data["heads"][0] == 99


def test_a_new_version_of_the_figures_recomputes_every_round(
    region: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(region)
    calls = _computed(monkeypatch)
    monkeypatch.setattr(round_figures, "FIGURES_VERSION", round_figures.FIGURES_VERSION + 1)
    _report(region)
    assert calls == [sorted([region["big"].pk, region["earlier"].pk, region["small"].pk])]


def test_refresh_counts_the_rounds_it_computed(region: dict[str, Any]) -> None:
    ids = [region["big"].pk, region["small"].pk]
    assert round_figures.refresh(ids) == 2
    assert round_figures.refresh(ids) == 0
    assert set(RoundFigures.objects.values_list("round_id", flat=True)) == set(ids)
