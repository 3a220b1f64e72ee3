"""The assessor's verification page in a real browser (Chromium), on a phone in Chinese: change
one answer with a reason, upload a PNG as evidence, confirm the rest, complete, and see the
verified level; then the firm sees it beside its own. Screenshots of the work list, the page
and the firm's block at 375 px and 1366 px in both languages, none wider than the screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from programmes import services
from programmes.evidence import evidence_add
from programmes.models import Evidence, Verification, VerifiedAnswer
from programmes.services import Finding
from tests.programmes.verification_builders import World, build_world, png_bytes, png_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def world(transactional_db: None) -> World:
    return build_world()


def _login(context: Any, live_server: Any, user: Any, language: str) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            },
            {"name": "django_language", "value": language, "domain": host, "path": "/"},
        ]
    )


def _no_overflow(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"


def test_assessor_verifies_on_a_phone_in_chinese(
    live_server: Any, browser: Any, world: World, tmp_path: Path, screenshots: Path
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    _login(context, live_server, world.assessor, "zh-hans")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/")
    page.click("#home-assessor a")
    assert "核验任务清单" in page.inner_text("h1")
    page.locator("tr", has_text="企业Fennel").locator("a.button").click()
    assert page.inner_text("h1") == "现场核验"
    _no_overflow(page, PHONE["width"])

    block = page.locator("#vq-B3")
    block.locator("summary").click()
    block.locator("input[name=value][value=false]").check()
    block.locator("textarea[name=reason]").fill("现场未见云服务合同")
    block.locator("button", has_text="保存修改").click()
    page.wait_for_selector("#vq-B3.vq-changed")
    assert "现场未见云服务合同" in page.inner_text("#vq-B3 .reason")
    assert page.inner_text("#vcount") == "1"

    photo = tmp_path / "合同照片.png"
    photo.write_bytes(png_bytes((40, 30)))
    page.locator("#file-B3").set_input_files(str(photo))
    page.locator("#vq-B3 .vq-upload button").click()
    page.wait_for_selector("#vq-B3 .vevidence a")
    assert "合同照片.png" in page.inner_text("#vq-B3 .vevidence")
    _no_overflow(page, PHONE["width"])
    page.screenshot(path=str(screenshots / "verification-phone-zh-in-progress.png"), full_page=True)

    page.click("text=其余全部确认")
    page.wait_for_load_state()
    page.click("#complete")
    page.wait_for_selector("#vlocked")
    verified = page.inner_text("#verified-level")
    done = Verification.objects.get()
    assert done.is_completed
    assert verified == {"L1": "一级", "L2": "二级", "L3": "三级"}.get(done.level, "未达到最低等级")
    assert page.locator("#vq-B3 form.vq-change-form").count() == 0  # read-only now
    assert VerifiedAnswer.objects.get(question_code="B3").value is False
    assert Evidence.objects.get().content_type == "image/png"
    _no_overflow(page, PHONE["width"])
    page.screenshot(path=str(screenshots / "verification-phone-zh-locked.png"), full_page=True)
    assert not errors, errors

    firm = browser.new_context(viewport=PHONE, locale="zh-CN")
    _login(firm, live_server, world.firm_user, "zh-hans")
    result = firm.new_page()
    result.goto(f"{live_server.url}/assessments/{world.assessment.pk}/result/")
    assert result.inner_text("#verified-level") == verified
    assert "现场未见云服务合同" in result.inner_text("#verified-result")
    _no_overflow(result, PHONE["width"])
    firm.close()
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1366"])
def test_verification_pages_fit_and_speak_the_language(
    live_server: Any,
    browser: Any,
    world: World,
    screenshots: Path,
    language: str,
    viewport: dict,
) -> None:
    verification = services.verification_start(world.assessment_g, user=world.assessor)
    services.verification_record(
        verification, Finding("B1", 5, "现场统计 20 台设备中仅 1 台联网"), user=world.assessor
    )
    evidence_add(verification, "B1", png_file("设备清单.png"), world.assessor)
    services.verification_confirm_rest(verification, user=world.assessor)
    services.verification_complete(verification, user=world.assessor)
    ongoing = services.verification_start(world.assessment, user=world.assessor)
    services.verification_record(ongoing, Finding("B3", True), user=world.assessor)
    context = browser.new_context(viewport=viewport)
    _login(context, live_server, world.assessor, language)
    page = context.new_page()
    size = viewport["width"]
    shots = {
        "worklist": "/verification/",
        "page": f"/verification/assessment/{world.assessment.pk}/",
        "locked": f"/verification/assessment/{world.assessment_g.pk}/",
    }
    english = ["Confirm", "Evidence", "Work list", "Verification", "Reason"]
    for name, path in shots.items():
        page.goto(live_server.url + path)
        _no_overflow(page, size)
        text = page.inner_text("main")
        if language == "zh-hans":
            assert not [w for w in english if w in text], f"English on the Chinese {name} page"
        page.screenshot(
            path=str(screenshots / f"verification-{name}-{language}-{size}.png"), full_page=True
        )
    firm = browser.new_context(viewport=viewport)
    _login(firm, live_server, world.other_firm_user, language)
    result = firm.new_page()
    result.goto(f"{live_server.url}/assessments/{world.assessment_g.pk}/result/")
    assert result.locator("#verified-result").count() == 1
    _no_overflow(result, size)
    result.locator("#verified-result").screenshot(
        path=str(screenshots / f"verification-result-{language}-{size}.png")
    )
    firm.close()
    context.close()
