"""The report's figures, in the data, the PDF text and the XLSX, against figures computed here
independently from the scorer's Result objects of the fixtures (never from the database)."""

from __future__ import annotations

import io
import statistics
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reports.context import cluster_report
from reports.rendering import render_cluster

pytestmark = pytest.mark.django_db

LEVEL_TITLES = {None: "Below the first level", "L1": "Level 1", "L2": "Level 2", "L3": "Level 3"}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def expected_weakest(scored: Any) -> list[tuple[str, int, int]]:
    """(code, answering, meeting) of the 10 questions with the lowest share meeting them."""
    fw = scored.fw
    rows = []
    for q in fw.questions:
        if q.type == "text":
            continue
        if q.type == "level":
            values = sorted(lc.value for lc in q.levels)
            threshold = Decimal(next(v for v in values if v >= (values[0] + values[-1]) / 2))
        else:
            threshold = Decimal("0.5")
        got = [r.attainment[q.code] for r in scored.results.values() if q.code in r.attainment]
        met = sum(1 for a in got if a >= threshold)
        if got:
            rows.append((met / len(got), q.code, len(got), met))
    rows.sort()
    return [(code, n, met) for _share, code, n, met in rows[:10]]


def expected_support(scored: Any) -> dict[str, tuple[str, int]]:
    """Firm name -> (band, number of unmet conditions) for firms within reach of a band."""
    fw = scored.fw
    codes = [lv.code for lv in fw.levels]
    names = {f.pk: f.name for f in scored.firms}
    out = {}
    for firm_id, r in scored.results.items():
        if r.advanced:
            continue
        band = "advanced" if r.basic else "basic"
        target = fw.bands.advanced if r.basic else fw.bands.basic
        rank = codes.index(target)
        if fw.level_rank(r.level) != rank - 1 or r.next_level is None:
            continue
        gate = next(Decimal(str(c["score"])) for c in fw.levels[rank].when if "score" in c)
        unmet = len(r.next_level.unmet)
        if unmet <= 2 or r.total >= gate - 10:
            out[names[firm_id]] = (band, unmet)
    return out


def test_headline_shares_and_change_match_the_fixtures(scored: Any) -> None:
    report = cluster_report(scored.round, language="en")
    results = list(scored.results.values())
    before = list(scored.previous_results.values())
    n = len(results)
    basic = sum(r.basic for r in results)
    advanced = sum(r.advanced for r in results)
    h = report.headline
    assert (h.invited, h.assessed) == (scored.invited, n)
    assert h.response_rate == round(100 * n / scored.invited, 1)
    assert h.basic_share == round(100 * basic / n, 1)
    assert h.advanced_share == round(100 * advanced / n, 1)
    prev_basic = round(100 * sum(r.basic for r in before) / len(before), 1)
    assert h.basic_change == round(round(100 * basic / n, 1) - prev_basic, 1)

    text = pdf_text(render_cluster(scored.round, language="en", with_xlsx=False).pdf)
    assert f"{n} / {scored.invited} invited" in text
    assert f"Share at basic or above {pct(basic, n)} {prev_basic:.1f}%" in text
    assert f"Share at advanced or above {pct(advanced, n)}" in text


def test_level_distribution_in_pdf_and_xlsx_matches(scored: Any) -> None:
    results = list(scored.results.values())
    n = len(results)
    counts = {code: sum(1 for r in results if r.level == code) for code in LEVEL_TITLES}
    assert sum(counts.values()) == n
    out = render_cluster(scored.round, language="en")
    text = pdf_text(out.pdf)
    for code, title in LEVEL_TITLES.items():
        assert f"{title} {counts[code]} {pct(counts[code], n)}" in text
    wb = load_workbook(io.BytesIO(out.xlsx), read_only=True)
    summary = [tuple(row) for row in wb["Summary"].iter_rows(values_only=True)]
    for code, title in LEVEL_TITLES.items():
        assert (title, counts[code], round(100 * counts[code] / n, 1)) in [r[:3] for r in summary]


def test_weakest_questions_are_those_fewest_firms_meet(scored: Any) -> None:
    expected = expected_weakest(scored)
    report = cluster_report(scored.round, language="en")
    assert [(q.code, q.n, q.met) for q in report.weakest] == expected
    text = pdf_text(render_cluster(scored.round, language="en", with_xlsx=False).pdf)
    for code, n, met in expected:
        assert f" {n} {met} {pct(met, n)}" in text
        assert code in text


def test_support_list_in_pdf_and_xlsx_matches(scored: Any) -> None:
    expected = expected_support(scored)
    assert expected, "the fixture must put some firms within reach of a band"
    report = cluster_report(scored.round, language="en")
    assert {e.firm: (e.band, e.unmet_count) for e in report.support} == expected
    out = render_cluster(scored.round, language="en")
    text = pdf_text(out.pdf).replace("\n", "")  # long names wrap in their column
    for name in expected:
        assert name in text
    wb = load_workbook(io.BytesIO(out.xlsx), read_only=True)
    rows = list(wb["Support list"].iter_rows(values_only=True))[1:]
    assert sorted(r[1] for r in rows) == sorted(expected)
    # Every listed firm says exactly what it lacks, one condition per unmet gate.
    for entry in report.support:
        assert len(entry.lacks) == entry.unmet_count


