"""Key journeys of a firm respondent in a real browser (Chromium, 375 px wide)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from assessments.models import Answer, Assessment
from tests.assessments.questionnaire_fixtures import DEMO_FILE, make_round
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    FirmMemberFactory,
    FrameworkVersionFactory,
    InvitationFactory,
    MembershipFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = re.compile(r"\bst-saved\b")


@pytest.fixture
def setting(transactional_db: None) -> dict[str, Any]:
    version = FrameworkVersionFactory(path=DEMO_FILE)
    cluster = ClusterFactory(slug="kunshan-moulds", name_zh="昆山模具产业集群")
    firm = FirmFactory(name="昆山精密模具有限公司")
    MembershipFactory(cluster=cluster, firm=firm)
    round_ = make_round(cluster, version, name="2026 年数字化水平评估")
    invitation = InvitationFactory(round=round_, firm=firm, token="t" * 43)
    return {"firm": firm, "round": round_, "invitation": invitation}


def _save(page: Any, code: str, action: Any) -> None:
    """Do something to question `code` and wait until the page shows it saved."""
    with page.expect_response(lambda r: f"/answers/{code}/" in r.url):
        action()
    status = page.locator(f"#st-{code}")
    from playwright.sync_api import expect

    expect(status).to_have_class(SAVED)


def _ready(page: Any) -> None:
    """Wait until the questionnaire's scripts (htmx first) have started on this page."""
    page.wait_for_selector("html[data-qready]", state="attached")


def _answer_part_one(page: Any) -> None:
    _ready(page)
    q = page.locator
    _save(page, "B1", lambda: q("#in-B1").fill("55"))
    _save(page, "B2", lambda: q("#q-B2").get_by_label("书面制度").check())
    _save(page, "B2", lambda: q("#q-B2").get_by_label("防火墙").check())
    _save(page, "B3", lambda: q("#q-B3").get_by_label("仅办公区").check())
    _save(page, "B4", lambda: q("#q-B4").get_by_label("是").check())


def test_whole_journey_invitation_two_sittings_submit_result_pdf(
    live_server: Any, phone: Any, setting: dict, screenshots: Any
) -> None:
    from playwright.sync_api import expect

    invitation = setting["invitation"]
    page = phone.new_page()
    # Sitting 1: open the invitation link, create an account, answer the first part.
    page.goto(f"{live_server.url}/invite/{invitation.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("#id_username", "zhang.wei")
    page.fill("#id_password1", "mould-factory-2026!")
    page.fill("#id_password2", "mould-factory-2026!")
    page.get_by_role("button", name="创建账号并开始填写").click()
    expect(page.locator("h2.dimtitle")).to_contain_text("数字化基础")
    _answer_part_one(page)
    # The exclusive option clears the others, and ticking another clears it again.
    _save(page, "B2", lambda: page.locator("#q-B2").get_by_label("以上都没有").check())
    expect(page.locator("#q-B2").get_by_label("书面制度")).not_to_be_checked()
    expect(page.locator("#q-B2").get_by_label("防火墙")).not_to_be_checked()
    _save(page, "B2", lambda: page.locator("#q-B2").get_by_label("书面制度").check())
    expect(page.locator("#q-B2").get_by_label("以上都没有")).not_to_be_checked()
    _save(page, "B2", lambda: page.locator("#q-B2").get_by_label("防火墙").check())
    # An invalid number is explained next to the question and not saved.
    with page.expect_response(lambda r: "/answers/B1/" in r.url):
        page.locator("#in-B1").fill("150")
    expect(page.locator("#st-B1")).to_contain_text("请输入 0 到 100 之间的数字")
    _save(page, "B1", lambda: page.locator("#in-B1").fill("55"))
    expect(page.locator("#savebar")).to_have_attribute("data-state", "idle")
    page.reload()
    _ready(page)
    expect(page.locator("#in-B1")).to_have_value("55")
    expect(page.locator("#q-B2").get_by_label("防火墙")).to_be_checked()
    expect(page.locator("#q-B4").get_by_label("是")).to_be_checked()
    page.screenshot(path=str(screenshots / "questionnaire-zh-hans.png"))
    page.close()

    # Sitting 2: a new browser session; log in, continue from the home page.
    phone.clear_cookies()
    page = phone.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "zhang.wei")
    page.fill("#id_password", "mould-factory-2026!")
    page.locator("form.card button[type=submit]").click()
    page.get_by_role("button", name="继续填写").click()
    expect(page.locator("#in-B1")).to_have_value("55")
    page.get_by_role("link", name=re.compile("下一部分")).click()
    expect(page.locator("h2.dimtitle")).to_contain_text("数字化经营")
    _ready(page)
    # show_if, evaluated by the server: O3 appears only for firms with several plants.
    expect(page.locator("#q-O3")).to_be_hidden()
    _save(page, "O2", lambda: page.locator("#q-O2").get_by_label("是").check())
    expect(page.locator("#q-O3")).to_be_visible()
    _save(page, "O2", lambda: page.locator("#q-O2").get_by_label("否").check())
    expect(page.locator("#q-O3")).to_be_hidden()
    _save(page, "O1", lambda: page.locator("#q-O1").get_by_label("数据驱动").check())
    _save(page, "O4", lambda: page.locator("#q-O4").get_by_label("ERP 系统").check())
    _save(page, "O5", lambda: page.locator("#q-O5").get_by_label("数据驱动").check())
    # Type and leave at once: the pending save is sent before the page changes.
    page.locator("#in-O6").fill("希望打通订单与排产")
    page.get_by_role("link", name=re.compile("检查并提交")).last.click()
    expect(page.locator("h1")).to_have_text("检查并提交")
    expect(page.locator(".reviewlist").last).to_contain_text("希望打通订单与排产")
    page.get_by_label("我已检查全部回答，确认提交。").check()
    page.get_by_role("button", name="提交问卷").click()
    expect(page.locator("#level")).to_have_text("三级")
    expect(page.locator("#total")).to_have_text("90")
    assert page.locator(".chart svg").count() == 1
    page.screenshot(path=str(screenshots / "result-zh-hans.png"), full_page=True)

    assessment = Assessment.objects.get(firm=setting["firm"])
    assert assessment.status == "submitted" and assessment.level == "L3"
    assert Answer.objects.get(assessment=assessment, question_code="B2").value == [
        "policy",
        "firewall",
    ]

    with page.expect_download() as download_info:
        page.locator("#pdf-link").click()
    pdf = download_info.value.path().read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "昆山精密模具有限公司" in text
    assert "三级" in text and "90" in text and "83.33" in text


