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


def test_support_list_names_scenes_in_words_not_tag_codes() -> None:
    """Officials read "scenes", not the framework's tag code "scene"."""
    from django.utils import translation

    from assessments.wording import describe_condition

    condition = {"count": {"tag": "scene", "at_least": 8, "min_attainment": 3}}
    constrained = {"count": {"tag": "constrained", "at_least": 5, "min_attainment": 3}}
    with translation.override("en"):
        text = describe_condition(condition, None, "en", 6, with_actual=True)
        assert text == "at least 8 scenarios with attainment 3 or more (now 6)"
        assert "mandatory scenarios" in describe_condition(constrained, None, "en")
    with translation.override("zh-hans"):
        text = describe_condition(condition, None, "zh-hans")
        assert "场景" in text and "scene" not in text


def test_long_level_names_tilt_short_ones_stay_flat() -> None:
    """English level names ran into each other under the bars; Chinese ones fit."""
    english = [
        "Below the first level",
        "Level 1 (tool-assisted)",
        "Level 2 (system-managed)",
        "Level 3 (integrated)",
        "Level 4 (intelligent)",
    ]
    chinese = [
        "未达到最低等级",
        "一级（工具辅助）",
        "二级（系统管理）",
        "三级（集成协同）",
        "四级（智能引领）",
    ]
    assert charts._label_rotation(english, 760) > 0
    assert charts._label_rotation(chinese, 760) == 0


def test_support_list_gives_the_lacks_column_room() -> None:
    """Level and target cells may wrap, so "what it lacks" is not squeezed to a few words."""
    from pathlib import Path

    from django.conf import settings

    html = (Path(settings.BASE_DIR) / "templates/reports/pdf/cluster_report.html").read_text()
    assert '<td class="nowrap">{{ e.level }}</td>' not in html
    style = (Path(settings.BASE_DIR) / "templates/reports/pdf/_style.html").read_text()
    assert "thead th.num { white-space: normal; }" in style
