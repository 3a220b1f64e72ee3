"""The XLSX annex: per-firm rows, per-question attainment and the full support list.

Written with openpyxl in write-only mode, so memory stays flat whatever the cluster's size.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from assessments.models import Round
from clusters.models import Firm
from clusters.sheet_layout import write_table
from clusters.spreadsheets import guard_cell, text_cell
from reports.context import ClusterReport, RegionReport
from reports.programme import ProgrammeReport
from reports.rows import FirmRow, attainment_values, dimension_codes, firm_rows

_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F5FBF")
HEADER_WIDTH = 16  # the widest a wrapped header title makes its column


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


def _row(ws: Any, values: list[Any]) -> list[Any]:
    """One row, every text in it written as text (a question text "=…" is no formula)."""
    return [text_cell(ws, _num(value)) for value in values]


def _sheet(wb: Workbook, title: str, header: list[str], rows: Iterable[list[Any]]) -> Any:
    """A new sheet with its header row frozen, then its rows, the columns fitted to both."""
    ws = wb.create_sheet(title)
    # The header cells wrap, so a long title takes two or three lines instead of a wide column.
    write_table(
        ws, [_header(ws, header)], (_row(ws, values) for values in rows), header_width=HEADER_WIDTH
    )
    return ws


def _verification_summary(report: ClusterReport) -> list[tuple[str, Any]]:
    """The round's verification figures for the summary sheet; none when nothing is verified."""
    block = report.verification
    if block is None or not block.any_verified:
        return []
    v = block.figures
    rows: list[tuple[str, Any]] = [
        (_("Verified on site"), v.verified),
        (_("Share verified (%)"), v.share_verified.value),
        (_("Same level (%)"), v.exact.value),
        (_("Self-report higher (%)"), v.overstated.value),
        (_("Self-report lower (%)"), v.understated.value),
        (_("Mean overstatement (levels)"), v.mean_overstatement.value),
        (_("Largest overstatement (levels)"), v.max_overstatement.value),
    ]
    for d in block.distribution:
        rows.append(
            (
                _("%(level)s: self-reported / verified") % {"level": d.level.title},
                f"{_cell(d.self_reported.value)} / {_cell(d.verified.value)}",
            )
        )
    return rows


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def render_xlsx(report: ClusterReport, round_: Round) -> bytes:
    """The annex of a cluster report as XLSX bytes (no firm names in the shareable variant)."""
    wb = Workbook(write_only=True)

    h = report.headline
    ws = wb.create_sheet(_("Summary"))
    summary: list[list[Any]] = [
        _row(ws, [label, value])
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
            *_verification_summary(report),
        )
    ]
    # Two more tables below the figures, each under a header row of its own.
    summary += [[], _header(ws, [_("Level"), _("Firms"), _("Share (%)")])]
    summary += [_row(ws, [lv.title, lv.count, lv.share]) for lv in report.levels]
    summary += [
        [],
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
        ),
    ]
    summary += [
        _row(
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
        for d in report.dimensions
    ]
    write_table(ws, [_header(ws, [_("Figure"), _("Value")])], summary, header_width=HEADER_WIDTH)

    _sheet(
        wb,
        _("Questions"),
        [
            _("Code"),
            _("Question"),
            _("Dimension"),
            _("Firms answering"),
            _("Meeting it"),
            _("Share (%)"),
            _("All clusters (%)"),
        ],
        (
            [q.code, q.text, q.dimension_title, q.n, q.met, q.share, q.benchmark_share]
            for q in report.questions
        ),
    )

    if not report.shareable:
        codes = dimension_codes(round_.framework_version)
        dimension_titles = {d.code: d.title for d in report.dimensions}
        level_titles = {lv.code: lv.title for lv in report.levels if lv.code}
        size_labels = dict(Firm.SizeClass.choices)
        yes, no = _("yes"), _("no")
        names: dict[int, tuple[str, str]] = {}
        below = next((lv.title for lv in report.levels if not lv.code), "")

        def verified_title(code: str) -> str:
            return level_titles.get(code, code) if code else below

        def firm_values(r: FirmRow) -> list[Any]:
            names[r.assessment_id] = (r.uscc, r.firm)
            return [
                r.uscc,
                r.firm,
                str(size_labels.get(r.size_class, r.size_class or "")),
                r.total,
                level_titles.get(r.level, r.level),
                yes if r.basic else no,
                yes if r.advanced else no,
                *r.dimensions,
                timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M")
                if r.submitted_at
                else "",
                "" if r.verified_level is None else verified_title(r.verified_level),
            ]

        _sheet(
            wb,
            _("Firms"),
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
                _("Verified level"),
            ],
            (firm_values(r) for r in firm_rows(round_)),
        )

        question_codes = [q.code for q in report.questions]
        _sheet(
            wb,
            _("Attainment"),
            [_("USCC"), _("Firm"), *question_codes],
            (
                [*names.get(aid, ("", "")), *[values.get(c) for c in question_codes]]
                for aid, values in attainment_values(round_)
            ),
        )

        joiner = "；" if report.language.startswith("zh") else "; "
        _sheet(
            wb,
            _("Support list"),
            [
                _("USCC"),
                _("Firm"),
                _("Score"),
                _("Level"),
                _("Band"),
                _("Target level"),
                _("What it lacks"),
            ],
            (
                [
                    e.uscc,
                    e.firm,
                    e.total,
                    e.level,
                    e.band_title,
                    e.target_level,
                    joiner.join(e.lacks),
                ]
                for e in report.support
            ),
        )

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def render_region_xlsx(report: RegionReport) -> bytes:
    """The annex of a regional report as XLSX bytes: the comparison table of every group,
    with the same figures as the PDF and the on-screen comparison."""
    wb = Workbook(write_only=True)
    comparison = _("Comparison")
    summary: list[list[Any]] = [
        [_("Region"), report.region],
        [_("Framework"), report.framework],
        [_("Round year"), report.year if report.year is not None else _("any")],
        [_("Generated"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")],
        [_("Clusters compared"), sum(len(g.rows) for g in report.groups)],
        [_("Clusters without a round on this framework"), "、".join(report.clusters_without_round)],
    ]
    summary += [
        [
            f"{comparison} {number}",
            f"{group.framework} · {_('version')} {group.framework_version}",
        ]
        for number, group in enumerate(report.groups, start=1)
    ]
    _sheet(wb, _("Summary"), [_("Figure"), _("Value")], summary)
    yes, no = _("yes"), _("no")
    for number, group in enumerate(report.groups, start=1):
        _sheet(
            wb,
            f"{comparison} {number}"[:31],
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
            (
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
                ]
                for r in group.rows
            ),
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _figure(f: Any) -> Any:
    """A programme figure's value (None, an empty cell, when suppressed or missing)."""
    return None if f is None else _num(f.value)


def _matrix_rows(matrix: Any, report: ProgrammeReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [row.before.title, *[_figure(c) for c in row.cells], row.total] for row in matrix.rows
    ]
    rows.append([_("All firms"), *matrix.column_totals, matrix.transition.n])
    return rows


def render_programme_xlsx(report: ProgrammeReport) -> bytes:
    """The annex of a programme report as XLSX bytes: one row per project (officials' edition
    only), the provider scorecards, both transition matrices, the questions that moved and the
    verification figures, with the PDF's numbers."""
    wb = Workbook(write_only=True)
    t, v = report.target, report.verification
    summary: list[list[Any]] = [
        [_("Programme"), report.programme],
        [_("Region"), report.region],
        [_("Framework"), f"{report.framework} {report.framework_version}"],
        [_("Generated"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")],
        [_("Retrofit projects"), report.projects],
        *[[_("Stage: %(stage)s") % {"stage": s.label}, s.count] for s in report.stages],
        [_("Target level"), report.target_level],
        [_("Target number of firms"), t.target_firms],
        [_("Target date"), t.target_date.isoformat() if t.target_date else ""],
        [_("Accepted with both ratings"), t.compared.value],
        [_("At the target level or above after the retrofit"), t.reached.value],
        [_("Share at the target level or above (%)"), _figure(t.share)],
        [_("At the target level or above at baseline"), _figure(t.baseline_reached)],
        [_("Progress against the target (%)"), t.progress],
        [_("Submitted assessments of the projects"), v.submitted],
        [_("Verified on site"), v.verified],
        [_("Share verified (%)"), _figure(v.share_verified)],
        [_("Same level (%)"), _figure(v.exact)],
        [_("Self-report higher (%)"), _figure(v.overstated)],
        [_("Self-report lower (%)"), _figure(v.understated)],
        [_("Mean overstatement (levels)"), _figure(v.mean_overstatement)],
        [_("Largest overstatement (levels)"), _figure(v.max_overstatement)],
    ]
    _sheet(wb, _("Summary"), [_("Figure"), _("Value")], summary)

    if not report.shareable:

        def line(p: Any) -> list[Any]:
            r = p.row
            return [
                r.firm,
                r.uscc,
                r.provider,
                p.stage_label,
                r.starts_on.isoformat() if r.starts_on else "",
                r.ends_on.isoformat() if r.ends_on else "",
                r.budget,
                r.subsidy,
                p.baseline_level,
                p.baseline_verified_level,
                p.acceptance_level,
                p.acceptance_verified_level,
                r.gain,
                r.days_to_acceptance,
                r.rating,
                ", ".join(r.targeted),
            ]

        _sheet(
            wb,
            _("Projects"),
            [
                _("Firm"),
                _("USCC"),
                _("Service provider"),
                _("Stage"),
                _("Starts on"),
                _("Ends on"),
                _("Budget (10k CNY)"),
                _("Subsidy (10k CNY)"),
                _("Baseline level (self-reported)"),
                _("Baseline level (verified)"),
                _("Acceptance level (self-reported)"),
                _("Acceptance level (verified)"),
                _("Level gain (ranks)"),
                _("Days to acceptance"),
                _("Firm's rating (1–5)"),
                _("Targeted questions"),
            ],
            (line(p) for p in report.lines),
        )

    _sheet(
        wb,
        _("Scorecards"),
        [
            _("Service provider"),
            _("Projects"),
            _("Accepted projects"),
            _("Accepted share (%)"),
            _("Abandoned"),
            _("Days to acceptance: median"),
            _("Days to acceptance: mean"),
            _("Days: projects"),
            _("Mean level gain (ranks)"),
            _("Gain: projects"),
            _("Gain: both levels verified"),
            _("Mean rating (1–5)"),
            _("Ratings"),
            _("Fewer than %(n)s projects") % {"n": report.min_sample},
        ],
        (
            [
                s.provider,
                s.projects,
                _figure(s.accepted),
                _figure(s.accepted_share),
                s.abandoned,
                _figure(s.days_median),
                _figure(s.days_mean),
                s.days_median.n,
                _figure(s.gain_mean),
                s.gain_mean.n,
                s.gain_verified,
                _figure(s.rating_mean),
                s.rating_mean.n,
                _("yes") if s.small else _("no"),
            ]
            for s in report.scorecards
        ),
    )
    level_header = [lv.title for lv in report.levels]
    _sheet(
        wb,
        _("Transitions"),
        [_("Baseline level → acceptance level"), *level_header, _("Firms")],
        _matrix_rows(report.matrix, report),
    )
    _sheet(
        wb,
        _("Transitions (self-reported)"),
        [_("Baseline level → acceptance level"), *level_header, _("Firms")],
        _matrix_rows(report.matrix_self, report),
    )
    _sheet(
        wb,
        _("Questions moved"),
        [
            _("Code"),
            _("Question"),
            _("Targeted: firms"),
            _("Targeted: rose"),
            _("All: firms"),
            _("All: rose"),
            _("Share rose (%)"),
        ],
        (
            [
                m.code,
                m.text,
                m.targeted_n,
                _figure(m.targeted_rose),
                m.all_n,
                _figure(m.all_rose),
                _figure(m.all_share),
            ]
            for m in report.moves
        ),
    )
    _sheet(
        wb,
        _("Verification"),
        [_("Level"), _("Self-reported"), _("Verified")],
        (
            [d.level.title, _figure(d.self_reported), _figure(d.verified)]
            for d in report.distribution
        ),
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
