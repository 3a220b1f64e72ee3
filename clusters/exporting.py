"""XLSX files the register gives out: the import template and the export of a cluster's firms.

Both use the same two header rows as the importer expects (Chinese, then English keys), so an
exported file can be edited and imported again. Workbooks are written in write-only mode, which
streams rows and keeps memory flat for large registers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from clusters import industries
from clusters.importing import COLUMNS, MAX_ROWS
from clusters.models import Firm
from clusters.sheet_layout import write_table
from clusters.spreadsheets import guard_cell, text_cell

__all__ = ["register_export", "register_template", "text_cell"]

_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDE6F4")


def _header_cells(sheet: object, values: Iterable[str], *, fill: bool) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = guard_cell(WriteOnlyCell(sheet, value=value))
        cell.font = _BOLD
        if fill:
            cell.fill = _FILL
        cells.append(cell)
    return cells


def _header_rows(sheet: Any, extra: Sequence[tuple[str, str]] = ()) -> list[list[WriteOnlyCell]]:
    """The importer's two header rows: Chinese headers, then the English keys."""
    return [
        _header_cells(sheet, [c.header_zh for c in COLUMNS] + [z for z, _ in extra], fill=True),
        _header_cells(sheet, [c.key for c in COLUMNS] + [e for _, e in extra], fill=False),
    ]


def register_template() -> bytes:
    """An empty register workbook: two header rows, and a sheet that explains each column."""
    book = Workbook(write_only=True)
    data = book.create_sheet(_("Firms"))
    # An empty register: room for a code (18 characters) and a firm's name, not just the headers.
    write_table(data, _header_rows(data), [], at_least=[22, 34])

    notes = book.create_sheet(_("Instructions"))
    header = [_("Chinese header"), _("English header"), _("Required"), _("What to enter")]
    columns = [
        [
            text_cell(notes, v)
            for v in (
                column.header_zh,
                column.key,
                _("yes") if column.required else _("no"),
                str(column.label),
            )
        ]
        for column in COLUMNS
    ]
    lines = [
        [text_cell(notes, line)]
        for line in (
            _(
                "Row 1 holds the Chinese headers and row 2 the English ones; keep either or both. "
                "Firms start on the next row, one per row."
            ),
            _("The columns may come in any order; columns with other headers are ignored."),
            _(
                "A code of a firm you already oversee updates that firm and adds it to the "
                "cluster; a blank cell keeps the value the register already has. A code of a "
                "firm outside your clusters is refused: ask the administrator to add that firm."
            ),
            _(
                "The whole file is checked first, and nothing is imported while any row has a "
                "problem. Limits: 10 MB and %(max)s firms per file."
            )
            % {"max": f"{MAX_ROWS:,}"},
            _(
                "Formulas are not calculated: type values, or save the file in Excel so that each "
                "formula keeps its value."
            ),
            _(
                "Example: 91350100M000100Y43 | 示例精密机械有限公司 | 320583 | C34 | 120 | 8000 | "
                "| 王芳 | wangfang@example.com | 0512-5750 1234"
            ),
        )
    ]
    # The notes under the table are sentences: they overflow to the right, and do not widen
    # the first column.
    write_table(notes, [_header_cells(notes, header, fill=True)], columns, maximum=80)
    notes.append([])
    for line in lines:
        notes.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register_export(firms: Iterable[Firm]) -> bytes:
    """The given firms as an XLSX register that the importer accepts back."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Firms"))
    extra = [("规模", "size_class"), ("行业名称", "industry_name")]
    sizes = dict(Firm.SizeClass.choices)
    write_table(sheet, _header_rows(sheet, extra), (_register_row(sheet, f, sizes) for f in firms))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _register_row(sheet: Any, firm: Firm, sizes: Mapping[str, object]) -> list[Any]:
    """One firm as a register row, in the importer's column order plus size and industry."""
    name = industries.MANUFACTURING_DIVISIONS.get(firm.industry_division, ("", ""))[0]
    row = [
        firm.uscc,
        firm.name,
        firm.region.code if firm.region_id and firm.region else None,
        (firm.industry_code + firm.industry_group[2:]) if firm.industry_division else None,
        firm.employees,
        firm.revenue_10k_cny,
        firm.total_assets_10k_cny,
        firm.contact_person,
        firm.contact_email,
        firm.contact_phone,
        str(sizes.get(firm.size_class, "")),
        name if firm.industry_section == "C" else "",
    ]
    return [text_cell(sheet, v) for v in row]
