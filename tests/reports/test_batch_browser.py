"""A regional official renders every cluster report of the city in one action, in a real
browser (Chromium) at 375 px, in Chinese: the batch page polls its progress bar (htmx, under
the CSP) until the zip is offered."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from reports import batch, services
from reports.models import ReportBatch
from tests.browser.conftest import browser, phone, screenshots  # noqa: F401
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
)
from tests.reports.builders import answers_for, framework_version, make_round, submit_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(transactional_db: None) -> Any:
    rng = random.Random(8)
    version, fw = framework_version()
    city = RegionFactory(code="320500", name_zh="苏州市", name_en="Suzhou", level="city")
    opens = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    for slug, name in (("moulds", "昆山模具产业集群"), ("textiles", "吴江纺织产业集群")):
        cluster = ClusterFactory(slug=slug, name_zh=name, region=city)
        firms = [FirmFactory() for _ in range(6)]
        for firm in firms:
            MembershipFactory(cluster=cluster, firm=firm)
        round_ = make_round(cluster, version, name="2025 年基线评估", opens=opens)
        submit_many(round_, fw, firms, [answers_for(fw, rng.random(), rng) for _ in firms])
    OfficialScopeFactory(user=UserFactory(username="li.na", password="regional-2026!"), region=city)
    return city


def test_a_regional_official_renders_the_batch_and_gets_the_zip_on_a_phone(
    live_server: Any,
    phone: Any,  # noqa: F811  (the browser tests' fixture, imported above)
    city: Any,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    groups: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(batch, "_send_start", batch.batch_start)  # as a worker would
    monkeypatch.setattr(batch, "_send_group", lambda b, jobs: groups.append((b, list(jobs))))
    monkeypatch.setattr(batch, "_send_zip", lambda b: None)
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    page = phone.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "li.na")
    page.fill("#id_password", "regional-2026!")
    page.locator("form.card button[type=submit]").click()
    page.goto(f"{live_server.url}/reports/")
    panel = page.locator("#batch-request")
    expect(panel).to_contain_text("生成全部集群报告")
    panel.locator("select[name=region]").select_option(str(city.pk))
    panel.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("批量报告")
    expect(page.locator("progress")).to_be_visible()
    expect(page.locator("table.data")).to_contain_text("昆山模具产业集群")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshots / "batch-375-running.png"), full_page=True)
    found = ReportBatch.objects.get()
    assert groups == [(found.pk, sorted(found.jobs.values_list("pk", flat=True)))]
    for job_id in groups[0][1]:
        services.report_job_run(job_id)
    assert batch.batch_zip_run(found.pk, task_id="zip") == "done"
    download = page.locator("a", has_text="下载压缩包")
    expect(download).to_be_visible(timeout=15_000)  # the polled fragment swapped in
    expect(page.locator("progress")).to_have_count(0)
    with page.expect_download() as fetched:
        download.click()
    assert fetched.value.suggested_filename.endswith(".zip")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshots / "batch-375-done.png"), full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p], problems
