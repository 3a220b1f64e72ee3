"""The XLSX annex: per-firm rows, per-question attainment and the full support list.

Written with openpyxl in write-only mode, so memory stays flat whatever the cluster's size.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from assessments.models import Round
from clusters.models import Firm
from clusters.spreadsheets import guard_cell, text_cell
from reports.context import ClusterReport, RegionReport
from reports.rows import attainment_values, dimension_codes, firm_rows

_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F5FBF")


def _num(value: Any) -> Any:
    """A Decimal as the float a spreadsheet cell holds; anything else as it is."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _header(ws: Any, titles: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = guard_cell(WriteOnlyCell(ws, value=title))
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        cells.append(cell)
    return cells


def _append(ws: Any, values: list[Any]) -> None:
    """One row, every text in it written as text (a question text "=…" is no formula)."""
    ws.append([text_cell(ws, value) for value in values])


def _widths(ws: Any, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _sheet(wb: Workbook, title: str, widths: list[int], header: list[str]) -> Any:
    """A new sheet with its column widths set and its header row written."""
    ws = wb.create_sheet(title)
    _widths(ws, widths)
    ws.append(_header(ws, header))
    return ws


def render_xlsx(report: ClusterReport, round_: Round) -> bytes:
    """The annex of a cluster report as XLSX bytes (no firm names in the shareable variant)."""
    wb = Workbook(write_only=True)

    ws = _sheet(wb, _("Summary"), [40, 16, 16, 16, 16], [_("Figure"), _("Value")])
    h = report.headline
    for label, value in (
        (_("Cluster"), report.cluster),
        (_("Region"), report.region),
        (_("Round"), report.round),
        (_("Framework"), f"{report.framework} {report.framework_version}"),
        (_("Generated"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")),
        (_("Firms invited"), h.invited),
        (_("Firms assessed"), h.assessed),
        (_("Response rate (%)"), h.response_rate),
        (_("Basic or above (%)"), h.basic_share),
        (_("Advanced or above (%)"), h.advanced_share),
        (_("Change in basic share (percentage points)"), h.basic_change),
        (_("Change in advanced share (percentage points)"), h.advanced_change),
        (_("Homogeneity"), report.homogeneity.value),
        (_("Homogeneity, mean of all clusters"), report.homogeneity.benchmark_mean),
    ):
        _append(ws, [label, _num(value)])
    ws.append([])
    ws.append(_header(ws, [_("Level"), _("Firms"), _("Share (%)")]))
    for lv in report.levels:
        _append(ws, [lv.title, lv.count, lv.share])
    ws.append([])
    ws.append(
        _header(
            ws,
            [
                _("Dimension"),
                _("Mean"),
                _("Q1"),
                _("Median"),
                _("Q3"),
                _("All clusters: mean"),
                _("All clusters: Q1"),
                _("All clusters: median"),
                _("All clusters: Q3"),
                _("All clusters: firms"),
            ],
        )
    )
    for d in report.dimensions:
        _append(
            ws,
            [
                d.title,
                d.cluster.mean,
                d.cluster.q1,
                d.cluster.median,
                d.cluster.q3,
                d.benchmark.mean,
                d.benchmark.q1,
                d.benchmark.median,
                d.benchmark.q3,
                d.benchmark.n,
            ],
        )

    ws = _sheet(
        wb,
        _("Questions"),
        [12, 60, 24, 12, 12, 12, 14],
        [
            _("Code"),
            _("Question"),
            _("Dimension"),
            _("Firms answering"),
            _("Meeting it"),
            _("Share (%)"),
            _("All clusters (%)"),
        ],
    )
    for q in report.questions:
        _append(ws, [q.code, q.text, q.dimension_title, q.n, q.met, q.share, q.benchmark_share])

    if not report.shareable:
        codes = dimension_codes(round_.framework_version)
        dimension_titles = {d.code: d.title for d in report.dimensions}
        level_titles = {lv.code: lv.title for lv in report.levels if lv.code}
        size_labels = dict(Firm.SizeClass.choices)
        ws = _sheet(
            wb,
            _("Firms"),
            [22, 36, 10, 10, 22, 12, 12] + [12] * len(codes) + [18],
            # Read by officials: headers, levels and sizes in words, not the stored codes.
            [
                _("USCC"),
                _("Firm"),
                _("Size class"),
                _("Total score"),
                _("Level"),
                _("Basic or above"),
                _("Advanced or above"),
                *[dimension_titles.get(c, c) for c in codes],
                _("Submitted at"),
            ],
        )
        yes, no = _("yes"), _("no")
        names: dict[int, tuple[str, str]] = {}
        for r in firm_rows(round_):
            names[r.assessment_id] = (r.uscc, r.firm)
            _append(
                ws,
                [
                    r.uscc,
                    r.firm,
                    str(size_labels.get(r.size_class, r.size_class or "")),
                    _num(r.total),
                    level_titles.get(r.level, r.level),
                    yes if r.basic else no,
                    yes if r.advanced else no,
                    *[_num(score) for score in r.dimensions],
                    timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M")
                    if r.submitted_at
                    else "",
                ],
            )

        question_codes = [q.code for q in report.questions]
        ws = _sheet(
            wb,
            _("Attainment"),
            [22, 36] + [8] * len(question_codes),
            [_("USCC"), _("Firm"), *question_codes],
        )
        for aid, values in attainment_values(round_):
            uscc, name = names.get(aid, ("", ""))
            _append(ws, [uscc, name, *[values.get(c) for c in question_codes]])

        ws = _sheet(
            wb,
            _("Support list"),
            [22, 36, 10, 16, 12, 16, 80],
            [
                _("USCC"),
                _("Firm"),
                _("Score"),
                _("Level"),
                _("Band"),
                _("Target level"),
                _("What it lacks"),
            ],
        )
        for e in report.support:
            _append(
                ws,
                [
                    e.uscc,
                    e.firm,
                    _num(e.total),
                    e.level,
                    e.band_title,
                    e.target_level,
                    "；".join(e.lacks) if report.language.startswith("zh") else "; ".join(e.lacks),
                ],
            )

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def render_region_xlsx(report: RegionReport) -> bytes:
    """The annex of a regional report as XLSX bytes: the comparison table of every group,
    with the same figures as the PDF and the on-screen comparison."""
    wb = Workbook(write_only=True)
    ws = _sheet(wb, _("Summary"), [40, 40], [_("Figure"), _("Value")])
    for label, value in (
        (_("Region"), report.region),
        (_("Framework"), report.framework),
        (_("Round year"), report.year if report.year is not None else _("any")),
        (_("Generated"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")),
        (_("Clusters compared"), sum(len(g.rows) for g in report.groups)),
        (_("Clusters without a round on this framework"), "、".join(report.clusters_without_round)),
    ):
        _append(ws, [label, value])
    comparison = _("Comparison")
    for number, group in enumerate(report.groups, start=1):
        _append(
            ws,
            [
                f"{comparison} {number}",
                f"{group.framework} · {_('version')} {group.framework_version}",
            ],
        )
    yes, no = _("yes"), _("no")
    for number, group in enumerate(report.groups, start=1):
        ws = _sheet(
            wb,
            f"{comparison} {number}"[:31],
            [28, 18, 24, 10, 10, 12, 12, 12, 14, 14, 12, 24, 16]
            + [12] * (len(group.dimensions) + len(group.levels)),
            [
                _("Cluster"),
                _("Region"),
                _("Round"),
                _("Invited"),
                _("Assessed"),
                _("Response rate (%)"),
                _("Basic or above (%)"),
                _("Advanced or above (%)"),
                _("Change in basic share (percentage points)"),
                _("Change in advanced share (percentage points)"),
                _("Homogeneity"),
                _("Compared with"),
                _("Fewer than %(n)s firms") % {"n": report.min_cell},
                *[title for _code, title in group.dimensions],
                *[title for _code, title in group.levels],
            ],
        )
        for r in group.rows:
            _append(
                ws,
                [
                    r.cluster,
                    r.region,
                    r.round,
                    r.invited,
                    r.assessed,
                    r.response_rate,
                    r.basic_share,
                    r.advanced_share,
                    r.basic_change,
                    r.advanced_change,
                    r.homogeneity,
                    r.previous_round or "",
                    yes if r.small_sample else no,
                    *r.dimension_means,
                    *r.level_counts,
                ],
            )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
