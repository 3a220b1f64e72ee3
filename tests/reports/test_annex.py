"""The XLSX annex in its own task (issue 14): written by XlsxWriter with the same cells, guard
and layout as openpyxl wrote them; streamed from the database; rendered beside the PDF, which
is downloadable first; a failed annex has its own message and never fails the PDF; the same
delivery rules (claim, redelivery, one file) and clean-up as the PDF."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gradient import audit
from reports import context, rendering, services, tasks, xlsx
from reports.models import ReportJob
from reports.rows import firm_rows
from tests.clusters.test_sheet_layout import _widths

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://example.com","x")', "+1", "-2", "@SUM(A1)", "#N/A"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The tasks handed to Celery (nothing runs): ("both", id) or ("annex", id)."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(services, "_send", lambda job_id: calls.append(("both", job_id)))
    monkeypatch.setattr(services, "_send_annex", lambda job_id: calls.append(("annex", job_id)))
    return calls


def _request(user: Any, scored: Any, capture: Any, **kw: Any) -> tuple[ReportJob, str]:
    with capture(execute=True):
        return services.report_request(
            user, kind="cluster", language=kw.pop("language", "en"), cluster=scored.round.cluster
        )


def _cells(data: bytes) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Per sheet: its frozen pane, widths and every non-empty cell with its value, type,
    quote prefix and, for header cells, the fill and bold font."""
    book = load_workbook(io.BytesIO(data))
    out = []
    for ws in book.worksheets:
        cells = [
            (
                c.coordinate,
                c.value,
                c.data_type,
                bool(c.quotePrefix),
                # The colour without its alpha byte, which Excel ignores (openpyxl writes 00,
                # XlsxWriter FF).
                c.fill.fgColor.rgb[-6:] if c.fill.fill_type == "solid" else None,
                bool(c.font.b),
                bool(c.alignment.wrap_text),
            )
            for row in ws.iter_rows()
            for c in row
            if c.value is not None
        ]
        out.append((ws.title, [(ws.freeze_panes,), tuple(sorted(_widths(ws).items())), *cells]))
    return out


def _hostile_names(scored: Any) -> None:
    for firm, name in zip(scored.firms, HOSTILE, strict=False):
        firm.name = name
        firm.save()


@pytest.mark.parametrize("shareable", [False, True])
def test_xlsxwriter_writes_the_same_cells_as_openpyxl(scored: Any, shareable: bool) -> None:
    _hostile_names(scored)
    report = context.cluster_report(scored.round, language="zh-hans", shareable=shareable)
    written = {w: _cells(xlsx.render_xlsx(report, scored.round, writer=w)) for w in xlsx.WRITERS}
    assert written["xlsxwriter"] == written["openpyxl"]
    sheets = [title for title, _cells_ in written["xlsxwriter"]]
    assert len(sheets) == (2 if shareable else 5)


def test_the_region_annex_and_the_results_export_match_openpyxl_too(
    scored: Any, world: Any, tmp_path: Path
) -> None:
    from reports.exports import write_xlsx

    _hostile_names(scored)
    report = context.region_report(world["province_a"], language="en")
    region = {w: _cells(xlsx.render_region_xlsx(report, writer=w)) for w in xlsx.WRITERS}
    assert region["xlsxwriter"] == region["openpyxl"] and len(region["openpyxl"]) >= 2
    exports = {}
    for writer in xlsx.WRITERS:
        target = tmp_path / f"{writer}.xlsx"
        assert write_xlsx(scored.round, target, writer=writer) == len(scored.results)
        exports[writer] = _cells(target.read_bytes())
    assert exports["xlsxwriter"] == exports["openpyxl"]


def test_formula_like_and_link_like_text_stays_plain_text(scored: Any) -> None:
    _hostile_names(scored)
    scored.firms[len(HOSTILE)].name = "http://example.com/firm"
    scored.firms[len(HOSTILE)].save()
    out = rendering.render_cluster_annex(scored.round, language="en")
    book = load_workbook(io.BytesIO(out.xlsx))
    for sheet in ("Firms", "Attainment"):
        ws = book[sheet]
        names = {row[1].value: row[1] for row in ws.iter_rows(min_row=2)}
        for name in HOSTILE:
            cell = names[name]
            assert (cell.data_type, cell.quotePrefix) == ("s", True), (sheet, name)
        link = names["http://example.com/firm"]
        assert link.data_type == "s" and not link.quotePrefix and link.hyperlink is None
        assert not ws._hyperlinks


