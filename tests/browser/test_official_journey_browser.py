"""An official's whole journey in a real browser (Chromium), at 375 px and 1366 px, in Chinese
and in English: filter the round, invite and remind, open a firm's file, read the dashboard,
set a target, then request the cluster report and download it (issue 10)."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import pytest
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import Invitation, InvitationMessage
from reports import services as report_services
from reports.models import ReportJob, Target
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

PASSWORD = "bureau-official-2026!"
VIEWPORTS = {"375": {"width": 375, "height": 812}, "1366": {"width": 1366, "height": 900}}
WORDS = {
    "zh-hans": {
        "locale": "zh-CN",
        "search": "搜索",
        "found": "找到 4 家企业",
        "invited": "已邀请 4 家企业。",
        "reminded": "已发送 8 封邮件。",
        "dashboard": "集群看板",
        "set": "设定目标",
        "target_set": "目标已设定",
        "goal": "到 {deadline}，18 家企业达到二级及以上",
        "render": "生成报告",
    },
    "en": {
        "locale": "en-US",
        "search": "Search",
        "found": "4 firms found",
        "invited": "4 firms invited.",
        "reminded": "8 e-mails sent.",
        "dashboard": "Cluster dashboard",
        "set": "Set the target",
        "target_set": "The target is set.",
        "goal": "18 firms at Level 2 or above by {deadline}",
        "render": "Render the report",
    },
}


@pytest.fixture
def journey(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A cluster of 24 firms with e-mail addresses: a past round (16 submitted) and an open
    one (20 invited two days ago, 12 submitted); its official. Report jobs render at once,
    in the web process, instead of waiting for a worker."""
    monkeypatch.setattr(report_services, "_enqueue", report_services.report_job_run)
    rng = random.Random(13)
    version, fw = framework_version()
    region = RegionFactory(code="320583", name_zh="昆山市", name_en="Kunshan", level="county")
    cluster = ClusterFactory(
        slug="kunshan-moulds", name_zh="昆山模具产业集群", name_en="Kunshan moulds", region=region
    )
    firms = []
    for i in range(24):
        firm = FirmFactory(
            name=f"昆山精密模具{i:02d}有限公司",
            size_class=["micro", "small"][i % 2],
            contact_person="王芳",
            contact_email=f"office{i:02d}@example.com",
        )
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    now = timezone.now()
    past = make_round(cluster, version, name="2025 年基线评估", opens=now - dt.timedelta(days=300))
    current = make_round(cluster, version, name="2026 年复评", opens=now - dt.timedelta(days=5))
    skills = [rng.uniform(0.05, 0.95) for _ in firms]
    submit_many(past, fw, firms[:16], [answers_for(fw, skills[i], rng) for i in range(16)])
    official = UserFactory(username="li.na", password=PASSWORD)
    OfficialScopeFactory(user=official, cluster=cluster)
    assessment_services.round_invite(current, user=official, firm_ids=[f.pk for f in firms[:20]])
    InvitationMessage.objects.update(created_at=now - dt.timedelta(days=2))
    submit_many(
        current,
        fw,
        firms[:12],
        [answers_for(fw, min(1, skills[i] + 0.1), rng) for i in range(12)],
        with_invitations=False,
        submitted_at=now - dt.timedelta(days=1),
    )
    return {"cluster": cluster, "round": current, "firm": firms[0]}


