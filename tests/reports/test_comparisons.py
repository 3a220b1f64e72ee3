"""Like with like (issue 10, part 1) and the regional comparison on screen (part 5).

The traps the issue names are built here exactly: a round that has just opened, a previous
round on another framework, a change across framework versions, and a small pilot round on
another framework that is newer than a 98-firm round in the same region.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments.framework import load_framework_file
from assessments.models import FrameworkVersion, Round
from assessments.versions import framework_version_declare_comparable
from reports import context, services
from reports.forms import ReportRequestForm
from reports.models import ReportJob
from reports.rendering import render_cluster, render_region
from tests.factories import FirmFactory, FrameworkVersionFactory, MembershipFactory
from tests.reports.builders import (
    TEST_FRAMEWORK,
    answers_for,
    framework_version,
    invite,
    make_round,
    submit_many,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _english(user: Any) -> Client:
    """A client logged in as the user, asking for English pages."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _firms(cluster: Any, n: int, prefix: str) -> list[Any]:
    firms = []
    for i in range(n):
        firm = FirmFactory(name=f"{prefix}{i:03d}")
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    return firms


def _submit(round_: Any, fw: Any, firms: list[Any], seed: int, lift: float = 0.0) -> None:
    rng = random.Random(seed)
    submit_many(
        round_,
        fw,
        firms,
        [answers_for(fw, min(1.0, rng.uniform(0.2, 0.9) + lift), rng) for _ in firms],
    )


def _second_version(tmp_path: Path) -> tuple[FrameworkVersion, Any]:
    """Version 2 of the report-test framework (the same content under another version)."""
    path = tmp_path / "report-test-2.yaml"
    path.write_text(
        TEST_FRAMEWORK.read_text(encoding="utf-8").replace('version: "1"', 'version: "2"'),
        encoding="utf-8",
    )
    return FrameworkVersionFactory(path=path), load_framework_file(path)


def _eu() -> tuple[FrameworkVersion, Any]:
    """Another framework altogether (the built-in EDIH DMA)."""
    version = FrameworkVersionFactory(builtin="edih-dma")
    from assessments.versions import framework_for

    return version, framework_for(version)


# --- Part 1: the cluster report -------------------------------------------------------------


def test_just_opened_round_is_not_the_default(
    world: dict[str, Any], cluster_official: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda job_id: None)
    version, fw = framework_version()
    alpha = world["alpha"]
    firms = _firms(alpha, 6, "甲")
    closed = make_round(alpha, version, name="上一轮", opens=T0)
    _submit(closed, fw, firms, 1)
    just_opened = make_round(
        alpha, version, name="刚开的一轮", opens=timezone.now() - dt.timedelta(hours=2)
    )
    invite(just_opened, firms)
    assert Round.objects.latest_of(alpha) == just_opened  # the trap: newest, but empty
    assert Round.objects.latest_reportable_of(alpha) == closed
    job, _how = services.report_request(
        cluster_official, kind="cluster", language="zh-hans", cluster=alpha
    )
    assert job.round == closed
    # The official can still choose the empty round, and the page warns before rendering.
    chosen, _how = services.report_request(
        cluster_official, kind="cluster", language="zh-hans", cluster=alpha, round_=just_opened
    )
    assert chosen.round == just_opened
    client = _english(cluster_official)
    page = client.get(reverse("report-job", args=[chosen.pk])).content.decode()
    assert "no submitted assessment yet" in page
    form = ReportRequestForm(clusters=alpha.__class__.objects.filter(pk=alpha.pk))
    assert form.default_round == closed and form.default_round_submitted == 6
    labels = dict(form.fields["round"].choices)
    assert any("刚开的一轮" in str(label) and "⚠" in str(label) for label in labels.values())


def test_small_default_round_is_warned_about_on_the_form(
    world: dict[str, Any], cluster_official: Any
) -> None:
    version, fw = framework_version()
    alpha = world["alpha"]
    small = make_round(alpha, version, name="小样本轮", opens=T0)
    _submit(small, fw, _firms(alpha, 3, "乙"), 2)
    client = _english(cluster_official)
    page = client.get(reverse("report-index")).content.decode()
    assert "has only 3 submissions" in page


