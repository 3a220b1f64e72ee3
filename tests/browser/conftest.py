"""Real-browser fixtures: Playwright's sync API driving Debian's Chromium against live_server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module.

    Playwright's sync API runs an event loop in this thread, so Django's guard against ORM
    calls from async code must be lifted while it runs; the ORM calls made by the tests
    themselves (fixtures, assertions) are synchronous and safe. The variable is put back
    afterwards so that it never leaks into other tests or subprocesses (check --deploy).
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        # This module-scoped fixture runs before the root conftest's marker check, so it
        # applies the same rule itself: CI must run the browser tests, never skip them.
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI needs Debian's chromium for the browser tests")
        pytest.skip("Debian's chromium is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh browser context the size of a phone, with downloads allowed."""
    context = browser.new_context(viewport=PHONE, accept_downloads=True, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the journeys save their screenshots.

    The tracked docs/screenshots/ is written only on an explicit `make screenshots`
    (SCREENSHOTS=docs); an ordinary test run saves them in its own temporary folder, so
    `make test` leaves the work tree as it found it.
    """
    if os.environ.get("SCREENSHOTS") == "docs":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path