def test_dimension_quartiles_match_percentile_cont(scored: Any) -> None:
    report = cluster_report(scored.round, language="en")
    for d in report.dimensions:
        values = [
            float(r.dimensions[d.code])
            for r in scored.results.values()
            if r.dimensions.get(d.code) is not None
        ]
        if not values:
            assert d.cluster.n == 0
            continue
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        assert d.cluster.n == len(values)
        assert d.cluster.mean == round(statistics.fmean(values), 1)
        assert (d.cluster.q1, d.cluster.median, d.cluster.q3) == (
            round(q1, 1),
            round(median, 1),
            round(q3, 1),
        )
        bench = [
            float(r.dimensions[d.code])
            for r in scored.benchmark_results
            if r.dimensions.get(d.code) is not None
        ]
        assert d.benchmark.n == len(bench)
        assert d.benchmark.median == round(statistics.median(bench), 1)


def test_homogeneity_is_one_minus_mean_normalised_spread(scored: Any) -> None:
    report = cluster_report(scored.round, language="en")
    weighted = [d.code for d in scored.fw.dimensions if d.weight > 0]
    spreads = [
        statistics.pstdev(
            [float(r.dimensions[c]) for r in scored.results.values() if r.dimensions[c] is not None]
        )
        / 50
        for c in weighted
    ]
    assert report.homogeneity.value == pytest.approx(1 - sum(spreads) / len(spreads), abs=1e-3)
    assert report.homogeneity.benchmark_groups == 3  # alpha T0, alpha T1, beta T0


def test_xlsx_has_one_row_per_firm_with_scores(scored: Any) -> None:
    out = render_cluster(scored.round, language="en")
    wb = load_workbook(io.BytesIO(out.xlsx), read_only=True)
    rows = list(wb["Firms"].iter_rows(values_only=True))
    # Officials read it: headers, levels and sizes in words, never "uscc" or "L2".
    assert rows[0][:7] == (
        "USCC",
        "Firm",
        "Size class",
        "Total score",
        "Level",
        "Basic or above",
        "Advanced or above",
    )
    level_titles = {lv.code: lv.title["en"] for lv in scored.fw.levels}
    by_name = {r[1]: r for r in rows[1:]}
    names = {f.pk: f.name for f in scored.firms}
    assert len(by_name) == len(scored.results)
    for firm_id, result in scored.results.items():
        row = by_name[names[firm_id]]
        assert Decimal(str(row[3])) == result.total
        assert (row[4] or "") == (level_titles[result.level] if result.level else "")
        assert row[2] in {"Micro", "Small", "Medium", "Large", ""}
    attainment = list(wb["Attainment"].iter_rows(values_only=True))
    assert len(attainment) == len(scored.results) + 1


def test_methodology_is_generated_from_the_framework(scored: Any) -> None:
    text = pdf_text(render_cluster(scored.round, language="en", with_xlsx=False).pdf)
    assert "Methodology" in text
    assert "For tests only, not a published standard" in text
    assert "total score at least 60" in text  # the L3 gate
    assert "“Digital foundation” score at least 50" in text
    # Each dimension by its title and weight; officials read titles, not the file's codes.
    for d in scored.fw.dimensions:
        assert f"{d.title['en']} {d.weight.normalize():f}" in text
        assert f"{d.code} {d.title['en']}" not in text


def test_pdf_size_does_not_grow_with_the_firms(scored: Any) -> None:
    pages = len(PdfReader(io.BytesIO(render_cluster(scored.round, language="en").pdf)).pages)
    assert pages <= 12


def test_benchmark_snapshot_is_reused_then_recomputed_on_new_submissions(
    scored: Any, world: Any, django_assert_max_num_queries: Any
) -> None:
    import random

    from reports.benchmark import benchmark
    from reports.models import BenchmarkSnapshot
    from tests.factories import FirmFactory, MembershipFactory
    from tests.reports.builders import answers_for, submit_many

    version = scored.round.framework_version
    first = benchmark(version)
    assert sum(n for n, _met in first["questions"].values()) > 0
    with django_assert_max_num_queries(2):  # the key, then the stored snapshot
        assert benchmark(version) == first
    firm = FirmFactory()
    MembershipFactory(cluster=world["beta"], firm=firm)
    beta_round = world["beta"].rounds.get()
    submit_many(beta_round, scored.fw, [firm], [answers_for(scored.fw, 1.0, random.Random(2))])
    second = benchmark(version)
    assert second["spreads"]["base"][0] == first["spreads"]["base"][0] + 1
    assert BenchmarkSnapshot.objects.count() == 1


def test_round_without_submissions_renders_with_dashes(world: Any) -> None:
    import datetime as dt

    from tests.reports.builders import framework_version, invite, make_round

    version, _fw = framework_version()
    round_ = make_round(
        world["gamma"], version, name="Empty round", opens=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    invite(round_, world["firms"]["gamma"])
    report = cluster_report(round_, language="en")
    assert (report.headline.invited, report.headline.assessed) == (3, 0)
    assert report.headline.basic_share is None and report.support == ()
    out = render_cluster(round_, language="en")
    text = pdf_text(out.pdf)
    assert "0 / 3 invited" in text and "No submitted assessments yet." in text
    assert "Share at basic or above — —" in text
    wb = load_workbook(io.BytesIO(out.xlsx), read_only=True)
    assert len(list(wb["Firms"].iter_rows())) == 1  # the header only


def test_xlsx_writes_a_firm_name_starting_with_equals_as_text(scored: Any) -> None:
    # A name such as "=HYPERLINK(...)" must never become a live formula in the annex.
    firm = scored.firms[0]
    firm.name = '=HYPERLINK("http://example.com","x")'
    firm.save()
    out = render_cluster(scored.round, language="en")
    wb = load_workbook(io.BytesIO(out.xlsx))
    for sheet in ("Firms", "Attainment"):
        cells = [row[1] for row in wb[sheet].iter_rows(min_row=2) if row[1].value == firm.name]
        assert len(cells) == 1
        assert cells[0].data_type == "s"
