"""/api/docs/ offline shows the reminder and workspace-figure operations (issue 12) with
their documented answers: the dashboard's operation opens on its parameters and responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1366, "height": 900}}
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
NEW_PATHS = (
    "/api/v1/rounds/{id}/invitations/remind/",
    "/api/v1/clusters/{slug}/dashboard/",
    "/api/v1/regions/{region_id}/comparison/",
)


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("size", list(SIZES))
def test_docs_show_the_new_operations_offline(
    browser: Any, live_server: Any, screenshots: Path, size: str, language: str
) -> None:
    context = browser.new_context(viewport=SIZES[size], locale=LOCALES[language])
    context.set_default_timeout(15_000)
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    base = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{base}/api/docs/")
    page.locator(".opblock").first.wait_for()
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    for path in NEW_PATHS:
        assert path in operations, path
    dashboard = page.locator(".opblock", has=page.locator(f'[data-path="{NEW_PATHS[1]}"]'))
    dashboard.locator(".opblock-summary").first.click()
    body = dashboard.locator(".opblock-body")
    body.wait_for()
    text = body.inner_text()
    assert "round" in text and "page" in text
    for code in ("200", "400", "404", "429"):
        assert body.locator(f'tr.response[data-code="{code}"]').count() == 1, code
    dashboard.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"api-workspace-docs-{size}-{language}.png"))
    assert blocked == [], blocked
    context.close()
