"""SVG charts of a firm's result, drawn with pygal: inline SVG that needs no JavaScript."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal import util as pygal_util
from pygal.style import Style

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_FONT = (
    "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
    "'WenQuanYi Micro Hei', sans-serif"
)


# Text size in the SVG's own pixels. The chart is drawn at a fixed size (width × height
# attributes; the page never stretches it), so this is the size people read on a desktop; a
# phone narrower than the chart shrinks it a little (CSS max-width: 100%).
FONT_SIZE = 13
WIDTH = 360
_BAR_PITCH = 30
_VALUE_GAP = 4
# Room right of the plot for a value label of a bar at 100 ("100", "99.75").
_VALUE_ROOM = 42
_BAR = re.compile(
    r'(<rect x="(?P<x>[-\d.]+)" y="(?P<y>[-\d.]+)" rx="0" ry="0" width="(?P<w>[-\d.]+)" '
    r'height="(?P<h>[-\d.]+)" class="rect reactive tooltip-trigger"/>'
    r'<desc class="value">(?P<value>[^<]*)</desc>)'
)
_GRIDLINE = re.compile(r'<path d="[^"]*" class="(?:major )?guide line"/>')


def _style(font: str | None = None) -> Style:
    family = f"'{font}', {_FONT}" if font else _FONT
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#d8dee8",
        colors=("#1f6feb", "#9a6700", "#8c959f"),
        font_family=family,
        label_font_size=FONT_SIZE,
        major_label_font_size=FONT_SIZE,
        value_font_size=FONT_SIZE,
        legend_font_size=FONT_SIZE,
        title_font_size=FONT_SIZE,
    )


def text_width(label: str, size: float = FONT_SIZE) -> float:
    """About how wide `label` is drawn: 1 em per CJK character, 0.62 em per other character."""
    return sum(
        size if unicodedata.east_asian_width(ch) in {"W", "F"} else 0.62 * size for ch in label
    )


def _fit(label: str, room: float) -> str:
    """The label, cut with "…" so that it fits in `room` pixels."""
    if text_width(label) <= room:
        return label
    while label and text_width(label + "…") > room:
        label = label[:-1]
    return label + "…"


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _value_labels(svg: str) -> str:
    """Each bar's value, written just after the bar's end and centred on it vertically.

    pygal's own value labels sit across the bar's end; these never touch a bar, and the plot
    keeps `_VALUE_ROOM` free on the right so that the label of a full bar fits.
    """

    def label(match: re.Match[str]) -> str:
        x, y = float(match["x"]), float(match["y"])
        w, h = float(match["w"]), float(match["h"])
        value = _format(float(match["value"])) if match["value"] else "–"
        return (
            f'{match[1]}<text class="gvalue" x="{x + w + _VALUE_GAP:.1f}" '
            f'y="{y + h / 2 + FONT_SIZE * 0.35:.1f}" font-size="{FONT_SIZE}" '
            f'fill="#1d2433" text-anchor="start">{value}</text>'
        )

    return _BAR.sub(label, svg)


def scores_chart(
    total: Decimal | None,
    dimensions: Sequence[Any],
    peer_median: Decimal | None = None,
    *,
    font: str | None = None,
    width: int = WIDTH,
) -> SafeString:
    """A horizontal bar chart of the total and each dimension score (0–100), as inline SVG of
    a fixed size (`width` px wide).

    `dimensions` are rows with `title`, `score` and optionally `peer` (a Spread). The cluster
    median is drawn as a second series when the benchmark is shown. Long titles are cut to
    fit 45% of the width (the table under the chart names them in full).
    """
    # A dimension without any score (one kept out of the total) would be an empty row.
    dimensions = [
        d
        for d in dimensions
        if d.score is not None or getattr(getattr(d, "peer", None), "median", None) is not None
    ]
    room = 0.45 * width
    labels = [_fit(str(t), room) for t in [_("Total")] + [d.title for d in dimensions]]
    label_column = max(text_width(t) for t in labels)
    max_chars = max(len(t) for t in labels)
    bars = len(labels) * (2 if peer_median is not None else 1)
    show_legend = peer_median is not None
    chart = pygal.HorizontalBar(
        style=_style(font),
        range=(0, 100),
        width=width,
        height=40 + _BAR_PITCH * bars + (50 if show_legend else 0),
        js=[],
        disable_xml_declaration=True,
        show_legend=show_legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=-1,
        print_values=False,
        y_labels=[0, 25, 50, 75, 100],
        truncate_label=-1,
        margin=8,
        # pygal reserves its own estimate of the label column; add what it underestimates.
        margin_left=8 + max(0, int(label_column - pygal_util.text_len(max_chars, FONT_SIZE))),
        margin_right=_VALUE_ROOM,
        spacing=6,
        explicit_size=True,
    )
    # pygal draws the first label at the bottom: reverse, so that the total comes first.
    chart.x_labels = list(reversed(labels))
    own = [float(total) if total is not None else None] + [
        float(d.score) if d.score is not None else None for d in dimensions
    ]
    chart.add(_("Your firm"), list(reversed(own)))
    if peer_median is not None:
        peers = [float(peer_median)] + [
            float(d.peer.median) if getattr(d, "peer", None) is not None else None
            for d in dimensions
        ]
        chart.add(_("Cluster median"), list(reversed(peers)))
    # pygal always adds a <script> with its tooltip config; the page needs none. Gridlines
    # would run through the value labels: the axis and its 0–100 ticks are enough.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    svg = _value_labels(_GRIDLINE.sub("", svg))
    return mark_safe(svg)  # noqa: S308 - pygal escapes labels; the SVG is ours