def test_two_tabs_editing_the_same_answer_see_the_conflict(
    live_server: Any, phone: Any, setting: dict
) -> None:
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from assessments.services import invitation_accept

    user = get_user_model().objects.create_user("li.na", password="two-tabs-pass-2026")
    assessment = invitation_accept(setting["invitation"], user=user)
    url = f"{live_server.url}/assessments/{assessment.pk}/"
    tab_a = phone.new_page()
    tab_a.goto(f"{live_server.url}/accounts/login/?next=/assessments/{assessment.pk}/")
    tab_a.fill("#id_username", "li.na")
    tab_a.fill("#id_password", "two-tabs-pass-2026")
    tab_a.locator("form.card button[type=submit]").click()
    _ready(tab_a)
    tab_b = phone.new_page()
    tab_b.goto(url)
    _ready(tab_b)

    _save(tab_a, "B3", lambda: tab_a.locator("#q-B3").get_by_label("全厂覆盖").check())
    # Tab B still shows B3 unanswered; its change must not silently overwrite tab A's.
    with tab_b.expect_response(lambda r: "/answers/B3/" in r.url):
        tab_b.locator("#q-B3").get_by_label("仅办公区").check()
    conflict = tab_b.locator("#st-B3 .conflict")
    expect(conflict).to_be_visible()
    expect(conflict.locator(".theirs")).to_have_text("全厂覆盖")
    expect(conflict.locator(".mine")).to_have_text("仅办公区")
    assert Answer.objects.get(assessment=assessment, question_code="B3").value == "full"
    # Leaving the page with the conflict unsettled is held back: the choice comes first.
    tab_b.get_by_role("link", name=re.compile("下一部分")).click()
    expect(tab_b.locator("h2.dimtitle")).to_contain_text("数字化基础")
    expect(conflict).to_be_in_viewport()

    _save(tab_b, "B3", lambda: tab_b.get_by_role("button", name="保留我的回答").click())
    assert Answer.objects.get(assessment=assessment, question_code="B3").value == "office"

    # Tab A now edits from its stale revision, sees the conflict and takes the other tab's.
    with tab_a.expect_response(lambda r: "/answers/B3/" in r.url):
        tab_a.locator("#q-B3").get_by_label("没有网络").check()
    expect(tab_a.locator("#st-B3 .conflict")).to_be_visible()
    _save(tab_a, "B3", lambda: tab_a.get_by_role("button", name="采用另一个窗口的回答").click())
    expect(tab_a.locator("#q-B3").get_by_label("仅办公区")).to_be_checked()
    assert Answer.objects.get(assessment=assessment, question_code="B3").value == "office"
    # And a later change from tab A saves normally with the refreshed revision.
    _save(tab_a, "B3", lambda: tab_a.locator("#q-B3").get_by_label("全厂覆盖").check())
    assert Answer.objects.get(assessment=assessment, question_code="B3").value == "full"


