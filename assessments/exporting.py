"""XLSX files the rounds give out: the list of a round's invitation links.

The counterpart of `clusters/exporting.py` (the register) and `reports/xlsx.py` (the annex):
written in write-only mode, every text through the shared guard of `clusters.spreadsheets`,
so that a firm name such as `=HYPERLINK(…)` stays text.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from assessments.models import Assessment, Invitation, Round
from assessments.services import invitation_url
from clusters.sheet_layout import write_table
from clusters.spreadsheets import text_cell

__all__ = ["invitations_export"]


def invitations_export(round_: Round) -> bytes:
    """The round's invitations, one row per firm by name: firm, code, e-mail, link and status."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Invitations")[:31])  # Excel's limit for a sheet title
    header = [_("Firm"), _("Unified social credit code"), _("E-mail"), _("Link"), _("Status")]
    statuses = dict(Assessment.objects.filter(round=round_).values_list("firm_id", "status"))
    labels = dict(Assessment.Status.choices)

    def row(inv: Invitation) -> list[Any]:
        status = statuses.get(inv.firm_id)
        values = [
            inv.firm.name,
            inv.firm.uscc,
            inv.email,
            invitation_url(inv),
            str(labels[status]) if status else _("Not started"),
        ]
        return [text_cell(sheet, value) for value in values]

    rows = (row(inv) for inv in round_.invitations.select_related("firm").order_by("firm__name"))
    # A link is about 75 characters, mostly narrower than the "0" that measures a width: 70
    # shows it whole.
    write_table(sheet, [[text_cell(sheet, title) for title in header]], rows, maximum=70)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
