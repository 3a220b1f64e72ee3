"""The report pipeline: aggregate, draw charts, lay out HTML, then PDF and XLSX bytes.

Used alike by the Celery tasks, the `render_cluster_report` command and the benchmark; each
step is timed separately and can report its progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.utils import translation
from django.utils.translation import gettext as _

from assessments.models import Framework, Round
from clusters.models import Region
from programmes.models import Programme
from reports import charts, context, pdf, regional, targets, xlsx
from reports.programme import programme_report

Progress = Callable[[int], None]


@dataclass
class Rendered:
    """The files of a rendered report and how long each step took (seconds)."""

    pdf: bytes = b""
    xlsx: bytes = b""
    html: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class _Clock:
    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self.start = self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.rendered.timings[name] = round(now - self.last, 4)
        self.last = now

    def stop(self) -> None:
        self.rendered.timings["total"] = round(time.perf_counter() - self.start, 4)


def _noop(_percent: int) -> None:
    return None


def with_targets(
    report: context.ClusterReport, round_: Round, *, language: str
) -> context.ClusterReport:
    """The report with the progress towards the cluster's targets on the round's framework,
    and, in the officials' edition, the firms that would count next (the shareable edition
    names no firm)."""
    progress = tuple(
        targets.progress_for_cluster(
            round_.cluster, round_.framework_version.framework, language=language
        )
    )
    upcoming = (
        () if report.shareable else targets.next_firms(report, round_, progress, language=language)
    )
    return replace(report, targets=progress, targets_next=tuple(upcoming))


def _layout(template: str, context: dict[str, object], *, about: str, shareable: bool) -> str:
    """The report's HTML, in the active language, with the running footer every report shows.

    The footer says what the report covers and whether it may be shared beyond officials.
    """
    audience = _("Shareable edition") if shareable else _("For officials only")
    return pdf.render_html(template, {**context, "footer_note": f"{about} · {audience}"})


def render_cluster(
    round_: Round,
    *,
    language: str,
    shareable: bool = False,
    with_xlsx: bool = True,
    progress: Progress = _noop,
) -> Rendered:
    """Render the cluster report of one round to PDF (and XLSX) bytes, in the given language.

    The language is picked here, once: everything below runs under its override.
    """
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = context.cluster_report(round_, language=language, shareable=shareable)
        report = with_targets(report, round_, language=language)
        clock.lap("aggregate")
        progress(25)
        font = pdf.cjk_font_family()
        drawn = charts.cluster_charts(report, font=font)
        clock.lap("charts")
        progress(35)
        out.html = _layout(
            "reports/pdf/cluster_report.html",
            {"report": report, "charts": drawn},
            about=f"{report.cluster} · {report.round}",
            shareable=shareable,
        )
        clock.lap("html")
        progress(45)
        out.pdf = pdf.html_to_pdf(out.html)
        clock.lap("pdf")
        progress(85 if with_xlsx else 95)
        if with_xlsx:
            out.xlsx = xlsx.render_xlsx(report, round_)
            clock.lap("xlsx")
            progress(95)
    clock.stop()
    return out


def render_region(
    region: Region,
    *,
    language: str,
    shareable: bool = False,
    framework: Framework | None = None,
    year: int | None = None,
    with_xlsx: bool = True,
    progress: Progress = _noop,
) -> Rendered:
    """Render the regional comparison on one framework to PDF (and XLSX) bytes."""
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = context.region_report(
            region, language=language, shareable=shareable, framework=framework, year=year
        )
        if report.framework_slug:
            found = targets.progress_for_region(region, report.framework_slug, language=language)
            report = replace(report, targets=tuple(found))
        clock.lap("aggregate")
        progress(30)
        font = pdf.cjk_font_family()
        groups = [replace(g, chart=charts.region_group_chart(g, font=font)) for g in report.groups]
        report = replace(report, groups=tuple(groups))
        clock.lap("charts")
        progress(45)
        out.html = _layout(
            "reports/pdf/region_report.html",
            {"report": report, "columns": regional.columns()},
            about=report.region,
            shareable=shareable,
        )
        clock.lap("html")
        progress(55)
        out.pdf = pdf.html_to_pdf(out.html)
        clock.lap("pdf")
        progress(85 if with_xlsx else 95)
        if with_xlsx:
            out.xlsx = xlsx.render_region_xlsx(report)
            clock.lap("xlsx")
            progress(95)
    clock.stop()
    return out


def render_programme(
    programme: Programme,
    *,
    language: str,
    shareable: bool = False,
    with_xlsx: bool = True,
    progress: Progress = _noop,
) -> Rendered:
    """Render a programme's report (issue 13) to PDF (and XLSX) bytes, in the given language."""
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = programme_report(programme, language=language, shareable=shareable)
        method = context.methodology(programme.framework_version, language)
        clock.lap("aggregate")
        progress(25)
        font = pdf.cjk_font_family()
        t = report.target
        drawn = {
            "stages": charts.stage_chart([(s.label, s.count) for s in report.stages], font=font),
            "target": charts.target_chart(
                reached=t.reached.value or 0,
                baseline=t.baseline_reached.value,
                target=t.target_firms,
                labels=[_("At baseline"), _("After the retrofit"), _("Target")],
                font=font,
            )
            if t.compared.value or t.target_firms
            else "",
        }
        clock.lap("charts")
        progress(35)
        out.html = _layout(
            "reports/pdf/programme_report.html",
            {"report": report, "charts": drawn, "methodology": method},
            about=report.programme,
            shareable=shareable,
        )
        clock.lap("html")
        progress(45)
        out.pdf = pdf.html_to_pdf(out.html)
        clock.lap("pdf")
        progress(85 if with_xlsx else 95)
        if with_xlsx:
            out.xlsx = xlsx.render_programme_xlsx(report)
            clock.lap("xlsx")
            progress(95)
    clock.stop()
    return out


# --- The annex on its own (issue 14) ---------------------------------------------------------
# The report task renders the PDF with with_xlsx=False; a second task renders the annex with
# these, in parallel: each draws the report data itself (the annex needs no charts, no HTML
# and no targets), so the PDF never waits for the per-firm sheets.


def render_cluster_annex(
    round_: Round, *, language: str, shareable: bool = False, writer: str = "xlsxwriter"
) -> Rendered:
    """The XLSX annex of a round's cluster report alone, in the given language."""
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = context.cluster_report(round_, language=language, shareable=shareable)
        clock.lap("aggregate")
        out.xlsx = xlsx.render_xlsx(report, round_, writer=writer)
        clock.lap("xlsx")
    clock.stop()
    return out


def render_region_annex(
    region: Region,
    *,
    language: str,
    shareable: bool = False,
    framework: Framework | None = None,
    year: int | None = None,
) -> Rendered:
    """The XLSX annex of a regional report alone (the comparison tables of every group)."""
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = context.region_report(
            region, language=language, shareable=shareable, framework=framework, year=year
        )
        clock.lap("aggregate")
        out.xlsx = xlsx.render_region_xlsx(report)
        clock.lap("xlsx")
    clock.stop()
    return out


def render_programme_annex(
    programme: Programme, *, language: str, shareable: bool = False
) -> Rendered:
    """The XLSX annex of a programme's report alone."""
    out = Rendered()
    clock = _Clock(out)
    with translation.override(language):
        report = programme_report(programme, language=language, shareable=shareable)
        clock.lap("aggregate")
        out.xlsx = xlsx.render_programme_xlsx(report)
        clock.lap("xlsx")
    clock.stop()
    return out
