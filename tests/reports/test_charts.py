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


def test_weakest_chart_names_questions_by_title_not_code(scored: Any) -> None:
    report = cluster_report(scored.round, language="en")
    svg = charts.weakest_chart(report, font="Noto Sans CJK SC")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    codes = {q.code for q in report.weakest}
    assert not codes & set(texts)
    for q in report.weakest:
        short = charts._short(q.text, charts.WEAKEST_LABEL_WIDTH)
        assert short in texts
        assert short == q.text or (short.endswith("…") and q.text.startswith(short[:-1]))


def test_short_titles_cut_to_the_width_with_an_ellipsis() -> None:
    assert charts._short("What level has finance reached?", 44) == "What level has finance reached?"
    cut = charts._short("What level have warehousing and logistics reached in the firm?", 30)
    assert cut == "What level have warehousing…"
    chinese = charts._short("企业对数字化的认识和推进做到了哪一步？请选择最符合的一项", 20)
    assert chinese == "企业对数字化的认识…"  # nine characters (18) and the ellipsis
    from clusters.sheet_layout import text_width

    assert text_width(chinese) <= 20


def test_weakest_chart_leaves_room_for_chinese_labels(scored: Any) -> None:
    """pygal sizes a label at 0.6 em a character; a CJK character is a whole em, so without a
    wider left margin the start of a Chinese title falls off the chart."""
    report = cluster_report(scored.round, language="zh-hans")
    svg = charts.weakest_chart(report, font="Noto Sans CJK SC")
    left = re.search(r'<g transform="translate\(([\d.]+), [\d.]+\)" class="plot">', svg)
    assert left
    labels = re.findall(r'<text x="-5" y="[\d.]+" class="">([^<]*)</text>', svg)
    assert labels
    # The labels end 5 px left of the plot; each CJK character takes 13 px at 13 px type.
    assert float(left.group(1)) >= 5 + 13 * max(len(t) for t in labels)


def test_the_weak_question_page_fits_one_page_in_english(scored: Any) -> None:
    """The chart, the table of the weakest questions and the note under it share one page: no
    rows spill onto an almost empty page."""
    import io

    from pypdf import PdfReader

    from reports.rendering import render_cluster

    pdf = render_cluster(scored.round, language="en", with_xlsx=False).pdf
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    heading = [i for i, t in enumerate(pages) if "Questions: where firms fall short" in t]
    note = [i for i, t in enumerate(pages) if "The share for every question is in the XLSX" in t]
    assert heading and note
    assert note[0] == heading[-1]  # the running header names the section on each of its pages
