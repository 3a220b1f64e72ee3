"""Fault, in a real browser: the database restarts while a firm answers on a phone.

Chromium on the questionnaire, a private PostgreSQL server under gunicorn (as in
test_database_restart.py, here under runserver). With the server stopped, a changed answer shows "not saved yet"
in the page's language, on the question and in the save bar ("retrying"); once the server
is back the page sends it again by itself (after the 503's Retry-After) and shows it saved,
and the database holds the last value once. In Chinese on a phone, in English on a PC.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faults.live import free_port, port_open, private_postgres, stack, wait_for

CASES = [
    # locale, viewport, the question's words, the save bar's words, value sent
    ("zh-CN", {"width": 375, "height": 812}, "暂时无法连接数据库", "部分回答尚未保存", "43"),
    ("en-US", {"width": 1366, "height": 900}, "cannot reach its database", "not saved yet", "44"),
]


@pytest.mark.browser
def test_a_save_during_a_database_restart_shows_retrying_and_is_stored_once_it_is_back(
    browser: Any, tmp_path: Path, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    with private_postgres() as pg:
        url = pg.create_database("gradient_restart_browser")
        with stack(tmp_path, "restart_browser", database_url=url) as s:
            pk = int(s.run("-m", "tests.faults.scripts", "draft").strip())
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            # Django's own server: it serves the static files (htmx, the questionnaire's
            # script) with DEBUG on, as the demo does; gunicorn alone would not.
            s.start(
                "web",
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            )
            wait_for(lambda: port_open(port), timeout=60, what="gunicorn\n" + s.log("web"))
            revision = 0
            for locale, viewport, question_says, bar_says, value in CASES:
                context = browser.new_context(viewport=viewport, locale=locale)
                context.set_default_timeout(20_000)
                try:
                    page = context.new_page()
                    page.goto(f"{base}/accounts/login/?next=/assessments/{pk}/")
                    page.fill("#id_username", "fault_firm")
                    page.fill("#id_password", "correct-horse-battery")
                    page.locator("form.card button[type=submit]").click()
                    page.wait_for_selector("html[data-qready]", state="attached")
                    status, bar = page.locator("#st-B1"), page.locator("#savebar")

                    pg.stop()
                    try:
                        with page.expect_response(
                            lambda r: "/answers/B1/" in r.url and r.status == 503
                        ):
                            page.locator("#in-B1").fill(value)
                        expect(bar).to_have_attribute("data-state", "retrying")
                        expect(status).to_have_class(re.compile(r"\bst-retrying\b"))
                        assert question_says in (status.get_attribute("data-error") or "")
                        # ... and drawn on the page, where the person looks.
                        drawn = status.evaluate("e => getComputedStyle(e, '::before').content")
                        assert question_says in drawn
                        expect(bar.locator(".s-retrying")).to_be_visible()
                        expect(bar.locator(".s-retrying")).to_contain_text(bar_says)
                        page.screenshot(
                            path=str(screenshots / f"fault-db-retrying-{locale}.png"),
                            full_page=False,
                        )
                    finally:
                        pg.start()
                    # Sent again by the page itself: no one touches it.
                    expect(status).to_have_class(re.compile(r"\bst-saved\b"), timeout=40_000)
                    expect(bar).to_have_attribute("data-state", "idle")
                    revision += 1
                    rows = s.query(
                        "SELECT value, revision FROM assessments_answer"
                        " WHERE assessment_id = ? AND question_code = 'B1'",
                        pk,
                    )
                    assert [(str(v), r) for v, r in rows] == [(value, revision)]
                finally:
                    context.close()
