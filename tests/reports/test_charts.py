"""Charts as a reader sees them: value labels stay readable on short bars."""

from __future__ import annotations

import re
from typing import Any

from reports import charts
from reports.context import cluster_report


def test_level_chart_prints_values_above_the_bars(scored: Any) -> None:
    """A label inside a 2 % bar overlaps the axis and is unreadable; it goes above the bar."""
    report = cluster_report(scored.round, language="en")
    svg = charts.level_chart(report, font="DejaVu Sans")
    bars = {
        round(float(x) + float(w) / 2): float(y)
        for x, y, w in re.findall(
            r'<rect x="([\d.]+)" y="([\d.]+)" [^>]*width="([\d.]+)"[^>]*class="rect reactive', svg
        )
    }
    labels = re.findall(r'<text [^>]*x="([\d.]+)" y="([\d.]+)" class="value">\d+%</text>', svg)
    assert labels and bars
    for x, y in labels:
        assert float(y) <= bars[round(float(x))], "the label sits inside its bar"
