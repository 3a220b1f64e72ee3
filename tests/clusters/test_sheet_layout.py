"""Every XLSX the app gives out has a frozen header and columns as wide as their text."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from clusters import sheet_layout
from clusters.sheet_layout import fit_widths, text_width, write_table


def _widths(sheet: Any) -> dict[str, float]:
    """Width per column letter. A writer may give a run of equally wide columns one <col>
    element (XlsxWriter does), which openpyxl loads under the run's first letter."""
    widths: dict[str, float] = {}
    for key, dim in sheet.column_dimensions.items():
        if dim.width:
            first = dim.min or column_index_from_string(key)
            for index in range(first, max(first, dim.max or first) + 1):
                widths[get_column_letter(index)] = dim.width
    return widths


def _open(data: bytes) -> Any:
    # Not read-only: read-only mode does not load column dimensions or the frozen pane.
    return load_workbook(io.BytesIO(data))


@pytest.mark.parametrize(
    ("value", "width"),
    [
        ("abc", 3),
        ("示例精密机械有限公司", 20),  # ten Chinese characters count double
        ("ＡＢ", 4),  # full-width Latin letters too
        ("第 1 轮", 7),
        (12, 2),
        (73.25, 5),
        (None, 0),
        ("short\nthe longest line", 16),
    ],
)
def test_text_width_counts_wide_characters_double(value, width):
    assert text_width(value) == width


def test_widths_fit_the_widest_value_within_bounds():
    rows = [["USCC", "Firm", "x"], ["91350100M000100Y43", "示例精密机械有限公司", "y" * 500]]
    assert fit_widths(rows) == [20, 22, sheet_layout.MAX_WIDTH]
    assert fit_widths([["a"]]) == [sheet_layout.MIN_WIDTH]


def test_write_table_freezes_the_header_and_measures_only_a_sample():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("t")
    sample = sheet_layout.SAMPLE_ROWS
    rows = [["a", 1]] * sample + [["b" * 50, 2]]  # the long value is after the sample
    assert write_table(sheet, [["name", "n"]], iter(rows)) == sample + 1
    buffer = io.BytesIO()
    book.save(buffer)
    ws = _open(buffer.getvalue())["t"]
    assert ws.freeze_panes == "A2"
    assert ws.max_row == sample + 2
    assert ws.cell(sample + 2, 1).value == "b" * 50
    assert _widths(ws) == {"A": sheet_layout.MIN_WIDTH, "B": sheet_layout.MIN_WIDTH}


def assert_fitted(ws: Any, header_rows: int) -> None:
    """Frozen under the header; each column at least as wide as its widest sampled value
    (up to the maximum) and not much wider."""
    assert ws.freeze_panes == f"A{header_rows + 1}"
    widths = _widths(ws)
    last = min(ws.max_row, header_rows + sheet_layout.SAMPLE_ROWS)
    for index, column in enumerate(ws.iter_cols(max_row=last), start=1):
        letter = get_column_letter(index)
        widest = max(text_width(cell.value) for cell in column[header_rows:] or column)
        assert widths[letter] >= min(widest, sheet_layout.MAX_WIDTH), (ws.title, letter)
        everything = max(text_width(c.value) for c in column)
        assert widths[letter] <= max(sheet_layout.MIN_WIDTH, everything + 2), (ws.title, letter)


def test_register_export_and_template_are_frozen_under_both_header_rows(world):
    from clusters.exporting import register_export, register_template

    ws = _open(register_export(world["firms"]["alpha"])).worksheets[0]
    assert_fitted(ws, 2)
    template = _open(register_template())
    data, notes = template.worksheets
    assert data.freeze_panes == "A3"
    assert data.column_dimensions["A"].width >= 20  # room to type a code in the empty template
    assert notes.freeze_panes == "A2"


def test_invitation_list_is_frozen_and_shows_whole_links(open_round, invitations):
    from assessments.exporting import invitations_export

    ws = _open(invitations_export(open_round)).worksheets[0]
    assert_fitted(ws, 1)
    links = [row[3] for row in ws.iter_rows(min_row=2, values_only=True)]
    # Room for the whole link: URL characters are narrower than the "0" a width counts.
    assert links and ws.column_dimensions["D"].width >= min(70, max(len(v) for v in links))
