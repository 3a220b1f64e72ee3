"""An official reads a cluster's dashboard and sets a target (Chromium; 375 px and 1366 px,
Chinese and English)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from reports.models import Target
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
)
from tests.reports.builders import answers_for, framework_version, invite, make_round, submit_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def setting(transactional_db: None) -> dict[str, Any]:
    """A cluster of 24 firms with two rounds on the test framework and an official."""
    from django.contrib.auth import get_user_model

    rng = random.Random(13)
    version, fw = framework_version()
    region = RegionFactory(code="320583", name_zh="昆山市", name_en="Kunshan", level="county")
    cluster = ClusterFactory(
        slug="kunshan-moulds", name_zh="昆山模具产业集群", name_en="Kunshan moulds", region=region
    )
    firms = []
    for i in range(24):
        firm = FirmFactory(
            name=f"昆山精密模具{i:02d}有限公司", size_class=["micro", "small"][i % 2]
        )
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    opens = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    t0 = make_round(cluster, version, name="2025 年基线评估", opens=opens)
    t1 = make_round(cluster, version, name="2026 年复评", opens=opens + dt.timedelta(days=365))
    skills = [rng.uniform(0.05, 0.95) for _ in firms]
    submit_many(t0, fw, firms[:16], [answers_for(fw, skills[i], rng) for i in range(16)])
    invite(t1, firms)
    submit_many(
        t1,
        fw,
        firms[:20],
        [answers_for(fw, min(1, skills[i] + 0.1), rng) for i in range(20)],
        with_invitations=False,
    )
    official = get_user_model().objects.create_user("li.na", password="cluster-official-2026")
    OfficialScopeFactory(user=official, cluster=cluster)
    return {"cluster": cluster, "round": t1}


def _log_in(page: Any, live_server: Any, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "li.na")
    page.fill("#id_password", "cluster-official-2026")
    page.locator("form.card button[type=submit]").click()


def _fits(page: Any, width: int) -> None:
    """Nothing but the tables' own scroll boxes is wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _chart_text_size(page: Any) -> tuple[float, float]:
    """The drawn width of the trend chart and the height of one of its labels, in CSS px."""
    box = page.locator(".dash-chart svg").bounding_box()
    label = page.locator(".dash-chart svg .axis text").first.bounding_box()
    return box["width"], label["height"]


def test_an_official_reads_the_dashboard_and_sets_a_target(
    live_server: Any, browser: Any, setting: dict[str, Any], screenshots: Any
) -> None:
    from playwright.sync_api import expect

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    phone.set_default_timeout(15_000)
    page = phone.new_page()
    _log_in(page, live_server, "/clusters/")
    page.get_by_role("link", name="看板").first.click()
    expect(page.locator("h1")).to_have_text("集群看板")
    expect(page.locator("#id_round option[selected]")).to_contain_text("2026 年复评")
    expect(page.locator("#kpi-assessed")).to_have_text("20")
    expect(page.locator("#response")).to_contain_text("2025 年基线评估")
    expect(page.locator("#trend table")).to_contain_text("2025 年基线评估")
    assert page.locator(".dash-chart svg").count() == 1
    phone_chart = _chart_text_size(page)
    _fits(page, 375)
    page.screenshot(path=str(screenshots / "dashboard-zh-hans-375.png"), full_page=True)

    # Set a target: a mistake first, said in Chinese next to the field; then a good one.
    page.locator("details.target-form summary").click()
    page.select_option("#id_level", "L2")
    page.fill("#id_firms", "18")
    page.fill("#id_deadline", "2001-06-30")
    page.get_by_role("button", name="设定目标").click()
    expect(page.locator("details.target-form .errors")).to_contain_text("截止日期须晚于今天")
    assert not Target.objects.exists()
    page.fill("#id_deadline", "2027-06-30")
    page.get_by_role("button", name="设定目标").click()
    expect(page.locator(".messages")).to_contain_text("目标已设定")
    expect(page.locator("#targets .target-goal")).to_contain_text(
        "到 2027-06-30，18 家企业达到二级及以上"
    )
    expect(page.locator("#targets progress")).to_have_count(1)
    target = Target.objects.get()
    assert (target.level, target.firms, target.deadline) == ("L2", 18, dt.date(2027, 6, 30))
    _fits(page, 375)
    page.locator("#targets").screenshot(path=str(screenshots / "dashboard-target-zh-hans-375.png"))

    # English, on a desktop screen: the same figures, and the chart keeps its text size.
    page.locator("button[name=language][value=en]").click()
    expect(page.locator("h1")).to_have_text("Cluster dashboard")
    expect(page.locator("#targets .target-goal")).to_contain_text(
        "18 firms at Level 2 or above by 2027-06-30"
    )
    page.screenshot(path=str(screenshots / "dashboard-en-375.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    expect(page.locator("#kpi-assessed")).to_have_text("20")
    assert _chart_text_size(page) == phone_chart
    _fits(page, DESKTOP["width"])
    page.screenshot(path=str(screenshots / "dashboard-en-1366.png"), full_page=True)
    page.locator("button[name=language][value=zh-hans]").click()
    expect(page.locator("h1")).to_have_text("集群看板")
    page.screenshot(path=str(screenshots / "dashboard-zh-hans-1366.png"), full_page=True)
    phone.close()
