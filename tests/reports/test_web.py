"""Report pages and API: request, progress polling, failure message, permission-checked download."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reports import services
from reports.models import ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_celery(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    return sent


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_official_requests_a_report_and_watches_progress(
    scored: Any,
    cluster_official: Any,
    no_celery: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = login(cluster_official)
    page = client.get(reverse("report-index"))
    assert page.status_code == 200 and scored.round.cluster.slug in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("report-request"),
            {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
        )
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("report-job", args=[job.pk])
    assert no_celery == [job.pk]
    fragment = client.get(reverse("report-progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in body and 'aria-valuenow="0"' in body
    ReportJob.objects.filter(pk=job.pk).update(status="running", progress=45)
    body = client.get(reverse("report-progress", args=[job.pk])).content.decode()
    assert 'aria-valuenow="45"' in body and "hx-get" in body
    assert client.get(reverse("report-download", args=[job.pk, "pdf"])).status_code == 409
    ReportJob.objects.filter(pk=job.pk).update(status="pending")
    services.report_job_run(job.pk)
    # The PDF is ready; the annex, rendered by its own task, is still being prepared.
    body = client.get(reverse("report-progress", args=[job.pk])).content.decode()
    assert reverse("report-download", args=[job.pk, "pdf"]) in body
    assert reverse("report-download", args=[job.pk, "xlsx"]) not in body
    assert 'annex-state" role="status"' in body and "hx-get" in body  # still polling
    pdf = client.get(reverse("report-download", args=[job.pk, "pdf"]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    early = client.get(reverse("report-download", args=[job.pk, "xlsx"]))
    text = early.content.decode()  # in the page's language, whichever it is
    assert early.status_code == 409 and ("being prepared" in text or "XLSX附件正在准备中" in text)
    assert services.report_annex_run(job.pk) == "done"
    body = client.get(reverse("report-progress", args=[job.pk])).content.decode()
    assert "hx-get" not in body  # polling stops when both are ready
    assert reverse("report-download", args=[job.pk, "xlsx"]) in body
    xlsx = client.get(reverse("report-download", args=[job.pk, "xlsx"]))
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content).startswith(b"PK")


def test_download_is_refused_outside_the_scope(
    scored: Any,
    cluster_official: Any,
    regional_official: Any,
    outsider: Any,
    firm_user: Any,
    no_celery: list[int],
) -> None:
    job, _ = services.report_request(
        cluster_official, kind="cluster", language="en", cluster=scored.round.cluster
    )
    services.report_job_run(job.pk)
    url = reverse("report-download", args=[job.pk, "pdf"])
    assert login(regional_official).get(url).status_code == 200  # alpha lies in province A
    for user in (outsider, firm_user):
        assert login(user).get(url).status_code == 404
        assert login(user).get(reverse("report-job", args=[job.pk])).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert (
        login(cluster_official).get(reverse("report-download", args=[job.pk, "exe"])).status_code
        == 404
    )


def test_failed_job_shows_its_message(
    scored: Any, cluster_official: Any, no_celery: list[int]
) -> None:
    job, _ = services.report_request(
        cluster_official, kind="cluster", language="en", cluster=scored.round.cluster
    )
    services.report_job_fail(job.pk, "The round or region of this report no longer exists.")
    client = login(cluster_official)
    body = client.get(reverse("report-job", args=[job.pk])).content.decode()
    assert "no longer exists" in body and 'role="alert"' in body
    response = client.get(reverse("report-download", args=[job.pk, "pdf"]))
    assert response.status_code == 409 and "no longer exists" in response.content.decode()


def test_bad_request_gets_a_clear_message_not_a_500(
    scored: Any, cluster_official: Any, world: Any, no_celery: list[int]
) -> None:
    client = login(cluster_official)
    response = client.post(reverse("report-request"), {"kind": "cluster", "language": "en"})
    assert response.status_code == 400
    assert "Choose a cluster" in response.content.decode() or "选择" in response.content.decode()
    response = client.post(
        reverse("report-request"),
        {"kind": "cluster", "cluster": world["gamma"].slug, "language": "en"},
    )
    assert response.status_code == 400  # gamma is not offered to this official
    assert ReportJob.objects.count() == 0


def test_api_request_and_status(
    scored: Any, cluster_official: Any, outsider: Any, no_celery: list[int]
) -> None:
    client = login(cluster_official)
    response = client.post(
        reverse("api-report-request"),
        {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
        content_type="application/json",
    )
    assert response.status_code == 202 and response.json()["served"] == "queued"
    job_id = response.json()["id"]
    again = client.post(
        reverse("api-report-request"),
        {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
        content_type="application/json",
    )
    assert again.json() | {} and again.json()["id"] == job_id and again.json()["served"] == "reused"
    services.report_job_run(job_id)
    status = client.get(reverse("api-report-job", args=[job_id])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["pdf_url"].endswith(reverse("report-download", args=[job_id, "pdf"]))
    assert login(outsider).get(reverse("api-report-job", args=[job_id])).status_code == 404
    denied = login(outsider).post(
        reverse("api-report-request"),
        {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
        content_type="application/json",
    )
    assert denied.status_code == 404  # outside the scope reads as not found (issue 8)


def test_home_page_shows_the_reports_panel_to_officials_only(
    cluster_official: Any, firm_user: Any
) -> None:
    assert 'id="reports-panel"' in login(cluster_official).get("/").content.decode()
    assert 'id="reports-panel"' not in login(firm_user).get("/").content.decode()


def test_regional_official_requests_a_regional_report(
    scored: Any,
    regional_official: Any,
    cluster_official: Any,
    world: Any,
    no_celery: list[int],
) -> None:
    import io

    from pypdf import PdfReader

    client = login(regional_official)
    response = client.post(
        reverse("report-request"),
        {"kind": "region", "region": world["province_a"].pk, "language": "en"},
    )
    job = ReportJob.objects.get()
    assert response.status_code == 302 and job.kind == "region"
    assert services.report_job_run(job.pk) == "done"
    pdf = client.get(reverse("report-download", args=[job.pk, "pdf"]))
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages
    )
    assert world["alpha"].name_en in text and world["beta"].name_en in text
    # A cluster official is offered no regional report, and cannot fetch this one.
    page = login(cluster_official).get(reverse("report-index")).content.decode()
    assert 'name="region"' not in page
    url = reverse("report-download", args=[job.pk, "pdf"])
    assert login(cluster_official).get(url).status_code == 404


def test_job_page_and_list_say_what_the_report_covers(
    scored: Any, cluster_official: Any, no_celery: list[int]
) -> None:
    """An official with several reports can tell them apart: cluster, round and language in
    words, never a raw language code."""
    client = login(cluster_official)
    client.post(
        reverse("report-request"),
        {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
    )
    job = ReportJob.objects.get()
    subject = f"{scored.round.cluster.name} · {scored.round.name}"
    page = client.get(reverse("report-job", args=[job.pk])).content.decode()
    assert subject in page and "English" in page
    listing = client.get(reverse("report-index")).content.decode()
    assert subject in listing
    assert "<td>en</td>" not in listing and "集群报告 · English" in listing


def test_reports_page_tells_a_firm_user_it_is_for_officials(firm_user: Any) -> None:
    page = login(firm_user).get(reverse("report-index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    assert page.status_code == 200
    assert "报告供负责产业集群或地区的管理人员使用" in body
    assert 'name="kind"' not in body  # no form that can only fail


def test_reports_page_preselects_an_officials_only_cluster(cluster_official: Any) -> None:
    from clusters.selectors import clusters_visible_to

    (only,) = clusters_visible_to(cluster_official)
    body = login(cluster_official).get(reverse("report-index")).content.decode()
    assert f'<option value="{only.slug}" selected>' in body


def test_report_job_admin_labels_are_chinese(
    scored: Any, staff_user: Any, no_celery: list[int]
) -> None:
    client = login(staff_user)
    client.post(
        reverse("report-request"),
        {"kind": "cluster", "cluster": scored.round.cluster.slug, "language": "en"},
    )
    job = ReportJob.objects.get()
    html = client.get(
        reverse("admin:reports_reportjob_change", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for english in ("Requested by", "Expires at", "Fingerprint", "Timings"):
        assert english not in html
    assert "申请人" in html
