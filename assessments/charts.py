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
from pygal.style import Style

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_FONT = (
    "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
    "'WenQuanYi Micro Hei', sans-serif"
)


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
        label_font_size=15,
        major_label_font_size=15,
        value_font_size=15,
        legend_font_size=15,
        title_font_size=15,
    )


def _wide_label_extra(labels: Sequence[str], size: int) -> int:
    """Extra left margin for labels with CJK characters.

    pygal sizes the label column as if every character were about 0.6 em wide; Chinese
    characters take a full em, so without this their first characters are cut off.
    """
    extra = 0.0
    for label in labels:
        wide = sum(1 for ch in label if unicodedata.east_asian_width(ch) in {"W", "F"})
        extra = max(extra, wide * 0.45 * size)
    return int(extra)


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def scores_chart(
    total: Decimal | None,
    dimensions: Sequence[Any],
    peer_median: Decimal | None = None,
    *,
    font: str | None = None,
    width: int = 420,
) -> SafeString:
    """A horizontal bar chart of the total and each dimension score (0–100), as inline SVG.

    `dimensions` are rows with `title`, `score` and optionally `peer` (a Spread). The cluster
    median is drawn as a second series when the benchmark is shown.
    """
    # A dimension without any score (one kept out of the total) would be an empty row.
    dimensions = [
        d
        for d in dimensions
        if d.score is not None or getattr(getattr(d, "peer", None), "median", None) is not None
    ]
    labels = [_("Total")] + [d.title for d in dimensions]
    bars = len(labels) * (2 if peer_median is not None else 1)
    chart = pygal.HorizontalBar(
        style=_style(font),
        range=(0, 100),
        # Drawn for a phone: about 1:1 with the screen at 375-420 px, so labels stay legible.
        width=width,
        height=80 + 34 * bars,
        js=[],
        disable_xml_declaration=True,
        show_legend=peer_median is not None,
        legend_at_bottom=True,
        print_values=True,
        print_values_position="top",
        value_formatter=_format,
        y_labels=[0, 25, 50, 75, 100],
        truncate_label=-1,
        margin=8,
        margin_left=8 + _wide_label_extra(labels, 15),
        explicit_size=False,
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
    # pygal always adds a <script> with its tooltip config; the page needs none.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return mark_safe(svg)  # noqa: S308 - pygal escapes labels; the SVG is ours
