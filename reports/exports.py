"""A round's results, one row per submitted assessment, as CSV or XLSX bytes.

Shared by the `export_results` command and the API's export endpoint. Text cells go through
the text-cell guard (clusters/spreadsheets.py), so a firm name beginning "=" stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from assessments.models import Round
from clusters.spreadsheets import csv_text
from reports.rows import dimension_codes, firm_rows

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def results_header(round_: Round) -> list[str]:
    """The column names: uscc, firm, figures, one per dimension code, submitted_at."""
    codes = dimension_codes(round_.framework_version)
    return ["uscc", "firm", "total", "level", "basic", "advanced", *codes, "submitted_at"]


def results_rows(round_: Round) -> Iterator[list[Any]]:
    """One list of values per submitted assessment, in the header's order."""
    for r in firm_rows(round_):
        yield [
            r.uscc,
            r.firm,
            r.total,
            r.level,
            r.basic,
            r.advanced,
            *r.dimensions,
            timezone.localtime(r.submitted_at).isoformat() if r.submitted_at else None,
        ]


def write_csv(round_: Round, out: Any) -> int:
    """Write the results as CSV to a text stream; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(results_header(round_))
    count = 0
    for row in results_rows(round_):
        # Text beginning "=", "+", "-", "@"… gets a leading "'" (CSV injection).
        writer.writerow([csv_text(_cell(v)) for v in row])
        count += 1
    return count


def write_xlsx(round_: Round, out: Any, *, writer: str = "xlsxwriter") -> int:
    """Write the results as an XLSX workbook to a path or binary stream; returns the rows.

    Streamed through the annex's writer (reports/xlsx.py: XlsxWriter in constant-memory mode,
    text never taken for a formula); the header is plain, as `results_header` names it."""
    from reports.xlsx import workbook

    wb = workbook(writer, out)
    count = wb.sheet(
        "results",
        results_header(round_),
        ([_cell(v) for v in row] for row in results_rows(round_)),
        header_width=None,
        styled=False,
    )
    wb.close()
    return count


def results_export(round_: Round, fmt: str) -> bytes:
    """The round's results as CSV (UTF-8 with a byte-order mark, for Excel) or XLSX bytes."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        write_csv(round_, text)
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    binary = io.BytesIO()
    write_xlsx(round_, binary)
    return binary.getvalue()
