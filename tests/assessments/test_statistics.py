"""Pure statistics and number wording: no database."""

from __future__ import annotations

import statistics as stdlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments import statistics, wording

scores = st.lists(
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False), min_size=2, max_size=40
)


@given(scores)
def test_quartiles_match_inclusive_linear_interpolation(values: list[Decimal]) -> None:
    """The positions a window query fetches give what sorting every value gives."""
    expected = stdlib.quantiles(values, n=4, method="inclusive")
    assert list(statistics.quartiles(values)) == expected


@given(scores)
def test_float_interpolation_from_positions_matches_the_exact_quartiles(
    values: list[Decimal],
) -> None:
    ordered = sorted(float(v) for v in values)
    exact = statistics.quartiles(values)
    at = statistics.quartile_positions(len(values))
    for (name, _p), want in zip(statistics.QUARTILES, exact, strict=True):
        pos = at[name]
        got = statistics.interpolate(ordered[pos.low - 1], ordered[pos.high - 1], pos.weight)
        assert got == pytest.approx(float(want), abs=1e-9)


def test_homogeneity_is_one_for_identical_profiles_and_zero_at_the_widest_spread() -> None:
    assert statistics.homogeneity([(40.0, 1600.0), (70.0, 4900.0)]) == 1.0
    assert statistics.homogeneity([(50.0, 5000.0)]) == 0.0  # half at 0, half at 100
    assert statistics.homogeneity([]) is None


@pytest.mark.parametrize(
    ("value", "args", "kwargs", "expected"),
    [
        (Decimal("57.50"), (), {}, "57.5"),
        (Decimal("60"), (), {}, "60"),
        (Decimal("0.125"), (), {}, "0.13"),  # half-up, as scores are rounded
        (Decimal("0.125"), (None,), {}, "0.125"),  # a value from the file, exactly
        (62.45, (1,), {"fixed": True}, "62.5"),
        (3, (1,), {"fixed": True, "signed": True}, "+3.0"),
        (None, (), {}, "—"),
        (None, (), {"dash": "–"}, "–"),
        (Decimal("100.00"), (), {}, "100"),
    ],
)
def test_number(value: object, args: tuple, kwargs: dict, expected: str) -> None:
    assert wording.number(value, *args, **kwargs) == expected  # type: ignore[arg-type]
