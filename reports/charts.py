"""SVG charts for reports, drawn with pygal and tuned for print (no scripts, no tooltips).

Each function returns an SVG document as a string, which templates embed as a data: URI
image so that WeasyPrint lays it out like any other image.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

from clusters.sheet_layout import text_width
from reports.context import ClusterReport, RegionGroup

# A restrained, print-safe palette: cluster in blue, benchmark in grey, then accents.
_COLOURS = ("#1f5fbf", "#9aa5b5", "#2e8b57", "#d08c1a", "#8a4fbf", "#c0392b", "#1a9aa0")


def _style(font: str) -> Style:
    family = f"'{font}', 'DejaVu Sans', sans-serif"
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#d8dee8",
        opacity="1",
        opacity_hover="1",
        transition="none",
        colors=_COLOURS,
        font_family=family,
        label_font_family=family,
        major_label_font_family=family,
        value_font_family=family,
        value_label_font_family=family,
        title_font_family=family,
        legend_font_family=family,
        tooltip_font_family=family,
        label_font_size=13,
        major_label_font_size=13,
        value_font_size=12,
        value_label_font_size=12,
        legend_font_size=13,
        title_font_size=15,
    )


def _config(font: str, **options: object) -> dict[str, object]:
    return {
        "style": _style(font),
        "js": [],  # no scripts: the PDF is static and WeasyPrint must not fetch anything
        "disable_xml_declaration": True,
        "show_y_guides": True,
        "show_x_guides": False,
        "print_values": True,
        "print_zeroes": False,
        "print_values_position": "top",  # above the bar: readable on short bars
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "margin": 8,
        "spacing": 8,
        "truncate_label": -1,
        "truncate_legend": -1,
        "explicit_size": True,
        **options,
    }


def _render(chart: pygal.graph.graph.Graph) -> str:
    return chart.render(is_unicode=True)


def data_uri(svg: str) -> str:
    """An SVG string as a data: URI for an <img> tag."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _clean(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _label_rotation(labels: Sequence[str], width: int) -> int:
    """Tilt x labels that would run into each other (a CJK character counts double)."""
    slot = width / max(1, len(labels))
    widest = max((sum(2 if ord(c) > 0x2E80 else 1 for c in label) for label in labels), default=0)
    return 20 if widest * 7 > slot - 8 else 0


def _cjk_extra(labels: Sequence[str], size: int) -> int:
    """The room pygal misses on the left: it sizes a label at 0.6 em a character, and a CJK
    character takes a whole em."""
    return round(max((0.4 * size * (text_width(t) - len(t)) for t in labels), default=0))


def _short(text: str, budget: int) -> str:
    """The text cut to `budget` widths (a CJK character counts two), ending in "…" if cut;
    Latin text is cut at a space when one is near."""
    if text_width(text) <= budget:
        return text
    kept, used = [], 1  # the ellipsis takes one
    for char in text:
        used += text_width(char)
        if used > budget:
            break
        kept.append(char)
    short = "".join(kept).rstrip()
    space = short.rfind(" ")
    if space > len(short) * 2 // 3:
        short = short[:space]
    return short.rstrip(" ,;:(（、，") + "…"


def level_chart(report: ClusterReport, *, font: str) -> str:
    """Bar chart: the share of assessed firms at each level."""
    chart = pygal.Bar(
        **_config(
            font,
            width=760,
            height=300,
            show_legend=False,
            range=(0, 100),
            x_label_rotation=_label_rotation([lv.title for lv in report.levels], 760),
            value_formatter=_percent,
        )
    )
    chart.x_labels = [lv.title for lv in report.levels]
    chart.add(_("Share of firms (%)"), _clean([lv.share for lv in report.levels]))
    return _render(chart)


def dimension_chart(report: ClusterReport, *, font: str) -> str:
    """Grouped bars: the cluster's mean per dimension against the benchmark mean."""
    chart = pygal.Bar(
        **_config(
            font,
            width=760,
            height=340,
            range=(0, 100),
            value_formatter=lambda v: f"{v:.0f}",
            x_label_rotation=0,
            margin_bottom=24,
        )
    )
    # Dimensions nobody has a score on (e.g. unscored scene dimensions) stay in the table only.
    shown = [d for d in report.dimensions if d.benchmark.n]
    chart.x_labels = [d.title for d in shown]
    chart.add(_("This cluster (mean)"), _clean([d.cluster.mean for d in shown]))
    chart.add(_("All clusters (mean)"), _clean([d.benchmark.mean for d in shown]))
    return _render(chart)


# Label room on the left of the weak-question chart: about 45% of its 760 px at 13 px type,
# where a Latin character is about 7 px wide and a CJK one 13 px.
WEAKEST_LABEL_WIDTH = 44


def weakest_chart(report: ClusterReport, *, font: str) -> str:
    """Horizontal bars: the share of firms meeting each of the weakest questions."""
    items = list(reversed(report.weakest))
    # Titles, not codes (an official does not know "M1"); the table below gives each in full.
    labels = [_short(q.text, WEAKEST_LABEL_WIDTH) for q in items]
    chart = pygal.HorizontalBar(
        **_config(
            font,
            width=760,
            height=max(150, 24 * len(items) + 80),
            margin_left=8 + _cjk_extra(labels, 13),
            range=(0, 100),
            value_formatter=_percent,
            margin_bottom=24,
            print_values=False,  # the table below gives the figures
        )
    )
    chart.x_labels = labels
    chart.add(_("This cluster"), _clean([q.share for q in items]))
    chart.add(_("All clusters"), _clean([q.benchmark_share for q in items]))
    return _render(chart)


