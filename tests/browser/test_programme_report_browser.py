"""An official requests a programme's report from its request card and follows the job, and
reads the round's on-site verification figures on the cluster dashboard (Chromium; 375 px and
1366 px, Chinese and English). Issue 13."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import RequestContext, Template
from django.test import RequestFactory

from reports import services
from reports.models import ReportJob
from tests.programmes.builders import build_programme, standard_plans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "programme-official-2026"


@pytest.fixture
def built(transactional_db: None) -> Any:
    built = build_programme(standard_plans())
    built.official.set_password(PASSWORD)
    built.official.save()
    return built


def _log_in(page: Any, live_server: Any, user: Any, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _card_page(page: Any, built: Any, language: str) -> None:
    """Lay the request card out as the programme page includes it (helper A's page is not on
    this branch): base.html with the include, rendered for the logged-in official with the
    browser's own CSRF secret, so that its form posts for real."""
    from django.utils import translation

    secret = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    request = RequestFactory().get("/")
    request.user = built.official
    request.META["CSRF_COOKIE"] = secret
    template = Template(
        '{% extends "base.html" %}{% block content %}<h1>{{ programme.name }}</h1>'
        '{% include "reports/_programme_report_request.html" with programme=programme %}'
        "{% endblock %}"
    )
    with translation.override(language):
        html = template.render(RequestContext(request, {"programme": built.programme}))
    page.set_content(html)


def test_an_official_requests_the_programme_report_and_reads_the_verification(
    live_server: Any,
    browser: Any,
    built: Any,
    screenshots: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    phone.set_default_timeout(15_000)
    page = phone.new_page()
    dashboard = f"/reports/clusters/{built.cluster.slug}/dashboard/?round={built.t1_round.pk}"
    _log_in(page, live_server, built.official, dashboard)

    # The dashboard of the acceptance round shows its verification figures, in Chinese.
    section = page.locator("#verification")
    expect(section.locator("h2")).to_have_text("现场核验")
    expect(section).to_contain_text("已提交的")
    _fits(page, 375)
    section.screenshot(path=str(screenshots / "dashboard-verification-zh-hans-375.png"))

    # The request card, as the programme page shows it; the report is asked for in Chinese.
    _card_page(page, built, "zh-hans")
    card = page.locator("#programme-report")
    expect(card.locator("h2")).to_have_text("转型计划报告")
    _fits(page, 375)
    card.screenshot(path=str(screenshots / "programme-report-card-zh-hans-375.png"))
    card.get_by_role("button", name="申请转型计划报告").click()
    expect(page.locator("h1")).to_contain_text("转型计划报告")
    job = ReportJob.objects.get()
    assert (job.kind, job.programme_id, job.language) == (
        "programme",
        built.programme.pk,
        "zh-hans",
    )
    expect(page.locator(".muted").first).to_contain_text(built.programme.name_zh)
    page.screenshot(path=str(screenshots / "programme-report-job-zh-hans-375.png"), full_page=True)

    # The worker renders it; the page then offers the files.
    assert queued == [job.pk] and services.report_job_run(job.pk) == "done"
    page.reload()
    expect(page.get_by_role("link", name="PDF").first).to_be_visible()
    _fits(page, 375)

    # English on a desktop: the card and the dashboard block.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}{dashboard}")
    page.locator("button[name=language][value=en]").click()
    expect(page.locator("#verification h2")).to_have_text("On-site verification")
    _fits(page, DESKTOP["width"])
    page.locator("#verification").screenshot(
        path=str(screenshots / "dashboard-verification-en-1366.png")
    )
    _card_page(page, built, "en")
    expect(page.locator("#programme-report h2")).to_have_text("Programme report")
    page.screenshot(path=str(screenshots / "programme-report-card-en-1366.png"), full_page=True)
    phone.close()
