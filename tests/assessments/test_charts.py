"""The firm's score chart as a plant manager sees it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assessments.charts import scores_chart


@dataclass
class _Peer:
    median: Decimal | None


@dataclass
class _Dim:
    title: str
    score: Decimal | None
    peer: Any = None


def test_a_dimension_without_any_score_is_not_an_empty_row() -> None:
    dims = [
        _Dim("数字化基础", Decimal("28.5"), _Peer(Decimal("58.7"))),
        _Dim("数字化经营", None, _Peer(None)),  # kept out of the total: no score at all
        _Dim("数字化管理", Decimal("6.25"), _Peer(Decimal("62.5"))),
    ]
    svg = str(scores_chart(Decimal("23.13"), dims, Decimal("60.98")))
    assert "数字化基础" in svg and "数字化管理" in svg
    assert "数字化经营" not in svg


def test_a_dimension_with_only_a_peer_median_stays() -> None:
    dims = [_Dim("数字化成效", None, _Peer(Decimal("50")))]
    assert "数字化成效" in str(scores_chart(None, dims, Decimal("60")))
