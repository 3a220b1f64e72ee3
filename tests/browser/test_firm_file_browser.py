"""The firm file (一企一档) in a real browser: an official opens it from the register, a firm's
own user from the home page, at 375 px and 1366 px, in Chinese and in English."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    builtin_framework_path,
)
from tests.reports.builders import answers_for, framework_version, make_round, submit_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "firm-file-2026!"


@pytest.fixture
def setting(transactional_db: None) -> dict[str, Any]:
    """A cluster of five firms; the first was in three rounds on the test framework and one
    on MIIT, and is invited to an open round."""
    rng = random.Random(21)
    version, fw = framework_version()
    miit_version, miit_fw = framework_version(builtin_framework_path("miit-sme"))
    city = RegionFactory(code="320500", name_zh="苏州市", name_en="Suzhou", level="city")
    cluster = ClusterFactory(
        slug="kunshan-moulds", name_zh="昆山模具产业集群", name_en="Kunshan moulds", region=city
    )
    firm = FirmFactory(
        name="昆山精密模具有限公司",
        region=city,
        industry_section="C",
        industry_division="35",
        employees=86,
        size_class="small",
    )
    peers = [FirmFactory(name=f"昆山同行企业{i}", region=city) for i in range(4)]
    for member in (firm, *peers):
        MembershipFactory(cluster=cluster, firm=member)
    now = timezone.now()
    skills = (0.25, 0.55, 0.85)
    for i, skill in enumerate(skills):
        round_ = make_round(
            cluster,
            version,
            name=f"{2023 + i} 年数字化水平评估",
            opens=now - dt.timedelta(days=365 * (3 - i) + 30),
        )
        submit_many(
            round_,
            fw,
            [firm, *peers],
            [answers_for(fw, skill, rng)] + [answers_for(fw, rng.random(), rng) for _ in peers],
        )
    miit = make_round(
        cluster,
        miit_version,
        name="2025 年中小企业数字化水平测评",
        opens=now - dt.timedelta(days=90),
    )
    submit_many(miit, miit_fw, [firm], [answers_for(miit_fw, 0.6, rng)])
    open_round = make_round(cluster, version, name="2026 年数字化水平评估", opens=now)
    from assessments.models import Invitation

    Invitation.objects.create(round=open_round, firm=firm, token="browser-open-token", sent_at=now)
    users = get_user_model().objects
    official = users.create_user("li.guan", password=PASSWORD)
    OfficialScopeFactory(user=official, cluster=cluster)
    owner = users.create_user("zhang.wei", password=PASSWORD)
    FirmMemberFactory(user=owner, firm=firm)
    return {"firm": firm, "cluster": cluster}


def _log_in(page: Any, url: str, username: str, next_path: str) -> None:
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()


def _check_layout(page: Any, width: int) -> None:
    """Nothing scrolls sideways; the chart keeps its drawn 300 px (its labels stay legible)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    chart = page.locator("figure.trajectory svg").first
    box = chart.bounding_box()
    assert box is not None and 290 <= box["width"] <= 301


@pytest.mark.parametrize("width", [375, 1366], ids=["phone", "desktop"])
def test_official_opens_the_file_from_the_register_in_both_languages(
    live_server: Any, browser: Any, setting: dict[str, Any], screenshots: Any, width: int
) -> None:
    from playwright.sync_api import expect

    viewport = {"width": 375, "height": 812} if width == 375 else DESKTOP
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        firm = setting["firm"]
        _log_in(page, live_server.url, "li.guan", "/clusters/kunshan-moulds/")
        page.get_by_role("link", name=firm.name).click()
        expect(page.locator("h1")).to_have_text(firm.name)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("#register")).to_contain_text(firm.uscc)
        expect(page.locator("#register")).to_contain_text("小型")
        expect(page.locator("#register")).to_contain_text("昆山模具产业集群")
        expect(page.locator("#framework-1 h3").first).to_have_text("等级轨迹")
        expect(page.locator("#framework-1 table.rounds tbody tr")).to_have_count(4)
        expect(page.locator("#framework-2")).to_contain_text("2025 年中小企业数字化水平测评")
        expect(page.locator("#latest")).to_contain_text("2025 年中小企业数字化水平测评")
        expect(page.locator("#invitations tbody tr")).to_have_count(5)
        _check_layout(page, width)
        page.screenshot(path=str(screenshots / f"firm-file-zh-hans-{width}.png"), full_page=True)

        page.locator("button[name=language][value=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#register h2")).to_have_text("Register data")
        expect(page.locator("#register")).to_contain_text("Kunshan moulds")
        expect(page.locator("#framework-1 h3").first).to_have_text("Level trajectory")
        _check_layout(page, width)
        page.screenshot(path=str(screenshots / f"firm-file-en-{width}.png"), full_page=True)
        # The result PDFs are linked: each one downloads.
        with page.expect_download() as download:
            page.locator("a.pdf").first.click()
        assert download.value.suggested_filename.startswith(f"result-{firm.uscc}")
    finally:
        context.close()


def test_firm_user_finds_their_history_on_the_home_page(
    live_server: Any, phone: Any, setting: dict[str, Any], screenshots: Any
) -> None:
    from playwright.sync_api import expect

    page = phone.new_page()
    _log_in(page, live_server.url, "zhang.wei", "/")
    page.screenshot(path=str(screenshots / "home-my-history-zh-hans-375.png"), full_page=True)
    page.get_by_role("link", name="我的档案").click()
    expect(page.locator("h1")).to_have_text(setting["firm"].name)
    expect(page.locator("#framework-1 table.rounds")).to_contain_text("2026 年数字化水平评估")
    expect(page.locator("#framework-1 table.rounds")).to_contain_text("已邀请")
    _check_layout(page, 375)
    page.screenshot(path=str(screenshots / "firm-file-own-zh-hans-375.png"), full_page=True)
