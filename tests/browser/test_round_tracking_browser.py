"""An official follows a round's response in a real browser (Chromium): filter the firms,
invite those not yet invited, remind those who have not submitted; at 375 px and 1366 px, in
Chinese and in English (issue 10, part 3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from assessments import services
from assessments.models import Invitation, InvitationMessage
from tests.assessments.questionnaire_fixtures import DEMO_FILE, FULL_ANSWERS, make_round
from tests.factories import (
    AssessmentFactory,
    ClusterFactory,
    FirmFactory,
    FrameworkVersionFactory,
    MembershipFactory,
    OfficialScopeFactory,
    SubmittedAssessmentFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "park-office-2026!"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1366, "height": 900}}
WORDS = {
    "zh-hans": {
        "locale": "zh-CN",
        "invite_all": "邀请尚未邀请的 14 家企业",
        "invited": "已邀请 14 家企业。",
        "remind": "提醒尚未提交的 19 家企业",
        "reminded": "已发送 3 封邮件。",
        "found": "找到 14 家企业",
        "remind_again": "已发送 0 封邮件。",
        "all_invited": "所有企业均已邀请",
        "status": "未邀请",
        "search": "搜索",
    },
    "en": {
        "locale": "en-US",
        "invite_all": "Invite the 14 firms not yet invited",
        "invited": "14 firms invited.",
        "remind": "Remind the 19 firms that have not submitted",
        "reminded": "3 e-mails sent.",
        "found": "14 firms found",
        "remind_again": "0 e-mails sent.",
        "all_invited": "Every firm is invited",
        "status": "Not invited",
        "search": "Search",
    },
}


@pytest.fixture
def round_setting(transactional_db: None) -> dict[str, Any]:
    """A park of 20 firms (16 with an e-mail address): 6 invited, of which one opened the link,
    one is half-way and one submitted; the official of the park."""
    version = FrameworkVersionFactory(path=DEMO_FILE)
    cluster = ClusterFactory(
        slug="kunshan-moulds", name_zh="昆山模具产业集群", name_en="Kunshan moulds"
    )
    firms = []
    for n in range(20):
        firm = FirmFactory(
            name=f"昆山{'精密模具' if n % 2 else '五金制品'}有限公司{n:02d}",
            contact_person="王芳" if n % 3 else "",
            contact_email=f"office{n:02d}@example.com" if n % 5 else "",
        )
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    round_ = make_round(cluster, version, name="2026 年数字化水平评估")
    official = UserFactory(username="park.official", password=PASSWORD)
    OfficialScopeFactory(user=official, cluster=cluster)
    services.round_invite(round_, user=official, firm_ids=[f.pk for f in firms[:6]])
    services.invitation_mark_opened(Invitation.objects.get(round=round_, firm=firms[1]))
    AssessmentFactory(round=round_, firm=firms[2], answers={"B1": 40, "B3": "office"})
    SubmittedAssessmentFactory(round=round_, firm=firms[3], answers=FULL_ANSWERS)
    # The invitations went out two days ago: reminders are due.
    InvitationMessage.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    mail.outbox.clear()
    return {"round": round_, "firms": firms}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_official_filters_invites_and_reminds(
    live_server: Any,
    browser: Any,
    round_setting: dict[str, Any],
    screenshots: Any,
    language: str,
    viewport: str,
) -> None:
    from playwright.sync_api import expect

    words = WORDS[language]
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=words["locale"])
    context.set_default_timeout(15_000)
    round_ = round_setting["round"]
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/rounds/{round_.pk}/")
        page.fill("#id_username", "park.official")
        page.fill("#id_password", PASSWORD)
        page.locator("form.card button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text("2026 年数字化水平评估")
        # The summary and the actions come first, above the list.
        summary = page.locator("section.response")
        expect(summary).to_contain_text("1")
        expect(page.locator("section.response progress")).to_have_attribute("value", "1")
        shot = f"round-{viewport}-{language}"
        page.screenshot(path=str(screenshots / f"{shot}-1-summary.png"), full_page=True)

        # Filter: the firms not yet invited.
        page.select_option("#id_status", "not_invited")
        page.get_by_role("button", name=words["search"], exact=True).click()
        expect(page.locator("#found")).to_have_text(words["found"])
        expect(page.locator("table.round-firms tbody tr")).to_have_count(14)
        expect(page.locator("td.tracking .badge").first).to_have_text(words["status"])
        if viewport == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(screenshots / f"{shot}-2-filtered.png"), full_page=True)

        # Invite them all: 14 invitations, e-mails for the 12 with an address.
        page.get_by_role("button", name=words["invite_all"]).click()
        expect(page.locator(".msg-success")).to_contain_text(words["invited"])
        assert Invitation.objects.filter(round=round_).count() == 20
        assert len(mail.outbox) == 12
        # Back on the same filter, which is empty now; the invite button is spent.
        expect(page.locator("#found")).to_contain_text("0")
        expect(page.locator("button[value=invite_all]")).to_be_disabled()
        expect(page.locator("button[value=invite_all]")).to_have_text(words["all_invited"])
        page.screenshot(path=str(screenshots / f"{shot}-3-invited.png"), full_page=True)

        # Remind everyone who has not submitted: the three first invited firms with an address
        # that have not submitted; the invitations of a minute ago are not reminded yet.
        page.goto(f"{live_server.url}/rounds/{round_.pk}/")
        page.get_by_role("button", name=words["remind"]).click()
        expect(page.locator(".msg-success")).to_contain_text(words["reminded"])
        assert InvitationMessage.objects.filter(kind="reminder").count() == 3
        assert len(mail.outbox) == 15
        page.screenshot(path=str(screenshots / f"{shot}-4-reminded.png"), full_page=True)
        # A second click sends nothing more.
        page.get_by_role("button", name=words["remind"]).click()
        expect(page.locator(".msg-success")).to_be_visible()
        expect(page.locator(".msg-success")).to_contain_text(words["remind_again"])
        assert InvitationMessage.objects.filter(kind="reminder").count() == 3
    finally:
        context.close()
