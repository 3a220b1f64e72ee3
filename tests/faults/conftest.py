"""Fault tests reuse the report tests' scored round and the browser tests' Chromium."""

from tests.browser.conftest import browser, screenshots  # noqa: F401
from tests.reports.conftest import scored  # noqa: F401