def test_chinese_by_default_with_an_english_switch(
    live_server: Any, phone: Any, setting: dict, screenshots: Any
) -> None:
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from assessments.services import assessment_submit, invitation_accept
    from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all

    user = get_user_model().objects.create_user("wang.fang", password="english-too-2026")
    assessment = invitation_accept(setting["invitation"], user=user)
    answer_all(assessment, {"B1": 30, "B3": "office"}, user)
    page = phone.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/assessments/{assessment.pk}/")
    page.fill("#id_username", "wang.fang")
    page.fill("#id_password", "english-too-2026")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#q-B1 legend")).to_contain_text("数字化设备占生产设备的比例")
    expect(page.locator("#progress")).to_contain_text("已答 2 / 9 题")
    expect(page.locator("#savebar")).to_contain_text("每道题的回答都会自动保存")
    # The whole page fits a phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Log-out and the language switch are tall enough for a thumb.
    heights = page.locator(".topnav button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 40

    page.locator("button[name=language][value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#q-B1 legend")).to_contain_text(
        "Share of production equipment that is digital"
    )
    expect(page.locator("#progress")).to_contain_text("2 of 9 questions answered")
    page.screenshot(path=str(screenshots / "questionnaire-en.png"))

    answer_all(assessment, {**FULL_ANSWERS, "B1": 30, "O5": 2}, user)
    assessment_submit(assessment, user=user)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/result/")
    expect(page.locator("h1")).to_have_text("Your digital maturity result")
    expect(page.locator(".nextlevel")).to_contain_text("What is missing for Level 3")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshots / "result-en.png"), full_page=True)
    page.locator("button[name=language][value=zh-hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".nextlevel")).to_contain_text("距离三级还差什么")


def test_another_firms_user_gets_404_in_the_browser(
    live_server: Any, phone: Any, setting: dict
) -> None:
    from django.contrib.auth import get_user_model

    from assessments.services import invitation_accept

    owner = get_user_model().objects.create_user("owner", password="owner-pass-2026")
    assessment = invitation_accept(setting["invitation"], user=owner)
    stranger = get_user_model().objects.create_user("stranger", password="stranger-pass-2026")
    FirmMemberFactory(user=stranger, firm=FirmFactory())
    page = phone.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/assessments/{assessment.pk}/")
    page.fill("#id_username", "stranger")
    page.fill("#id_password", "stranger-pass-2026")
    target = f"{live_server.url}/assessments/{assessment.pk}/"
    with page.expect_response(lambda r: r.url == target) as info:
        page.locator("form.card button[type=submit]").click()
    assert info.value.status == 404


def test_an_answer_given_offline_is_saved_when_the_network_returns(
    live_server: Any, phone: Any, setting: dict
) -> None:
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from assessments.services import invitation_accept

    user = get_user_model().objects.create_user("zhao.lei", password="offline-pass-2026")
    assessment = invitation_accept(setting["invitation"], user=user)
    page = phone.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/assessments/{assessment.pk}/")
    page.fill("#id_username", "zhao.lei")
    page.fill("#id_password", "offline-pass-2026")
    page.locator("form.card button[type=submit]").click()
    _ready(page)
    phone.set_offline(True)
    page.locator("#q-B3").get_by_label("全厂覆盖").check()
    expect(page.locator("#st-B3")).to_have_class(re.compile(r"\bst-error\b"))
    expect(page.locator("#st-B3")).to_have_attribute("data-error", re.compile("未保存"))
    expect(page.locator("#savebar")).to_have_attribute("data-state", "error")
    assert not Answer.objects.filter(assessment=assessment, question_code="B3").exists()
    with page.expect_response(lambda r: "/answers/B3/" in r.url):
        phone.set_offline(False)
    expect(page.locator("#st-B3")).to_have_class(SAVED)
    expect(page.locator("#savebar")).to_have_attribute("data-state", "idle")
    assert Answer.objects.get(assessment=assessment, question_code="B3").value == "full"
