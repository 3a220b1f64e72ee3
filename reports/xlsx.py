"""The XLSX annex: per-firm rows, per-question attainment and the full support list.

Written with XlsxWriter in constant-memory mode: each row goes to a temporary file as soon as
it is complete, so memory stays flat whatever the cluster's size, and it writes the 10,000-firm
annex in about 0.6-0.75 of the time openpyxl's write-only mode takes (docs/benchmarks.md,
"Issue 14: the annex in its own task, XlsxWriter"). The openpyxl writer is kept behind the same interface for that comparison
(`bench/report.py --xlsx-compare`) and for the test that both write the same cells.

Every sheet has its header row(s) frozen and its columns fitted to the header and the first
rows (clusters/sheet_layout.py). Text is always written as text: formula-like text ("=…",
"#N/A") is a string cell with Excel's quote prefix (clusters/spreadsheets.py), never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import chain, islice
from typing import Any, Protocol

import xlsxwriter  # type: ignore[import-untyped]
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font, PatternFill

from assessments.models import Round
from clusters.models import Firm
from clusters.sheet_layout import MAX_WIDTH, MIN_WIDTH, SAMPLE_ROWS, text_width, write_table
from clusters.spreadsheets import FORMULA_TRIGGERS, formula_like, guard_cell, text_cell
from reports.context import ClusterReport, RegionReport
from reports.programme import ProgrammeReport
from reports.rows import FirmRow, attainment_rows, dimension_codes, firm_rows

HEAD_COLOR, HEAD_FILL = "FFFFFF", "1F5FBF"
HEADER_WIDTH = 16  # the widest a wrapped header title makes its column
WRITERS = ("xlsxwriter", "openpyxl")
_PADDING = 2  # as clusters.sheet_layout: Excel's own auto-fit leaves about this much


def _num(value: Any) -> Any:
    """A Decimal as the float a spreadsheet cell holds; anything else as it is."""
    if isinstance(value, Decimal):
        return float(value)
    return value


class Head:
    """A header cell inside a sheet's rows (the summary's second and third tables): bold
    white on blue, wrapped. `value` is what clusters.sheet_layout.text_width measures."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


def _heads(titles: Iterable[str]) -> list[Head]:
    return [Head(t) for t in titles]


def _widths(
    header: Sequence[Any], sample: Iterable[Sequence[Any]], header_width: int | None, maximum: int
) -> list[int]:
    """Column widths as clusters.sheet_layout.write_table fits them: the widest of the header
    (a wrapping header counts at most `header_width`) and the sampled rows, padded, bounded."""
    widest = [
        min(header_width, text_width(v)) if header_width is not None else text_width(v)
        for v in header
    ]
    for row in sample:
        for index, value in enumerate(row):
            if index == len(widest):
                widest.append(0)
            if value is not None:
                widest[index] = max(widest[index], text_width(value))
    return [min(maximum, max(MIN_WIDTH, w + _PADDING)) for w in widest]


class _Book(Protocol):
    def sheet(
        self,
        title: str,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        header_width: int | None = HEADER_WIDTH,
        styled: bool = True,
    ) -> int: ...

    def close(self) -> bytes: ...


