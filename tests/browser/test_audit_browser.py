"""A cluster's report downloads and the audit trail in the admin, in Chromium (issue 14,
audit): 375 px and 1366 px, Chinese and English; nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from reports.models import ReportJob
from tests.factories import ClusterFactory, OfficialScopeFactory, RegionFactory
from tests.reports.builders import framework_version, make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
PASSWORD = "cluster-official-2026"


@pytest.fixture
def setting(transactional_db: None) -> dict[str, Any]:
    """A cluster with a finished report, its official, a regional official and staff."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    version, _fw = framework_version()
    region = RegionFactory(code="320583", name_zh="昆山市", name_en="Kunshan", level="county")
    cluster = ClusterFactory(
        slug="kunshan-moulds", name_zh="昆山模具产业集群", name_en="Kunshan moulds", region=region
    )
    round_ = make_round(cluster, version, name="2026 年复评", opens=timezone.now())
    official = users.create_user("li.na", password=PASSWORD, first_name="娜", last_name="李")
    OfficialScopeFactory(user=official, cluster=cluster)
    regional = users.create_user("wang.wei.regional.bureau", password=PASSWORD)
    OfficialScopeFactory(user=regional, region=region)
    users.create_superuser("admin.zhao", "zhao@example.com", PASSWORD)
    now = timezone.now()
    jobs = []
    for language in ("zh-hans", "en"):
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.CLUSTER,
            cluster=cluster,
            round=round_,
            language=language,
            requested_by=official,
            fingerprint=f"browser-{language}",
            status=ReportJob.Status.DONE,
            progress=100,
            finished_at=now,
            expires_at=now + dt.timedelta(days=1),
        )
        job.pdf.save(f"job-{job.pk}.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
        job.xlsx.save(f"job-{job.pk}.xlsx", ContentFile(b"PK test"), save=False)
        job.save(update_fields=["pdf", "xlsx"])
        jobs.append(job)
    return {"cluster": cluster, "jobs": jobs}


def _log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()


def _download(page: Any, live_server: Any, job: ReportJob, fmt: str) -> None:
    with page.expect_download():
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.click(); }",
            f"{live_server.url}/reports/jobs/{job.pk}/download.{fmt}",
        )


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_downloads_page_and_the_trail_read_well_on_a_phone_and_a_pc(
    browser: Any, live_server: Any, setting: dict[str, Any], screenshots: Any, locale: str
) -> None:
    language = "zh" if locale.startswith("zh") else "en"
    cluster = setting["cluster"]
    for username in ("wang.wei.regional.bureau", "li.na"):
        context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale=locale)
        page = context.new_page()
        _log_in(page, live_server, username)
        for job in setting["jobs"]:
            _download(page, live_server, job, "pdf")
        _download(page, live_server, setting["jobs"][0], "xlsx")
        context.close()
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=size, locale=locale)
        page = context.new_page()
        _log_in(page, live_server, "li.na")
        page.goto(f"{live_server.url}/reports/clusters/{cluster.slug}/dashboard/")
        page.locator(f"a[href='/reports/clusters/{cluster.slug}/downloads/']").click()
        page.wait_for_load_state()
        heading = page.locator("h1").inner_text()
        assert heading == ("报告下载记录" if language == "zh" else "Report downloads")
        assert page.locator("table.data tbody tr").count() == 6
        body = page.locator("main").inner_text()
        assert "wang.wei.regional.bureau" in body and "李" in body
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        page.screenshot(
            path=str(screenshots / f"audit-downloads-{language}-{name}.png"), full_page=True
        )
        context.close()
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    _log_in(page, live_server, "admin.zhao")
    page.goto(f"{live_server.url}/admin/auditlog/logentry/")
    text = page.locator("body").inner_text()
    assert ("事件" if language == "zh" else "event") in text.lower() or "事件" in text
    page.screenshot(path=str(screenshots / f"audit-admin-{language}-desktop.png"), full_page=True)
    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_load_state()
    page.screenshot(path=str(screenshots / f"audit-entry-{language}-desktop.png"), full_page=True)
    context.close()
