"""Shared fixtures, and the rules for tests that need real services.

Tests marked `redis`, `worker` or `browser` need a Redis server or Chromium. Where one is
missing they are skipped on a developer's machine, but under CI (CI=true) they fail instead:
CI must exercise the real thing. Tests marked `postgres` run when DATABASE_URL points at
PostgreSQL (the second pass of .ci/run) and are skipped on the SQLite pass.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest
from django.conf import settings
from django.db import connection

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _redis_up() -> bool:
    host_port = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"CI needs this service: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    node = request.node
    if node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    if (node.get_closest_marker("redis") or node.get_closest_marker("worker")) and not _redis_up():
        _missing(f"Redis is not reachable at {REDIS_URL}")
    if node.get_closest_marker("browser") and not shutil.which("chromium"):
        _missing("Debian's chromium is not installed")


@pytest.fixture(autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory, settings: object) -> None:
    """Every test writes files into its own folder, never into var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")  # type: ignore[attr-defined]


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def base_dir() -> object:
    return settings.BASE_DIR