def test_previous_round_on_another_framework_is_not_compared(world: dict[str, Any]) -> None:
    version, fw = framework_version()
    eu_version, eu_fw = _eu()
    alpha = world["alpha"]
    firms = _firms(alpha, 8, "丙")
    oldest = make_round(alpha, version, name="T-1 同框架", opens=T0 - dt.timedelta(days=400))
    _submit(oldest, fw, firms, 3)
    eu_round = make_round(alpha, eu_version, name="T0 EU", opens=T0)
    _submit(eu_round, eu_fw, firms, 4, lift=0.4)
    current = make_round(alpha, version, name="T1 同框架", opens=T0 + dt.timedelta(days=200))
    _submit(current, fw, firms, 5, lift=0.2)

    assert Round.objects.previous_of(current) == oldest
    assert Round.objects.comparable_previous_of(current) == oldest
    assert Round.objects.previous_of(eu_round) is None  # nothing earlier on the EU framework
    report = context.cluster_report(current, language="en")
    assert report.headline.previous_round == "T-1 同框架"
    change = context.change_against_previous(current)
    assert change.previous_round_id == oldest.pk
    assert report.headline.basic_change == change.basic_change is not None
    eu_report = context.cluster_report(eu_round, language="en")
    assert eu_report.headline.previous_round is None
    assert eu_report.headline.basic_change is None and eu_report.headline.advanced_change is None


def test_change_across_versions_only_when_declared_comparable(
    world: dict[str, Any], tmp_path: Path
) -> None:
    v1, fw1 = framework_version()
    v2, fw2 = _second_version(tmp_path)
    alpha = world["alpha"]
    firms = _firms(alpha, 7, "丁")
    before = make_round(alpha, v1, name="第一版轮", opens=T0)
    _submit(before, fw1, firms, 6)
    after = make_round(alpha, v2, name="第二版轮", opens=T0 + dt.timedelta(days=300))
    _submit(after, fw2, firms, 7, lift=0.3)

    head = context.cluster_report(after, language="en").headline
    assert head.previous_round is None and head.basic_change is None
    assert head.incomparable_round == "第一版轮"
    html = render_cluster(after, language="en", with_xlsx=False).html
    assert "There is no comparable earlier round" in html

    framework_version_declare_comparable(v2, v1)
    after.framework_version.refresh_from_db()
    head = context.cluster_report(after, language="en").headline
    assert head.previous_round == "第一版轮" and head.incomparable_round is None
    assert head.basic_change is not None


def test_load_frameworks_declares_comparable_versions(tmp_path: Path) -> None:
    v1, _fw = framework_version()
    v2, _fw2 = _second_version(tmp_path)
    out = io.StringIO()
    call_command(
        "load_frameworks",
        "--no-builtins",
        str(TEST_FRAMEWORK),
        "--comparable",
        "report-test:2=1",
        stdout=out,
    )
    v2.refresh_from_db()
    assert v2.levels_comparable_with == v1
    assert v1.comparable_version_ids() == {v1.pk, v2.pk}
    with pytest.raises(SystemExit):
        call_command(
            "load_frameworks",
            "--no-builtins",
            str(TEST_FRAMEWORK),
            "--comparable",
            "report-test:9=1",
            stderr=io.StringIO(),
        )


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_chinese_pdf_of_an_empty_round_has_no_english(world: dict[str, Any]) -> None:
    version, _fw = framework_version()
    alpha = world["alpha"]
    empty = make_round(alpha, version, name="二〇二六年第一轮", opens=timezone.now())
    invite(empty, _firms(alpha, 5, "戊"))
    rendered = render_cluster(empty, language="zh-hans", with_xlsx=False)
    text = _pdf_text(rendered.pdf)
    assert "No data" not in text and "No data" not in rendered.html
    assert "本轮尚无企业提交评测" in text  # the cover says why the report is empty
    assert "<svg" not in rendered.html and "data:image/svg" not in rendered.html
    # Latin words left in the text: the brand, file formats, the test framework's dimension
    # codes and the methodology's "PostgreSQL percentile_cont"; nothing like "No data".
    words = set(re.findall(r"[A-Za-z]{2,}", text))
    names = {"Gradient", "XLSX", "PDF", "USCC", "pp", "PostgreSQL", "percentile", "cont"}
    assert words <= names | {"base", "ops", "mgmt"}, words


# --- Part 1 and 5: the regional report and page ---------------------------------------------


