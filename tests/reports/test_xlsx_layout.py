"""The cluster annex and the results export: frozen header rows, columns fitted to the text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from clusters.sheet_layout import text_width
from tests.clusters.test_sheet_layout import _widths, assert_fitted


def test_cluster_annex_sheets_are_frozen_and_fitted(scored):
    from reports.rendering import render_cluster

    out = render_cluster(scored.round, language="zh-hans")
    # Not read-only: read-only mode loads neither column widths nor the frozen pane.
    book = load_workbook(io.BytesIO(out.xlsx))
    assert len(book.worksheets) == 5
    for ws in book.worksheets:
        assert_fitted(ws, 1)
    firms = book.worksheets[2]
    # The code column fits 18 characters plus padding; Chinese level titles count double.
    widths = _widths(firms)
    assert widths["A"] == 20
    level_width = widths["E"]
    assert level_width >= max(text_width(c.value) for c in firms["E"][1:])


def test_results_export_is_frozen_and_fitted(scored):
    from reports.exports import results_export

    ws = load_workbook(io.BytesIO(results_export(scored.round, "xlsx")))["results"]
    assert_fitted(ws, 1)
    assert ws.max_row == 21  # the header and 20 submissions, all written