def region_chart(group: RegionGroup, *, font: str) -> str:
    """Grouped bars: the basic and advanced shares of each cluster in a region."""
    chart = pygal.Bar(
        **_config(
            font,
            width=760,
            height=340,
            range=(0, 100),
            value_formatter=_percent,
            x_label_rotation=20 if len(group.rows) > 5 else 0,
            margin_bottom=24,
        )
    )
    chart.x_labels = [row.cluster for row in group.rows]
    chart.add(_("Basic or above (%)"), _clean([row.basic_share for row in group.rows]))
    chart.add(_("Advanced or above (%)"), _clean([row.advanced_share for row in group.rows]))
    return _render(chart)


def region_group_chart(group: RegionGroup, *, font: str) -> str:
    """The regional group's chart as a data: URI, or "" when no cluster has a share to draw
    (the same rule as `cluster_charts`: no chart is drawn from nothing)."""
    rows = group.rows
    if all(r.basic_share is None and r.advanced_share is None for r in rows):
        return ""
    return data_uri(region_chart(group, font=font))


def cluster_charts(report: ClusterReport, *, font: str) -> dict[str, str]:
    """The cluster report's charts that have something to show, as data: URIs keyed by name.

    A chart whose every value is missing (no submission yet, or all suppressed) would be an
    empty frame with pygal's English "No data": it is left out, and the template says why.
    """
    drawn: dict[str, str] = {}
    if any(lv.share is not None for lv in report.levels):
        drawn["levels"] = data_uri(level_chart(report, font=font))
    if any(d.cluster.mean is not None for d in report.dimensions if d.benchmark.n):
        drawn["dimensions"] = data_uri(dimension_chart(report, font=font))
    if report.weakest:
        drawn["weakest"] = data_uri(weakest_chart(report, font=font))
    return drawn


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def trajectory_chart(
    labels: Sequence[str], levels: Sequence[int | None], *, top: int, width: int = 300
) -> str:
    """Line chart of a firm's level per round (0 below the first level, 1 to `top`), as an
    SVG string without scripts for a web page (templates pass it through csp_nonce_styles).

    Drawn at a fixed 300 px, the width a 375 px phone leaves inside a card, so that its
    labels stay the size of the page's text; the page shows the numbers as a table too.
    """
    chart = pygal.Line(
        **_config(
            "Noto Sans CJK SC",
            width=width,
            height=220,
            show_legend=False,
            range=(0, top),
            y_labels=list(range(top + 1)),
            show_y_guides=True,
            show_x_guides=False,
            value_formatter=lambda v: f"{v:.0f}",
            x_label_rotation=_label_rotation(labels, width),
            dots_size=5,
            stroke_style={"width": 3},
            margin_right=30,  # room for the last month label, centred on its point
        )
    )
    chart.x_labels = list(labels)
    chart.add(_("Level"), [None if v is None else float(v) for v in levels])
    return _SCRIPT.sub("", _render(chart))


def trend_chart(
    labels: Sequence[str],
    basic: Sequence[float | None],
    advanced: Sequence[float | None],
    *,
    font: str,
) -> str:
    """Line chart for the dashboard: the basic and advanced shares round after round.

    Drawn at a fixed 300 × 250 px with 13 px labels, so that it fits a 375 px phone as it is
    and its text stays the same size on any screen (the page never scales it).
    """
    width = 300
    chart = pygal.Line(
        **_config(
            font,
            width=width,
            height=250,
            range=(0, 100),
            y_labels=[0, 25, 50, 75, 100],
            value_formatter=_percent,
            legend_at_bottom_columns=1,
            # two or three round names sit side by side; more are tilted
            x_label_rotation=30 if len(labels) > 3 else 0,
            dots_size=4,
            stroke_style={"width": 2.5},
            # room for the first and last round's names, centred under the outermost points
            margin_left=24,
            margin_right=40,
            margin_bottom=28 if len(labels) > 3 else 12,
        )
    )
    chart.x_labels = list(labels)
    chart.add(_("Basic or above (%)"), _clean(basic))
    chart.add(_("Advanced or above (%)"), _clean(advanced))
    return _render(chart)


# --- The programme report (issue 13) ----------------------------------------------------------


def stage_chart(stages: Sequence[tuple[str, int]], *, font: str) -> str:
    """Bar chart: the programme's projects per stage, as a data: URI; "" without projects."""
    if not any(count for _label, count in stages):
        return ""
    labels = [label for label, _count in stages]
    chart = pygal.Bar(
        **_config(
            font,
            width=760,
            height=260,
            show_legend=False,
            x_label_rotation=_label_rotation(labels, 760),
            value_formatter=lambda v: f"{v:.0f}",
        )
    )
    chart.x_labels = labels
    chart.add(_("Projects"), [float(count) for _label, count in stages])
    return data_uri(_render(chart))


def target_chart(
    *, reached: int, baseline: int | None, target: int, labels: Sequence[str], font: str
) -> str:
    """Horizontal bars: firms at the target level before the retrofit, after it, and the
    programme's target, as a data: URI; "" when there is no target and nobody compared."""
    if not target and not reached and not baseline:
        return ""
    chart = pygal.HorizontalBar(
        **_config(
            font,
            width=760,
            height=200,
            show_legend=False,
            value_formatter=lambda v: f"{v:.0f}",
            margin_left=8 + _cjk_extra(labels, 13),
        )
    )
    chart.x_labels = list(labels)
    chart.add(
        _("Firms"),
        [None if baseline is None else float(baseline), float(reached), float(target)],
    )
    return data_uri(_render(chart))