class XlsxWriterBook:
    """A workbook written by XlsxWriter in constant-memory mode (rows in order, each flushed
    to a temporary file once complete). Strings are never taken for formulas, numbers or
    links; formula-like text gets the quote prefix."""

    def __init__(self, out: Any = None) -> None:
        self.out = out if out is not None else io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self.out,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        head = {
            "bold": True,
            "font_color": f"#{HEAD_COLOR}",
            "bg_color": f"#{HEAD_FILL}",
            "pattern": 1,
            "text_wrap": True,
            "valign": "top",
        }
        self.head = self.book.add_format(head)
        self.head_quoted = self.book.add_format({**head, "quote_prefix": True})
        self.quoted = self.book.add_format({"quote_prefix": True})

    def sheet(
        self,
        title: str,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        header_width: int | None = HEADER_WIDTH,
        styled: bool = True,
    ) -> int:
        """Write one sheet: the header (frozen), then the rows; returns the rows written."""
        ws = self.book.add_worksheet(title)
        iterator = iter(rows)
        sample = list(islice(iterator, SAMPLE_ROWS))
        for index, width in enumerate(_widths(header, sample, header_width, MAX_WIDTH)):
            # XlsxWriter adds the pixel padding Excel shows around a column's text to the
            # width it is given; less that, the file holds exactly `width` as openpyxl wrote it.
            ws.set_column(index, index, width - 5 / 7)
        ws.freeze_panes(1, 0)
        head = [Head(v) for v in header] if styled else list(header)
        self._row(ws, 0, head)
        count = 0
        for count, row in enumerate(chain(sample, iterator), start=1):  # noqa: B007
            self._row(ws, count, row)
        return count

    def _row(self, ws: Any, r: int, values: Sequence[Any]) -> None:
        # The hot loop of the annex (about 430,000 cells at 10,000 firms, most of them the
        # attainment sheet's floats): typed writes, the commonest types tested first, and the
        # formula guard inlined (clusters.spreadsheets.formula_like).
        write_string, write_number = ws.write_string, ws.write_number
        triggers, errors, quoted = FORMULA_TRIGGERS, ERROR_CODES, self.quoted
        for c, value in enumerate(values):
            kind = type(value)
            if kind is float or kind is int:
                write_number(r, c, value)
            elif value is None:
                continue
            elif kind is str:
                if value:
                    guard = value[:1] in triggers or value in errors
                    write_string(r, c, value, quoted if guard else None)
            elif kind is Decimal:
                write_number(r, c, float(value))
            elif kind is Head:
                text = str(value.value)
                write_string(r, c, text, self.head_quoted if formula_like(text) else self.head)
            elif kind is bool:
                ws.write_boolean(r, c, value)
            else:
                text = str(value)  # a lazy translation, a date
                if text:
                    write_string(r, c, text, quoted if formula_like(text) else None)

    def close(self) -> bytes:
        """Finish the file; its bytes (empty when it was written to a path or a stream)."""
        self.book.close()
        return self.out.getvalue() if isinstance(self.out, io.BytesIO) else b""


class OpenpyxlBook:
    """The same workbook written by openpyxl in write-only mode: kept for the comparison in
    bench/report.py --xlsx-compare and for the test that both writers agree cell by cell."""

    _font = Font(bold=True, color=HEAD_COLOR)
    _fill = PatternFill("solid", fgColor=HEAD_FILL)

    def __init__(self, out: Any = None) -> None:
        self.out = out if out is not None else io.BytesIO()
        self.book = Workbook(write_only=True)

    def _cell(self, ws: Any, value: Any) -> Any:
        if isinstance(value, Head):
            cell = guard_cell(WriteOnlyCell(ws, value=str(value.value)))
            cell.font = self._font
            cell.fill = self._fill
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            return cell
        if value is not None and not isinstance(value, str | int | float | Decimal | bool):
            value = str(value)
        return text_cell(ws, _num(value))

    def sheet(
        self,
        title: str,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        header_width: int | None = HEADER_WIDTH,
        styled: bool = True,
    ) -> int:
        """Write one sheet: the header (frozen), then the rows; returns the rows written."""
        ws = self.book.create_sheet(title)
        head = [self._cell(ws, Head(v) if styled else v) for v in header]
        return write_table(
            ws,
            [head],
            ([self._cell(ws, v) for v in row] for row in rows),
            header_width=header_width,
        )

    def close(self) -> bytes:
        """Finish the file; its bytes (empty when it was written to a path or a stream)."""
        self.book.save(self.out)
        return self.out.getvalue() if isinstance(self.out, io.BytesIO) else b""


def workbook(writer: str = "xlsxwriter", out: Any = None) -> _Book:
    """A new workbook written by `writer` (one of WRITERS) to `out` (default: in memory)."""
    if writer == "openpyxl":
        return OpenpyxlBook(out)
    if writer != "xlsxwriter":
        raise ValueError(f"unknown XLSX writer {writer!r}: one of {WRITERS}")
    return XlsxWriterBook(out)


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


