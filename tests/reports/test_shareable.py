"""The shareable variant names no firm and suppresses every cell drawn from fewer than 5 firms."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from reports.context import cluster_report, region_report
from reports.rendering import render_cluster, render_region
from tests.reports.test_figures import LEVEL_TITLES, expected_support, pdf_text

pytestmark = pytest.mark.django_db


def test_small_cells_are_suppressed_and_large_ones_kept(scored: Any) -> None:
    results = list(scored.results.values())
    counts = {code: sum(1 for r in results if r.level == code) for code in LEVEL_TITLES}
    assert any(c < 5 for c in counts.values()) and any(c >= 5 for c in counts.values())
    report = cluster_report(scored.round, language="en", shareable=True)
    for level in report.levels:
        code = level.code or None
        if counts[code] < 5:
            assert level.count is None and level.share is None
        else:
            assert level.count == counts[code]
    for row in report.by_size:
        assert all(c is None or c >= 5 for c in row.counts)
    assert report.support == ()
    bands = [band for band, _unmet in expected_support(scored).values()]
    for band, shown in (("basic", report.support_basic), ("advanced", report.support_advanced)):
        n = bands.count(band)
        assert shown == (n if n >= 5 else None)
    assert bands.count("advanced") < 5 <= bands.count("basic")  # the fixture covers both cases

    officials = cluster_report(scored.round, language="en", shareable=False)
    assert officials.support and all(lv.count is not None for lv in officials.levels)


def test_shareable_pdf_and_xlsx_name_no_firm(scored: Any) -> None:
    out = render_cluster(scored.round, language="en", shareable=True)
    text = pdf_text(out.pdf).replace("\n", "")
    for firm in scored.firms:
        assert firm.name not in text
        assert firm.uscc not in text
    results = list(scored.results.values())
    for code, title in LEVEL_TITLES.items():
        n = sum(1 for r in results if r.level == code)
        if n < 5:
            assert f"{title} — —" in text
    wb = load_workbook(io.BytesIO(out.xlsx), read_only=True)
    assert "Firms" not in wb.sheetnames and "Support list" not in wb.sheetnames
    everything = " ".join(
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )
    for firm in scored.firms:
        assert firm.name not in everything


def test_regional_report_compares_the_clusters_of_the_region(scored: Any, world: Any) -> None:
    report = region_report(world["province_a"], language="en")
    [group] = report.groups
    names = [row.cluster for row in group.rows]
    assert sorted(names) == sorted([world["alpha"].name_en, world["beta"].name_en])
    alpha = next(r for r in group.rows if r.cluster == world["alpha"].name_en)
    results = list(scored.results.values())
    assert alpha.assessed == len(results)
    assert alpha.basic_share == round(100 * sum(r.basic for r in results) / len(results), 1)
    assert world["gamma"].name_en not in names + list(report.clusters_without_round)
    text = pdf_text(render_region(world["province_a"], language="en").pdf)
    assert world["alpha"].name_en in text and world["beta"].name_en in text
    assert world["gamma"].name_en not in text
    shared = region_report(world["province_a"], language="en", shareable=True)
    for row in shared.groups[0].rows:
        assert all(c is None or c >= 5 for c in row.level_counts)
