"""/api/docs/ with the network cut off (issue 12): every request not to 127.0.0.1 is blocked,
and Swagger UI still renders the API's operations from the app's own files."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1366, "height": 900}}
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("size", list(SIZES))
def test_api_docs_render_offline(
    browser: Any, live_server: Any, screenshots: Path, size: str, language: str
) -> None:
    context = browser.new_context(viewport=SIZES[size], locale=LOCALES[language])
    context.set_default_timeout(15_000)
    blocked: list[str] = []
    violations: list[str] = []

    def only_local(route: Any) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    base = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{base}/api/docs/")
    page.locator(".opblock").first.wait_for()
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/rounds/" in operations and "/api/v1/assessments/{id}/submit/" in operations
    assert page.locator(".opblock-summary-method").first.inner_text() in {
        "GET",
        "POST",
        "PUT",
        "PATCH",
    }
    assert page.locator(".info .title").first.inner_text().startswith("Gradient API")
    page.screenshot(path=str(screenshots / f"api-docs-{size}-{language}.png"))
    assert blocked == [], blocked
    assert violations == [], violations
    context.close()