def _page(browser: Any, width: str, locale: str) -> tuple[Any, Any]:
    """A fresh browser context of the width and locale, and a page in it."""
    context = browser.new_context(viewport=VIEWPORTS[width], locale=locale, accept_downloads=True)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def _log_in(page: Any, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", ["375", "1366"])
def test_an_official_follows_the_round_and_reports_on_it(
    live_server: Any,
    browser: Any,
    journey: dict[str, Any],
    screenshots: Any,
    language: str,
    width: str,
) -> None:
    from playwright.sync_api import expect

    words = WORDS[language]
    size = VIEWPORTS[width]["width"]
    context, page = _page(browser, width, words["locale"])
    round_, firm = journey["round"], journey["firm"]
    shot = f"journey-{language}-{width}"
    try:
        # 1. The round page: filter the firms not yet invited, invite them, remind the rest.
        _log_in(page, live_server.url, "li.na", f"/rounds/{round_.pk}/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text("2026 年复评")
        page.select_option("#id_status", "not_invited")
        page.get_by_role("button", name=words["search"], exact=True).click()
        expect(page.locator("#found")).to_have_text(words["found"])
        _fits(page, size)
        page.screenshot(path=str(screenshots / f"{shot}-1-round-filtered.png"), full_page=True)
        page.locator("button[value=invite_all]").click()
        expect(page.locator(".msg-success")).to_contain_text(words["invited"])
        assert Invitation.objects.filter(round=round_).count() == 24
        page.goto(f"{live_server.url}/rounds/{round_.pk}/")
        page.locator("button[value=remind]").click()
        expect(page.locator(".msg-success")).to_contain_text(words["reminded"])
        assert InvitationMessage.objects.filter(kind="reminder").count() == 8
        page.screenshot(path=str(screenshots / f"{shot}-2-round-reminded.png"), full_page=True)

        # 2. A firm's file, from the register.
        page.goto(f"{live_server.url}/clusters/kunshan-moulds/")
        page.get_by_role("link", name=firm.name).first.click()
        expect(page.locator("h1")).to_have_text(firm.name)
        expect(page.locator("#register")).to_contain_text(firm.uscc)
        _fits(page, size)
        page.screenshot(path=str(screenshots / f"{shot}-3-firm-file.png"), full_page=True)

        # 3. The dashboard of the open round, and a target set on it.
        page.goto(f"{live_server.url}/reports/clusters/kunshan-moulds/dashboard/")
        expect(page.locator("h1")).to_have_text(words["dashboard"])
        expect(page.locator("#kpi-assessed")).to_have_text("12")
        _fits(page, size)
        page.screenshot(path=str(screenshots / f"{shot}-4-dashboard.png"), full_page=True)
        deadline = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
        page.locator("details.target-form summary").click()
        page.select_option("#id_level", "L2")
        page.fill("#id_firms", "18")
        page.fill("#id_deadline", deadline)
        page.get_by_role("button", name=words["set"]).click()
        expect(page.locator(".messages")).to_contain_text(words["target_set"])
        goal = words["goal"].format(deadline=deadline)
        expect(page.locator("#targets .target-goal")).to_contain_text(goal)
        assert Target.objects.get().firms == 18
        _fits(page, size)
        page.locator("#targets").screenshot(path=str(screenshots / f"{shot}-5-target.png"))

        # 4. The cluster report: requested, rendered, downloaded; it carries the target.
        page.goto(f"{live_server.url}/reports/")
        page.get_by_role("button", name=words["render"]).click()
        link = page.locator("a[href$='download.pdf']")
        expect(link).to_be_visible()
        page.screenshot(path=str(screenshots / f"{shot}-6-report-ready.png"), full_page=True)
        with page.expect_download() as download:
            link.click()
        job = ReportJob.objects.get()
        assert (job.status, job.language, job.round_id) == ("done", language, round_.pk)
        with open(download.value.path(), "rb") as handle:
            text = _pdf_text(handle.read())
        assert deadline in text
        assert "2026 年复评" in text or language == "zh-hans"  # CJK text may come out spaced
        if language == "en":
            assert goal in text
    finally:
        context.close()


REGION_WORDS = {
    "zh-hans": {
        "locale": "zh-CN",
        "set": "设定目标",
        "target_set": "目标已设定",
        "error": "截止日期须晚于今天",
        "goal": "到 {deadline}，30 家企业达到一级及以上",
    },
    "en": {
        "locale": "en-US",
        "set": "Set the target",
        "target_set": "The target is set.",
        "error": "The deadline must be after today",
        "goal": "30 firms at Level 1 or above by {deadline}",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", ["375", "1366"])
def test_a_regional_official_sets_a_target_for_the_region(
    live_server: Any,
    browser: Any,
    journey: dict[str, Any],
    screenshots: Any,
    language: str,
    width: str,
) -> None:
    from playwright.sync_api import expect

    words = REGION_WORDS[language]
    region = journey["cluster"].region
    OfficialScopeFactory(user=UserFactory(username="wang.qu", password=PASSWORD), region=region)
    size = VIEWPORTS[width]["width"]
    context, page = _page(browser, width, words["locale"])
    try:
        _log_in(page, live_server.url, "wang.qu", f"/reports/regions/{region.pk}/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("#targets")).to_be_visible()
        # A mistake first: said next to the field, in the page's language; nothing stored.
        page.locator("#targets details.target-form summary").click()
        page.select_option("#id_level", "L1")
        page.fill("#id_firms", "30")
        page.fill("#id_deadline", "2001-06-30")
        page.get_by_role("button", name=words["set"]).click()
        expect(page.locator("#targets .errors")).to_contain_text(words["error"])
        assert not Target.objects.exists()
        deadline = (timezone.localdate() + dt.timedelta(days=500)).isoformat()
        page.fill("#id_deadline", deadline)
        page.get_by_role("button", name=words["set"]).click()
        expect(page.locator(".messages")).to_contain_text(words["target_set"])
        goal = words["goal"].format(deadline=deadline)
        expect(page.locator("#targets .target-goal")).to_contain_text(goal)
        target = Target.objects.get()
        assert (target.region_id, target.cluster_id, target.firms) == (region.pk, None, 30)
        expect(page.locator("#targets .target-count .value")).to_have_text(
            str(_at_level_one_or_above(journey["round"]))
        )
        _fits(page, size)
        page.screenshot(
            path=str(screenshots / f"region-target-{language}-{width}.png"), full_page=True
        )
    finally:
        context.close()


def _at_level_one_or_above(round_: Any) -> int:
    from assessments.models import Assessment
    from assessments.versions import framework_for

    rank = framework_for(round_.framework_version).level_rank("L1")
    return Assessment.objects.submitted().filter(round=round_, level_rank__gte=rank).count()
