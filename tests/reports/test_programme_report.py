"""The programme report (issue 13): rendered for real (WeasyPrint, text read back with pypdf;
the annex with openpyxl) in both languages, its figures checked against values computed here
from the stored rows; the shareable edition's suppression; the request's scope; the job."""

from __future__ import annotations

import io
import statistics as pystats
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from programmes.models import RetrofitProject
from reports import services
from reports.models import ReportJob
from reports.rendering import render_programme
from reports.selectors import TargetNotFound
from tests.factories import OfficialScopeFactory, RegionFactory, UserFactory
from tests.programmes.builders import build_programme, standard_plans
from tests.programmes.expected import _compared, _self_rank, _stored, _verified_rank

pytestmark = pytest.mark.django_db
ACCEPTED = RetrofitProject.Stage.ACCEPTED


@pytest.fixture
def built() -> Any:
    return build_programme(standard_plans(), firm_names=[f"企业Firm{i:02d}" for i in range(1, 13)])


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _expected(built: Any) -> dict[str, Any]:
    stored = _stored(built)
    compared = _compared(stored)
    target_rank = built.fw.level_rank(built.programme.target_level)
    reached = sum(1 for s in compared if s["after"] >= target_rank)
    linked = {}
    for s in stored:
        for a in (s["project"].baseline, s["project"].acceptance):
            if a is not None:
                linked[a.pk] = (_self_rank(a), _verified_rank(a))
    verified = [(x, v) for x, v in linked.values() if v is not None]
    cards = {}
    for provider in built.providers:
        mine = [s for s in stored if s["provider"] == provider.pk]
        accepted = [s for s in mine if s["stage"] == ACCEPTED]
        days = [s["days"] for s in accepted]
        ratings = [s["rating"] for s in mine if s["rating"] is not None]
        gains = [s["after"] - s["before"] for s in _compared(mine)]
        cards[provider.name] = {
            "projects": len(mine),
            "accepted": len(accepted),
            "share": f"{100.0 * len(accepted) / len(mine):.1f}%",
            "median": f"{float(pystats.median(days)):.1f}",
            "rating": f"{sum(ratings) / len(ratings):.2f}",
            "gain": sum(gains) / len(gains),
        }
    return {
        "stored": stored,
        "compared": len(compared),
        "reached": reached,
        "progress": f"{100.0 * reached / built.programme.target_firms:.1f}%",
        "verified_share": f"{100.0 * len(verified) / len(linked):.1f}%",
        "exact": f"{100.0 * sum(x == v for x, v in verified) / len(verified):.1f}%",
        "over": f"{100.0 * sum(x > v for x, v in verified) / len(verified):.1f}%",
        "cards": cards,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_programme_pdf_shows_the_figures_computed_from_the_stored_rows(
    built: Any, language: str
) -> None:
    exp = _expected(built)
    out = render_programme(built.programme, language=language)
    text = _pdf_text(out.pdf)
    flat = text.replace("\n", " ")
    assert built.programme.name_for(language) in flat
    assert built.region.name_for(language) in flat
    assert exp["progress"] in flat and exp["verified_share"] in flat
    assert exp["exact"] in flat and exp["over"] in flat
    for name, card in exp["cards"].items():
        assert name in flat
        assert card["share"] in flat and card["median"] in flat and card["rating"] in flat
    heading = "转型计划报告" if language == "zh-hans" else "Programme report"
    assert heading in flat
    if language == "en":
        assert "Before and after: the transition matrix" in flat
        assert "How levels are compared" in flat
    else:
        assert "转换矩阵" in flat or "前后对比" in flat
    # The officials' edition flags the small provider's figures.
    assert "*" in flat


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_programme_xlsx_has_a_row_per_project_and_the_scorecards(built: Any, language: str) -> None:
    exp = _expected(built)
    out = render_programme(built.programme, language=language)
    sheets = _sheets(out.xlsx)
    assert len(sheets) == 7
    projects = next(rows for title, rows in sheets.items() if len(rows) == 13)
    firms = {row[0] for row in projects[1:]}
    assert firms == {s["project"].firm.name for s in exp["stored"]}
    by_firm = {row[0]: row for row in projects[1:]}
    for s in exp["stored"]:
        row = by_firm[s["project"].firm.name]
        assert row[1] == s["project"].firm.uscc
        gain = s["after"] - s["before"] if s in _compared(exp["stored"]) else None
        assert row[12] == gain
        assert row[13] == (s["days"] if s["stage"] == ACCEPTED else None)
        assert row[14] == s["rating"]
    cards = next(rows for rows in sheets.values() if rows and len(rows[0]) == 14)
    for row in cards[1:]:
        card = exp["cards"][row[0]]
        assert (row[1], row[2]) == (card["projects"], card["accepted"])
        assert row[8] == pytest.approx(round(card["gain"], 2))
    summary = list(sheets.values())[0]
    values = {row[0]: row[1] for row in summary}
    assert exp["reached"] in values.values() and exp["compared"] in values.values()


def test_shareable_edition_names_no_firm_and_suppresses_small_figures(built: Any) -> None:
    exp = _expected(built)
    out = render_programme(built.programme, language="en", shareable=True)
    flat = _pdf_text(out.pdf).replace("\n", " ")
    assert "企业Firm" not in flat
    assert "Shareable edition" in flat
    small = exp["cards"]["服务商乙"]
    assert small["projects"] == 4
    assert small["rating"] not in flat  # the small provider's mean rating is a dash
    big = exp["cards"]["服务商甲"]
    assert big["share"] in flat
    sheets = _sheets(out.xlsx)
    assert len(sheets) == 6  # no per-project sheet
    cells = {str(c) for rows in sheets.values() for row in rows for c in row if c is not None}
    assert not any("企业Firm" in c for c in cells)
    cards = next(rows for rows in sheets.values() if rows and len(rows[0]) == 14)
    small_row = next(row for row in cards if row[0] == "服务商乙")
    assert small_row[3] is None and small_row[11] is None and small_row[1] == 4


def test_request_is_scoped_like_a_missing_programme(built: Any, client: Any) -> None:
    outsider = UserFactory(username="outside-official")
    OfficialScopeFactory(user=outsider, region=RegionFactory(code="990000"))
    with translation.override("en"), pytest.raises(TargetNotFound) as refused:
        services.report_request(
            outsider, kind="programme", language="en", programme=built.programme
        )
    assert refused.value.message == "No such programme."
    client.force_login(outsider)
    url = reverse("report-programme-request", kwargs={"programme_id": built.programme.pk})
    missing = reverse("report-programme-request", kwargs={"programme_id": 999_999})
    a = client.post(url, {"language": "en"})
    b = client.post(missing, {"language": "en"})
    assert a.status_code == b.status_code == 404
    assert ReportJob.objects.count() == 0


def test_request_with_a_bad_language_answers_400_in_words(built: Any, client: Any) -> None:
    client.force_login(built.official)
    url = reverse("report-programme-request", kwargs={"programme_id": built.programme.pk})
    got = client.post(url, {"language": "fr"}, HTTP_ACCEPT_LANGUAGE="en")
    assert got.status_code == 400
    assert "Select a valid choice" in got.content.decode()
    assert ReportJob.objects.count() == 0


def test_the_worker_renders_the_job_and_a_second_request_is_served_from_cache(
    built: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    client.force_login(built.official)
    url = reverse("report-programme-request", kwargs={"programme_id": built.programme.pk})
    got = client.post(url, {"language": "zh-hans"})
    job = ReportJob.objects.get()
    assert got.status_code == 302 and got["Location"] == reverse("report-job", args=[job.pk])
    assert (job.kind, job.programme_id, job.language) == (
        "programme",
        built.programme.pk,
        "zh-hans",
    )
    assert services.report_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.pdf.read().startswith(b"%PDF") and not job.xlsx  # the annex has its own task
    assert job.annex_status == "pending" and job.annex_preparing
    assert services.report_annex_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.annex_status == "done" and _sheets(job.xlsx.read())
    again, how = services.report_request(
        built.official, kind="programme", language="zh-hans", programme=built.programme
    )
    assert (again.pk, how) == (job.pk, "cached")
    # A stage change alters the inputs: a new job.
    project = next(p for p in built.projects if p.stage == RetrofitProject.Stage.DIAGNOSED)
    from programmes.services import project_move

    project_move(project, RetrofitProject.Stage.ABANDONED, user=built.official)
    fresh, how = services.report_request(
        built.official, kind="programme", language="zh-hans", programme=built.programme
    )
    assert how == "queued" and fresh.pk != job.pk
    # The job page and the download are the official's; the job's subject is named.
    page = client.get(reverse("report-job", args=[job.pk]))
    assert page.status_code == 200 and built.programme.name_zh in page.content.decode()
    assert client.get(reverse("report-download", args=[job.pk, "pdf"])).status_code == 200


def test_deleting_the_programme_fails_its_jobs(built: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    job, _how = services.report_request(
        built.official, kind="programme", language="en", programme=built.programme
    )
    RetrofitProject.objects.filter(programme=built.programme).delete()
    built.programme.delete()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and job.programme_id is None
    assert "programme of this report no longer exists" in job.error


def test_the_request_include_shows_only_to_who_may_request(built: Any, rf: Any) -> None:
    from django.template import Context, Template

    template = Template(
        '{% include "reports/_programme_report_request.html" with programme=programme %}'
    )
    for user, shown in ((built.official, True), (built.assessor, False)):
        request = rf.get("/")
        request.user = user
        html = template.render(Context({"programme": built.programme, "request": request}))
        assert ("report-programme-request" in html or "/request/" in html) == shown