def test_firm_rows_stream_in_id_order_and_join_their_scores_across_chunks(scored: Any) -> None:
    whole = list(firm_rows(scored.round))
    assert [r.assessment_id for r in whole] == sorted(r.assessment_id for r in whole)
    assert len(whole) == len(scored.results)
    # Chunks of 3 rows: the scores, read in step, still land on their own assessment.
    assert list(firm_rows(scored.round, chunk=3)) == whole
    floats = list(firm_rows(scored.round, chunk=3, as_float=True))
    by_firm = {r.firm: r for r in whole}
    for row in floats:
        expected = [None if d is None else float(d) for d in by_firm[row.firm].dimensions]
        assert [None if d is None else pytest.approx(d) for d in row.dimensions] == expected
    codes = [d.code for d in scored.fw.dimensions]
    names = {f.pk: f.name for f in scored.firms}
    for firm_id, result in scored.results.items():
        row = by_firm[names[firm_id]]
        assert row.dimensions == tuple(result.dimensions[c] for c in codes)


def test_the_annex_reads_the_same_number_of_queries_whatever_the_firms(
    scored: Any, django_assert_max_num_queries: Any
) -> None:
    report = context.cluster_report(scored.round, language="en")
    with django_assert_max_num_queries(12):  # the firm, score and attainment streams, …
        xlsx.render_xlsx(report, scored.round)


def test_the_pdf_is_ready_before_the_annex_and_each_has_its_own_state(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job, how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    assert how == "queued" and sent == [("both", job.pk)]
    job.refresh_from_db()
    assert job.annex_status == "pending" and job.annex_preparing
    assert services.report_job_run(job.pk, task_id="pdf-1") == "done"
    job.refresh_from_db()
    assert (job.status, job.annex_status, job.xlsx.name) == ("done", "pending", "")
    client = Client()
    client.force_login(cluster_official)
    api = client.get(reverse("api-report-job", args=[job.pk])).json()
    assert api["status"] == "done" and api["annex_status"] == "pending"
    assert api["pdf_url"] and api["xlsx_url"] is None and list(api["api_files"]) == ["pdf"]
    busy = client.get(reverse("api-report-file", args=[job.pk, "xlsx"]))
    assert busy.status_code == 409 and busy.json()["code"] == "annex_pending"
    assert services.report_annex_run(job.pk, task_id="annex-1") == "done"
    job.refresh_from_db()
    assert (job.status, job.annex_status, job.annex_claimed_by) == ("done", "done", "annex-1")
    assert job.timings["pdf"] > 0 and "xlsx" not in job.timings and job.annex_timings["xlsx"] > 0
    api = client.get(reverse("api-report-job", args=[job.pk])).json()
    assert (
        api["annex_status"] == "done"
        and api["xlsx_url"]
        and set(api["api_files"])
        == {
            "pdf",
            "xlsx",
        }
    )
    got = client.get(api["api_files"]["xlsx"])
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"PK")


