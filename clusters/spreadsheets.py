"""Text that the app writes into spreadsheets (CSV and XLSX) is never run as a formula.

A spreadsheet program treats a cell that begins with "=", "+", "-" or "@" (and, after a tab
or a carriage return, the same) as a formula: a firm name such as `=HYPERLINK("http://…","x")`
would become a live link, or worse (CSV/formula injection, OWASP). Every writer passes its
text through here:

- CSV has no cell types, so such a value gets OWASP's leading apostrophe (`'=…`), which the
  spreadsheet shows and never evaluates.
- XLSX has: the value is kept exactly as it is, written as a text cell (openpyxl would store
  "=…" as a formula, and "#N/A" as an error), with Excel's quote prefix so that editing the
  cell keeps it text.

The register import reads values as they are; this module is only for writing.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

__all__ = ["FORMULA_TRIGGERS", "csv_row", "csv_text", "formula_like", "guard_cell", "text_cell"]

# OWASP's list (CSV injection): the characters a spreadsheet reads as the start of a formula.
FORMULA_TRIGGERS = frozenset({"=", "+", "-", "@", "\t", "\r", "\n"})


def formula_like(value: object) -> bool:
    """True for text that a spreadsheet could read as a formula or an error value."""
    return isinstance(value, str) and (value[:1] in FORMULA_TRIGGERS or value in ERROR_CODES)


def csv_text(value: Any) -> Any:
    """A CSV field: formula-like text behind a leading apostrophe, anything else unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    """`csv_text` over a row."""
    return [csv_text(v) for v in values]


def guard_cell(cell: Any) -> Any:
    """Make an openpyxl cell (normal or write-only) that holds formula-like text a text cell."""
    if formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def text_cell(sheet: Any, value: Any) -> Any:
    """A value to append to a write-only sheet: formula-like text as a guarded text cell."""
    if formula_like(value):
        return guard_cell(WriteOnlyCell(sheet, value=value))
    return value
