"""Fault tests reuse the report tests' scored round."""

from tests.reports.conftest import scored  # noqa: F401
