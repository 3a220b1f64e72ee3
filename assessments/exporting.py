"""XLSX files the rounds give out: the list of a round's invitation links.

The counterpart of `clusters/exporting.py` (the register) and `reports/xlsx.py` (the annex):
written in write-only mode, every text through the shared guard of `clusters.spreadsheets`,
so that a firm name such as `=HYPERLINK(…)` stays text.
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from assessments.models import Assessment, Round
from assessments.services import invitation_url
from clusters.spreadsheets import text_cell

__all__ = ["invitations_export"]

_WIDTHS = {"A": 36, "B": 22, "C": 28, "D": 70, "E": 14}


def invitations_export(round_: Round) -> bytes:
    """The round's invitations, one row per firm by name: firm, code, e-mail, link and status."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Invitations")[:31])  # Excel's limit for a sheet title
    for column, width in _WIDTHS.items():
        sheet.column_dimensions[column].width = width
    header = [_("Firm"), _("Unified social credit code"), _("E-mail"), _("Link"), _("Status")]
    sheet.append([text_cell(sheet, title) for title in header])
    statuses = dict(Assessment.objects.filter(round=round_).values_list("firm_id", "status"))
    labels = dict(Assessment.Status.choices)
    for inv in round_.invitations.select_related("firm").order_by("firm__name"):
        status = statuses.get(inv.firm_id)
        row = [
            inv.firm.name,
            inv.firm.uscc,
            inv.email,
            invitation_url(inv),
            str(labels[status]) if status else _("Not started"),
        ]
        sheet.append([text_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