@pytest.fixture
def region(world: dict[str, Any]) -> dict[str, Any]:
    """Province A: alpha with a 98-firm round on report-test, then a newer 4-firm pilot on the
    EU framework; beta with 6 firms on report-test and a just-opened empty round on it."""
    version, fw = framework_version()
    eu_version, eu_fw = _eu()
    alpha, beta = world["alpha"], world["beta"]
    big_firms = _firms(alpha, 98, "大")
    earlier = make_round(alpha, version, name="甲 T0", opens=T0 - dt.timedelta(days=365))
    _submit(earlier, fw, big_firms[:60], 8)
    big = make_round(alpha, version, name="甲 MIIT 轮", opens=T0)
    invite(big, big_firms + _firms(alpha, 12, "未"))
    _submit(big, fw, big_firms, 9, lift=0.2)
    pilot = make_round(
        alpha, eu_version, name="甲 试点", opens=timezone.now() - dt.timedelta(days=20)
    )
    _submit(pilot, eu_fw, big_firms[:4], 10, lift=0.5)
    small = make_round(beta, version, name="乙 T0", opens=T0 + dt.timedelta(days=10))
    _submit(small, fw, _firms(beta, 6, "乙"), 11)
    make_round(beta, version, name="乙 新开", opens=timezone.now() - dt.timedelta(hours=3))
    return {
        "province": world["province_a"],
        "framework": version.framework,
        "eu": eu_version.framework,
        "big": big,
        "earlier": earlier,
        "pilot": pilot,
        "small": small,
    }


def _row(report: context.RegionReport, cluster_slug: str) -> context.RegionClusterRow:
    return next(r for g in report.groups for r in g.rows if r.cluster_slug == cluster_slug)


def test_small_pilot_round_does_not_push_the_large_round_out(region: dict[str, Any]) -> None:
    province = region["province"]
    assert context.region_default_framework(province) == region["framework"]
    report = context.region_report(province, language="en")  # the default framework
    alpha = _row(report, "alpha")
    assert (alpha.round, alpha.assessed, alpha.invited) == ("甲 MIIT 轮", 98, 110)
    assert alpha.small_sample is False
    assert alpha.previous_round == "甲 T0" and alpha.basic_change is not None
    beta = _row(report, "beta")
    assert beta.round == "乙 T0" and beta.assessed == 6  # not the just-opened round
    assert [g.framework_version for g in report.groups] == ["1"]

    pilot = context.region_report(province, language="en", framework=region["eu"])
    row = _row(pilot, "alpha")
    assert row.assessed == 4 and row.small_sample is True and row.basic_share is not None
    assert pilot.clusters_without_round == (region["small"].cluster.name_for("en"),)
    shared = context.region_report(province, language="en", framework=region["eu"], shareable=True)
    row = _row(shared, "alpha")
    assert row.basic_share is None and row.advanced_share is None and row.homogeneity is None
    assert all(v is None for v in row.dimension_means)
    html = render_region(province, language="en", framework=region["eu"], with_xlsx=False).html
    assert "⚠" in html and "fewer than 5 firms" in html


def test_region_year_picks_the_rounds_of_that_year(region: dict[str, Any]) -> None:
    province = region["province"]
    year = region["earlier"].opens_at.year
    report = context.region_report(
        province, language="en", framework=region["framework"], year=year
    )
    assert _row(report, "alpha").round == "甲 T0"
    assert [r.cluster_slug for g in report.groups for r in g.rows] == ["alpha"]


def test_region_job_records_framework_and_year_in_its_fingerprint(
    region: dict[str, Any], regional_official: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda job_id: None)
    province = region["province"]
    default, _h = services.report_request(
        regional_official, kind="region", language="en", region=province
    )
    assert default.framework == region["framework"] and default.year is None
    eu, _h = services.report_request(
        regional_official, kind="region", language="en", region=province, framework=region["eu"]
    )
    dated, _h = services.report_request(
        regional_official, kind="region", language="en", region=province, year=2024
    )
    assert len({default.fingerprint, eu.fingerprint, dated.fingerprint}) == 3
    assert ReportJob.objects.filter(kind="region").count() == 3
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.report_request(
            regional_official, kind="region", language="en", region=province, year=1900
        )


def _page(client: Client, province: Any, **params: str) -> Any:
    return client.get(reverse("report-region", args=[province.pk]), params)


