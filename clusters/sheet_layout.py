"""The layout every XLSX writer gives a table: a frozen header and columns as wide as their text.

openpyxl's write-only mode streams rows, and writes the sheet's views (the frozen pane) and its
column widths when the first row is appended, so both must be known before that. `write_table`
therefore keeps back the first `SAMPLE_ROWS` rows, measures them with the header, sets the
widths and the frozen pane, and then streams every row: memory stays bounded however long the
table is, and a column whose long values only start after the sample stays at the sample's width.

Width is counted in Excel's unit, the width of a "0" in the default font: a Chinese, Japanese or
Korean character (Unicode East Asian width "W" or "F") takes about two.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import Any

from openpyxl.utils import get_column_letter

__all__ = ["MAX_WIDTH", "MIN_WIDTH", "SAMPLE_ROWS", "fit_widths", "text_width", "write_table"]

SAMPLE_ROWS = 200
MIN_WIDTH = 6
MAX_WIDTH = 60  # beyond this a column is wider than a laptop screen's half; the text overflows
_PADDING = 2  # Excel's own auto-fit leaves about this much around the text


def text_width(value: Any) -> int:
    """How many "0"-widths a value takes in a cell: the longest line of its text, wide
    (East Asian) characters counting double."""
    if value is None:
        return 0
    value = getattr(value, "value", value)  # a WriteOnlyCell
    if isinstance(value, float | Decimal):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)
            for line in text.splitlines() or [""]
        ),
        default=0,
    )


class _Clipped:
    """A header value that is measured as at most `limit` wide (its cell wraps)."""

    def __init__(self, value: Any, limit: int) -> None:
        self.width = min(limit, text_width(value))


def fit_widths(
    rows: Iterable[Sequence[Any]], *, minimum: int = MIN_WIDTH, maximum: int = MAX_WIDTH
) -> list[int]:
    """Per column, the width that fits the widest value of the rows, between the bounds."""
    widest: list[int] = []
    for row in rows:
        for index, value in enumerate(row):
            if index == len(widest):
                widest.append(0)
            width = value.width if isinstance(value, _Clipped) else text_width(value)
            widest[index] = max(widest[index], width)
    return [min(maximum, max(minimum, width + _PADDING)) for width in widest]


def write_table(
    sheet: Any,
    header: Sequence[Sequence[Any]],
    rows: Iterable[Sequence[Any]],
    *,
    maximum: int = MAX_WIDTH,
    at_least: Sequence[int] = (),
    header_width: int | None = None,
) -> int:
    """Append the header rows and the rows to a write-only sheet that has no row yet, with the
    header frozen and widths fitted to it and a sample of the rows (and at least `at_least`,
    column by column). A header that wraps its text counts at most `header_width`. Returns the
    number of rows written after the header."""
    iterator = iter(rows)
    sample = list(islice(iterator, SAMPLE_ROWS))
    measured_header: Sequence[Sequence[Any]] = header
    if header_width is not None:
        measured_header = [[_Clipped(v, header_width) for v in row] for row in header]
    widths = fit_widths([*measured_header, *sample], maximum=maximum)
    widths += [0] * (len(at_least) - len(widths))
    for index, width in enumerate(widths, start=1):
        floor = at_least[index - 1] if index <= len(at_least) else 0
        sheet.column_dimensions[get_column_letter(index)].width = max(width, floor)
    if header:
        sheet.freeze_panes = f"A{len(header) + 1}"
    for row in header:
        sheet.append(list(row))
    count = 0
    for row in chain(sample, iterator):
        sheet.append(list(row))
        count += 1
    return count
