"""A regional official compares the clusters of the region in a real browser (Chromium), at
375 px and at 1366 px, in Chinese and in English."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest

from tests.factories import (
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
)
from tests.reports.builders import answers_for, framework_version, invite, make_round, submit_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def region(transactional_db: None) -> dict[str, Any]:
    """苏州市 with three clusters on one framework, one of them a 3-firm pilot."""
    rng = random.Random(21)
    version, fw = framework_version()
    city = RegionFactory(code="320500", name_zh="苏州市", name_en="Suzhou", level="city")
    county = RegionFactory(
        code="320583", name_zh="昆山市", name_en="Kunshan", level="county", parent=city
    )
    plan = [
        ("kunshan-moulds", "昆山模具产业集群", "Kunshan moulds cluster", county, 40, 34, 0.55),
        ("wujiang-textiles", "吴江纺织产业集群", "Wujiang textiles cluster", city, 30, 21, 0.35),
        ("taicang-parts", "太仓汽配产业集群", "Taicang auto parts cluster", city, 8, 3, 0.7),
    ]
    for slug, zh, en, where, invited, submitted, skill in plan:
        cluster = ClusterFactory(slug=slug, name_zh=zh, name_en=en, region=where)
        firms = []
        for i in range(invited):
            firm = FirmFactory(name=f"{zh[:2]}企业{i:02d}")
            MembershipFactory(cluster=cluster, firm=firm)
            firms.append(firm)
        before = make_round(cluster, version, name="2025 年基线评估", opens=T0)
        prior = firms[: submitted - 2 if submitted > 4 else submitted]
        submit_many(before, fw, prior, [answers_for(fw, skill, rng) for _ in prior])
        now = make_round(cluster, version, name="2026 年复评", opens=T0 + dt.timedelta(days=300))
        invite(now, firms)
        submit_many(
            now,
            fw,
            firms[:submitted],
            [answers_for(fw, min(1, skill + 0.15), rng) for _ in range(submitted)],
            with_invitations=False,
        )
    user = UserFactory(username="li.na", password="regional-2026!")
    OfficialScopeFactory(user=user, region=city)
    return {"city": city}


def _log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "li.na")
    page.fill("#id_password", "regional-2026!")
    page.locator("form.card button[type=submit]").click()


def test_regional_official_compares_the_clusters(
    live_server: Any, browser: Any, region: dict[str, Any], screenshots: Any
) -> None:
    from playwright.sync_api import expect

    for viewport, tag in (({"width": 375, "height": 812}, "375"), (DESKTOP, "1366")):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        _log_in(page, live_server.url)
        page.get_by_role("link", name="对比苏州市的各集群").click()
        expect(page.locator("h1")).to_contain_text("苏州市 · 集群横向对比")
        table = page.locator("table.region-table")
        expect(table).to_contain_text("昆山模具产业集群")
        # The 3-firm pilot is flagged, not hidden, in the officials' view.
        expect(table.locator("tr.small-sample")).to_contain_text("⚠ 3 家企业")
        # Sort by the number submitted, highest first, then lowest first: server-side links.
        page.locator("table.region-table th a", has_text="已提交").click()
        expect(page).to_have_url(re.compile(r"sort=-assessed"))
        expect(table.locator("tbody tr").first).to_contain_text("昆山模具产业集群")
        page.locator("table.region-table th a", has_text="已提交").click()
        expect(page).to_have_url(re.compile(r"sort=assessed"))
        expect(table.locator("tbody tr").first).to_contain_text("太仓汽配产业集群")
        # The page never scrolls sideways; only the table does, inside its frame.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(screenshots / f"region-zh-hans-{tag}.png"), full_page=True)

        page.locator("button[name=language][value=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_contain_text("Suzhou · Clusters side by side")
        expect(table).to_contain_text("Kunshan moulds cluster")
        expect(table.locator("tr.small-sample")).to_contain_text("⚠ 3 firms")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(screenshots / f"region-en-{tag}.png"), full_page=True)

        # On to the PDF: the request form comes with the region and framework chosen.
        page.get_by_role("link", name="Download as PDF and XLSX").click()
        expect(page.locator("#id_kind")).to_have_value("region")
        expect(page.locator("#id_region")).to_have_value(str(region["city"].pk))
        expect(page.locator("#id_framework")).to_have_value("report-test")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(screenshots / f"region-request-en-{tag}.png"), full_page=True)
        context.close()