def test_region_page_shows_the_regional_report_figures(
    region: dict[str, Any], regional_official: Any
) -> None:
    province = region["province"]
    client = _english(regional_official)
    response = _page(client, province)
    assert response.status_code == 200
    shown = response.context["report"]
    expected = context.region_report(province, language="en", framework=region["framework"])
    # One source of truth: the page's figures are the report context's, row for row.
    assert sorted(
        (replace(r) for g in shown.groups for r in g.rows), key=lambda r: r.cluster_slug
    ) == sorted((r for g in expected.groups for r in g.rows), key=lambda r: r.cluster_slug)
    body = response.content.decode()
    alpha = _row(expected, "alpha")
    from assessments import wording

    assert (
        wording.percent(alpha.basic_share) in body and wording.percent(alpha.response_rate) in body
    )
    # The regional PDF's XLSX annex carries the same table.
    rendered = render_region(province, language="en", framework=region["framework"])
    sheet = load_workbook(io.BytesIO(rendered.xlsx), read_only=True)["Comparison 1"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[alpha.cluster][3:9] == (
        alpha.invited,
        alpha.assessed,
        alpha.response_rate,
        alpha.basic_share,
        alpha.advanced_share,
        alpha.basic_change,
    )


def test_region_page_sorts_by_every_column(region: dict[str, Any], regional_official: Any) -> None:
    province = region["province"]
    client = _english(regional_official)
    for key in ("cluster", "invited", "assessed", "response", "basic", "homogeneity"):
        for sort in (key, f"-{key}"):
            rows = _page(client, province, sort=sort).context["report"].groups[0].rows
            assert len(rows) == 2
    up = _page(client, province, sort="assessed").context["report"].groups[0].rows
    down = _page(client, province, sort="-assessed").context["report"].groups[0].rows
    assert [r.assessed for r in up] == [6, 98] and [r.assessed for r in down] == [98, 6]
    odd = _page(client, province, sort="'; drop table")
    assert odd.status_code == 200  # an unknown column falls back to the default sort


def test_region_page_flags_small_samples_and_rejects_a_bad_year(
    region: dict[str, Any], regional_official: Any
) -> None:
    province = region["province"]
    client = _english(regional_official)
    body = _page(client, province, framework=region["eu"].slug).content.decode()
    assert "small-sample" in body and "⚠ 4 firms" in body
    bad = _page(client, province, year="20x6")
    assert (
        bad.status_code == 400
        and "Year: enter a year between 2000 and 2100" in bad.content.decode()
    )


def test_region_page_is_404_outside_the_scope(
    region: dict[str, Any], regional_official: Any, cluster_official: Any, world: dict[str, Any]
) -> None:
    client = _english(regional_official)
    assert _page(client, world["province_b"]).status_code == 404
    assert _page(client, world["city_a"]).status_code == 200  # a sub-region is in scope
    client.force_login(cluster_official)
    assert _page(client, region["province"]).status_code == 404


def test_home_links_the_regional_official_to_the_comparison(
    region: dict[str, Any], regional_official: Any
) -> None:
    client = _english(regional_official)
    body = client.get(reverse("home")).content.decode()
    assert reverse("report-region", args=[region["province"].pk]) in body


def test_region_report_queries_do_not_grow_with_clusters_or_firms(
    region: dict[str, Any], world: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ClusterFactory

    province = region["province"]
    version = region["big"].framework_version
    fw = framework_version()[1]

    from reports.models import RoundFigures

    def queries() -> int:
        # Every round's figures computed each time (none stored), so that both counts take
        # the same path; the parsed frameworks are cached per process by the warm-up below.
        RoundFigures.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            context.region_report(province, language="en", framework=region["framework"])
        return len(captured)

    queries()
    before = queries()
    for i in range(3):
        cluster = ClusterFactory(slug=f"extra-{i}", region=world["city_a"])
        old = make_round(cluster, version, name=f"旧{i}", opens=T0)
        _submit(old, fw, _firms(cluster, 12, f"增{i}"), 30 + i)
        new = make_round(cluster, version, name=f"新{i}", opens=T0 + dt.timedelta(days=90))
        _submit(new, fw, _firms(cluster, 7, f"新{i}"), 40 + i)
    assert queries() == before
