"""Descriptive statistics of scores: quartiles, homogeneity, shares. Pure Python, no Django.

Quartiles interpolate linearly between order statistics, as PostgreSQL's `percentile_cont`
and Python's `statistics.quantiles(method="inclusive")` do. A query can therefore fetch only
the rows at `quartile_positions(n)` (reports/context.py does, with a window function) and get
the same figures as code that sorts every value (`quartiles`, for a firm's peer figures).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

__all__ = [
    "QUARTILES",
    "Position",
    "homogeneity",
    "interpolate",
    "mean",
    "percentile_rank",
    "quartile_positions",
    "quartiles",
    "rank",
    "rounded",
    "share",
]

# The quartiles and their place between the lowest (0) and the highest (1) value.
QUARTILES = (("q1", Decimal("0.25")), ("median", Decimal("0.5")), ("q3", Decimal("0.75")))
# The largest standard deviation possible on a 0–100 scale: half the firms at 0, half at 100.
_LARGEST_DEVIATION = 50.0

N = TypeVar("N", float, Decimal)


@dataclass(frozen=True)
class Position:
    """Where a quartile lies among n sorted values: `weight` of the way from row `low` to row
    `high` (1-based row numbers; weight is 0, 0.25, 0.5 or 0.75)."""

    low: int
    high: int
    weight: Decimal


def quartile_positions(n: int) -> dict[str, Position]:
    """The position of each quartile (q1, median, q3) among n ≥ 1 sorted values."""
    out = {}
    for name, p in QUARTILES:
        h = p * (n - 1)
        low = math.floor(h)
        out[name] = Position(low + 1, min(low + 2, n), h - low)
    return out


def interpolate(low: N, high: N, weight: Decimal) -> N:
    """The value `weight` of the way from `low` to `high`, in the arithmetic of the values."""
    if isinstance(low, Decimal):
        return low + (high - low) * weight
    return low + (high - low) * float(weight)


def quartiles(values: Iterable[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(q1, median, q3) of at least one value, exactly."""
    ordered = sorted(values)
    at = quartile_positions(len(ordered))
    q1, median, q3 = (
        interpolate(ordered[at[name].low - 1], ordered[at[name].high - 1], at[name].weight)
        for name, _p in QUARTILES
    )
    return q1, median, q3


def homogeneity(moments: Iterable[tuple[float, float]]) -> float | None:
    """How alike firms' profiles are, 1 − mean over dimensions of (standard deviation ÷ 50),
    rounded to 3 decimals, from each dimension's (mean, mean of squares); None without any.

    1 means every firm has the same scores; 0 means each dimension is as spread as possible.
    """
    deviations = [
        math.sqrt(max(0.0, mean_square - mean_**2)) / _LARGEST_DEVIATION
        for mean_, mean_square in moments
    ]
    if not deviations:
        return None
    return round(1.0 - sum(deviations) / len(deviations), 3)


def share(part: int | None, whole: int | None) -> float | None:
    """`part` as a percentage of `whole`, rounded to 1 decimal; None when either is missing."""
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def rounded(value: float | Decimal | None, digits: int = 1) -> float | None:
    """The value as a float rounded to `digits` decimals, or None."""
    return None if value is None else round(float(value), digits)


def mean(values: Sequence[float], digits: int = 3) -> float | None:
    """The arithmetic mean rounded to `digits` decimals, or None for no values."""
    return round(sum(values) / len(values), digits) if values else None


def rank(value: float | None, values: Iterable[float]) -> int | None:
    """1 for the highest of `values`, 2 for the next…; None when `value` is not among them."""
    ordered = sorted(values, reverse=True)
    return ordered.index(value) + 1 if value is not None and value in ordered else None


def percentile_rank(value: Decimal, values: Sequence[Decimal]) -> int:
    """Where `value` stands among `values` (which include it), 0–100: the share of values below
    it, counting values equal to it as half, rounded half-up to a whole number.

    The midpoint rule keeps ties fair: in a group where every firm has the same total, each one
    is at 50, not at 0 or 100.
    """
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    exact = (Decimal(below) + Decimal(equal) / 2) * 100 / len(values)
    return int(exact.quantize(Decimal(1), ROUND_HALF_UP))
