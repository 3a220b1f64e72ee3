"""SVG charts of a firm's result, drawn with pygal: inline SVG that needs no JavaScript."""

from __future__ import annotations

import re
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
        label_font_size=13,
        major_label_font_size=13,
        value_font_size=12,
        legend_font_size=13,
        title_font_size=15,
    )


def scores_chart(
    total: Decimal | None,
    dimensions: Sequence[Any],
    peer_median: Decimal | None = None,
    *,
    font: str | None = None,
) -> SafeString:
    """A horizontal bar chart of the total and each dimension score (0–100), as inline SVG.

    `dimensions` are rows with `title`, `score` and optionally `peer` (a Spread). The cluster
    median is drawn as a second series when the benchmark is shown.
    """
    labels = [_("Total")] + [d.title for d in dimensions]
    chart = pygal.HorizontalBar(
        style=_style(font),
        range=(0, 100),
        width=640,
        height=90 + 46 * len(labels) * (2 if peer_median is not None else 1),
        js=[],
        disable_xml_declaration=True,
        show_legend=peer_median is not None,
        legend_at_bottom=True,
        print_values=True,
        print_values_position="top",
        value_formatter=lambda v: "–" if v is None else f"{v:.1f}",
        truncate_label=-1,
        margin=8,
        explicit_size=False,
    )
    chart.x_labels = labels
    own = [float(total) if total is not None else None] + [
        float(d.score) if d.score is not None else None for d in dimensions
    ]
    chart.add(_("Your firm"), own)
    if peer_median is not None:
        peers = [float(peer_median)] + [
            float(d.peer.median) if getattr(d, "peer", None) is not None else None
            for d in dimensions
        ]
        chart.add(_("Cluster median"), peers)
    # pygal always adds a <script> with its tooltip config; the page needs none.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return mark_safe(svg)  # noqa: S308 - pygal escapes labels; the SVG is ours