def render_xlsx(report: ClusterReport, round_: Round, *, writer: str = "xlsxwriter") -> bytes:
    """The annex of a cluster report as XLSX bytes (no firm names in the shareable variant).

    The firm sheets stream their rows from the database in assessment id order."""
    wb = workbook(writer)

    h = report.headline
    summary: list[list[Any]] = [
        [label, value]
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
    summary += [[], _heads([_("Level"), _("Firms"), _("Share (%)")])]
    summary += [[lv.title, lv.count, lv.share] for lv in report.levels]
    summary += [
        [],
        _heads(
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
        ]
        for d in report.dimensions
    ]
    wb.sheet(_("Summary"), [_("Figure"), _("Value")], summary)

    wb.sheet(
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
        size_labels = {code: str(label) for code, label in Firm.SizeClass.choices}
        yes, no = _("yes"), _("no")
        below = next((lv.title for lv in report.levels if not lv.code), "")
        local = timezone.get_current_timezone()

        def verified_title(code: str) -> str:
            return level_titles.get(code, code) if code else below

        def firm_values(r: FirmRow) -> list[Any]:
            return [
                r.uscc,
                r.firm,
                size_labels.get(r.size_class, r.size_class or ""),
                r.total,
                level_titles.get(r.level, r.level),
                yes if r.basic else no,
                yes if r.advanced else no,
                *r.dimensions,
                r.submitted_at.astimezone(local).strftime("%Y-%m-%d %H:%M")
                if r.submitted_at
                else "",
                "" if r.verified_level is None else verified_title(r.verified_level),
            ]

        wb.sheet(
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
            (firm_values(r) for r in firm_rows(round_, as_float=True)),
        )

        question_codes = [q.code for q in report.questions]
        wb.sheet(
            _("Attainment"),
            [_("USCC"), _("Firm"), *question_codes],
            (
                [uscc, name, *[values.get(c) for c in question_codes]]
                for uscc, name, values in attainment_rows(round_)
            ),
        )

        joiner = "；" if report.language.startswith("zh") else "; "
        wb.sheet(
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

    return wb.close()


def render_region_xlsx(report: RegionReport, *, writer: str = "xlsxwriter") -> bytes:
    """The annex of a regional report as XLSX bytes: the comparison table of every group,
    with the same figures as the PDF and the on-screen comparison."""
    wb = workbook(writer)
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
    wb.sheet(_("Summary"), [_("Figure"), _("Value")], summary)
    yes, no = _("yes"), _("no")
    for number, group in enumerate(report.groups, start=1):
        wb.sheet(
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
    return wb.close()


def _figure(f: Any) -> Any:
    """A programme figure's value (None, an empty cell, when suppressed or missing)."""
    return None if f is None else _num(f.value)


def _matrix_rows(matrix: Any, report: ProgrammeReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [row.before.title, *[_figure(c) for c in row.cells], row.total] for row in matrix.rows
    ]
    rows.append([_("All firms"), *matrix.column_totals, matrix.transition.n])
    return rows


def render_programme_xlsx(report: ProgrammeReport, *, writer: str = "xlsxwriter") -> bytes:
    """The annex of a programme report as XLSX bytes: one row per project (officials' edition
    only), the provider scorecards, both transition matrices, the questions that moved and the
    verification figures, with the PDF's numbers."""
    wb = workbook(writer)
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
    wb.sheet(_("Summary"), [_("Figure"), _("Value")], summary)

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

        wb.sheet(
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

    wb.sheet(
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
    wb.sheet(
        _("Transitions"),
        [_("Baseline level → acceptance level"), *level_header, _("Firms")],
        _matrix_rows(report.matrix, report),
    )
    wb.sheet(
        _("Transitions (self-reported)"),
        [_("Baseline level → acceptance level"), *level_header, _("Firms")],
        _matrix_rows(report.matrix_self, report),
    )
    wb.sheet(
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
    wb.sheet(
        _("Verification"),
        [_("Level"), _("Self-reported"), _("Verified")],
        (
            [d.level.title, _figure(d.self_reported), _figure(d.verified)]
            for d in report.distribution
        ),
    )
    return wb.close()