def test_an_annex_ready_first_is_offered_while_the_pdf_renders(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    assert services.report_annex_run(job.pk) == "done"
    client = Client()
    client.force_login(cluster_official)
    body = client.get(reverse("report-progress", args=[job.pk])).content.decode()
    assert "hx-get" in body and reverse("report-download", args=[job.pk, "xlsx"]) in body
    assert reverse("report-download", args=[job.pk, "pdf"]) not in body
    assert client.get(reverse("report-download", args=[job.pk, "pdf"])).status_code == 409
    xlsx_file = client.get(reverse("report-download", args=[job.pk, "xlsx"]))
    assert xlsx_file.status_code == 200
    job.refresh_from_db()
    assert job.expires_at is not None  # the clean-up removes the file even without a PDF
    assert services.report_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.xlsx.name and job.status == "done"  # the PDF's finish left the annex alone


def test_a_failed_annex_has_its_own_message_and_does_not_fail_the_pdf(
    scored: Any,
    cluster_official: Any,
    sent: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(rendering, "render_cluster_annex", broken)
    assert tasks.render_annex.apply(args=[job.pk]).get() == "failed"
    assert services.report_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.error, job.annex_status) == ("done", "", "failed")
    assert "XLSX annex could not be prepared (ValueError)" in job.annex_error
    assert str(job.pk) in job.annex_error and job.annex_failed and not job.annex_ready
    client = Client()
    client.force_login(cluster_official)
    body = client.get(reverse("report-progress", args=[job.pk])).content.decode()
    assert "hx-get" not in body and "could not be prepared (ValueError)" in body
    assert reverse("report-download", args=[job.pk, "pdf"]) in body
    assert client.get(reverse("report-download", args=[job.pk, "pdf"])).status_code == 200
    refused = client.get(reverse("report-download", args=[job.pk, "xlsx"]))
    assert refused.status_code == 409 and "could not be prepared" in refused.content.decode()
    listing = client.get(reverse("report-index")).content.decode()  # the page is in Chinese
    assert "XLSX附件生成失败" in listing
    # Asking again serves the PDF as it is and prepares only the annex anew.
    monkeypatch.undo()
    monkeypatch.setattr(services, "_send", lambda job_id: sent.append(("both", job_id)))
    monkeypatch.setattr(services, "_send_annex", lambda job_id: sent.append(("annex", job_id)))
    again, how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    assert (again.pk, how) == (job.pk, "cached") and sent[-1] == ("annex", job.pk)
    job.refresh_from_db()
    assert (job.annex_status, job.annex_error, job.annex_attempts) == ("pending", "", 0)
    assert job.annex_queued_at is not None and job.pdf.name
    assert services.report_annex_run(job.pk) == "done"
    assert client.get(reverse("report-download", args=[job.pk, "xlsx"])).status_code == 200


def test_the_annex_download_is_audited(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from auditlog.models import LogEntry

    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    services.report_job_run(job.pk)
    client = Client()
    client.force_login(cluster_official)
    client.get(reverse("report-download", args=[job.pk, "xlsx"]))  # 409: not recorded
    services.report_annex_run(job.pk)
    assert client.get(reverse("report-download", args=[job.pk, "xlsx"])).status_code == 200
    entries = LogEntry.objects.filter(additional_data__event=audit.REPORT_DOWNLOADED)
    assert [(e.additional_data["format"], e.object_id) for e in entries] == [("xlsx", job.pk)]


def test_the_annex_follows_the_delivery_rules(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    assert services.report_annex_claim(job.pk, task_id="a1")
    assert not services.report_annex_claim(job.pk, task_id="a1")  # a plain duplicate
    assert not services.report_annex_claim(job.pk, task_id="a2", redelivered=True)
    assert services.report_annex_claim(job.pk, task_id="a1", redelivered=True)  # given back
    old = timezone.now() - dt.timedelta(seconds=services.hard_time_limit() + 60)
    ReportJob.objects.filter(pk=job.pk).update(annex_started_at=old)
    assert services.report_annex_claim(job.pk, task_id="a3")  # a dead claim
    job.refresh_from_db()
    assert (job.annex_claimed_by, job.annex_attempts, job.status) == ("a3", 3, "pending")
    ReportJob.objects.filter(pk=job.pk).update(annex_started_at=old)
    assert services.report_annex_run(job.pk, task_id="a4") == "skipped"
    job.refresh_from_db()
    assert job.annex_status == "failed" and "preparing the XLSX annex" in job.annex_error
    assert job.status == "pending"  # the PDF is untouched


def test_an_annex_taken_over_meanwhile_leaves_no_file(
    scored: Any,
    cluster_official: Any,
    sent: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    real = rendering.render_cluster_annex

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        ReportJob.objects.filter(pk=job.pk).update(annex_claimed_by="someone-else")
        return out

    monkeypatch.setattr(rendering, "render_cluster_annex", meanwhile)
    media = Path(ReportJob().xlsx.storage.location)
    assert services.report_annex_run(job.pk, task_id="mine") == "failed"
    assert not list(media.rglob("*.xlsx"))
    job.refresh_from_db()
    assert job.xlsx.name == "" and job.annex_status == "running"


def test_an_annex_transient_error_is_released_then_fails_after_the_last_retry(
    scored: Any,
    cluster_official: Any,
    sent: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(rendering, "render_cluster_annex", locked)
    with pytest.raises(services.TransientReportError):
        services.report_annex_run(job.pk)
    job.refresh_from_db()
    assert (job.annex_status, job.annex_attempts) == ("pending", 0)
    result = tasks.render_annex.apply(args=[job.pk], retries=tasks.render_annex.max_retries)
    assert result.get() == "failed"
    job.refresh_from_db()
    assert job.annex_status == "failed" and "database was unavailable" in job.annex_error
    assert job.status == "pending"


def test_deleting_the_round_fails_the_annex_with_the_job(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.reports.builders import make_round

    later = make_round(
        scored.round.cluster,
        scored.round.framework_version,
        name="Round T2",
        opens=scored.round.opens_at + dt.timedelta(days=400),
    )
    with django_capture_on_commit_callbacks(execute=True):
        job, _how = services.report_request(
            cluster_official, kind="cluster", language="en", cluster=later.cluster, round_=later
        )
    later.delete()
    job.refresh_from_db()
    assert (job.status, job.annex_status) == ("failed", "failed")
    assert "no longer exists" in job.annex_error
    assert services.report_annex_run(job.pk) == "skipped"


def test_cleanup_and_requeue_look_after_annexes(
    scored: Any, cluster_official: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job, _how = _request(cluster_official, scored, django_capture_on_commit_callbacks)
    services.report_job_run(job.pk)
    now = timezone.now()
    base = {"kind": "cluster", "round": job.round, "cluster": job.cluster, "language": "en"}
    dead = ReportJob.objects.create(
        **base,
        fingerprint="d" * 64,
        status="done",
        annex_status="running",
        annex_started_at=now - dt.timedelta(hours=2),
        annex_attempts=1,
    )
    given_up = ReportJob.objects.create(
        **base,
        fingerprint="g" * 64,
        status="done",
        annex_status="running",
        annex_started_at=now - dt.timedelta(hours=2),
        annex_attempts=services.MAX_ATTEMPTS,
    )
    forgotten = ReportJob.objects.create(
        **base,
        fingerprint="f" * 64,
        status="done",
        annex_status="pending",
        annex_queued_at=now - dt.timedelta(days=1),
    )
    counts = services.reports_cleanup(now=now)
    assert (counts["annex_requeued"], counts["annex_failed"]) == (1, 2)
    for row in (dead, given_up, forgotten):
        row.refresh_from_db()
    assert dead.annex_status == "pending" and ("annex", dead.pk) in sent
    assert given_up.annex_status == "failed" and "worker stopped" in given_up.annex_error
    assert forgotten.annex_status == "failed" and "No worker picked up" in forgotten.annex_error
    # An annex whose own task could not be sent (the PDF's was) is sent by requeue_reports.
    ReportJob.objects.filter(pk=dead.pk).update(annex_queued_at=None)
    sent.clear()
    assert services.reports_requeue() == 1 and sent == [("annex", dead.pk)]
    assert services.reports_requeue() == 0


@pytest.mark.parametrize("kind", ["region", "programme"])
def test_region_and_programme_jobs_render_their_annex_in_its_own_task(
    kind: str, world: Any, scored: Any, regional_official: Any, sent: Any
) -> None:
    if kind == "region":
        job, _how = services.report_request(
            regional_official, kind="region", language="en", region=world["province_a"]
        )
    else:
        from tests.programmes.builders import build_programme, standard_plans

        built = build_programme(standard_plans())
        job, _how = services.report_request(
            built.official, kind="programme", language="en", programme=built.programme
        )
    assert services.report_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.pdf.name and not job.xlsx.name and job.annex_status == "pending"
    assert services.report_annex_run(job.pk) == "done"
    job.refresh_from_db()
    assert job.xlsx.name.endswith(f"{kind}-{job.pk}-en.xlsx") and job.annex_status == "done"
    assert load_workbook(io.BytesIO(job.xlsx.read()), read_only=True).sheetnames


@pytest.mark.django_db(transaction=True)
def test_migration_gives_unfinished_jobs_an_annex_to_come() -> None:
    """reports 0011 on the database in use: a job queued or rendering at deploy time had one
    task, which now renders only the PDF; its annex is marked to come (requeue sends it)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("reports", "0010_reportjob_delivery")]
    after = [("reports", "0011_reportjob_annex")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("reports", "ReportJob")
        for status in ("pending", "running", "done", "failed"):
            old.objects.create(kind="region", status=status, fingerprint=status)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("reports", "ReportJob")
        assert dict(new.objects.values_list("fingerprint", "annex_status")) == {
            "pending": "pending",
            "running": "pending",
            "done": "",
            "failed": "",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
