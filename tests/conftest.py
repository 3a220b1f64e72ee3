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


# --- The cast -------------------------------------------------------------------------------
# Two provinces; province A has a city with a county. Cluster "alpha" sits in the county,
# cluster "beta" in the city, cluster "gamma" in province B. Each cluster has firms.


@pytest.fixture
def world(db: None) -> dict[str, object]:
    """A small register spanning two provinces, used by permission tests."""
    from tests.factories import ClusterFactory, FirmFactory, MembershipFactory, RegionFactory

    province_a = RegionFactory(code="320000", name_zh="江苏省", name_en="Jiangsu", level="province")
    city_a = RegionFactory(
        code="320500", name_zh="苏州市", name_en="Suzhou", level="city", parent=province_a
    )
    county_a = RegionFactory(
        code="320583", name_zh="昆山市", name_en="Kunshan", level="county", parent=city_a
    )
    province_b = RegionFactory(
        code="330000", name_zh="浙江省", name_en="Zhejiang", level="province"
    )
    alpha = ClusterFactory(slug="alpha", region=county_a)
    beta = ClusterFactory(slug="beta", region=city_a)
    gamma = ClusterFactory(slug="gamma", region=province_b)
    firms: dict[str, list[object]] = {}
    for cluster, region in ((alpha, county_a), (beta, city_a), (gamma, province_b)):
        firms[cluster.slug] = []
        for _ in range(3):
            firm = FirmFactory(region=region)
            MembershipFactory(cluster=cluster, firm=firm)
            firms[cluster.slug].append(firm)
    return {
        "province_a": province_a,
        "city_a": city_a,
        "county_a": county_a,
        "province_b": province_b,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "firms": firms,
    }


@pytest.fixture
def firm_user(world: dict[str, object]) -> object:
    """Owner of the first firm of cluster alpha."""
    from tests.factories import FirmMemberFactory, UserFactory

    user = UserFactory(username="firm_user")
    FirmMemberFactory(user=user, firm=world["firms"]["alpha"][0])  # type: ignore[index]
    return user


@pytest.fixture
def other_firm_user(world: dict[str, object]) -> object:
    """Owner of the second firm of cluster alpha: a peer, who must not see firm_user's data."""
    from tests.factories import FirmMemberFactory, UserFactory

    user = UserFactory(username="other_firm_user")
    FirmMemberFactory(user=user, firm=world["firms"]["alpha"][1])  # type: ignore[index]
    return user


@pytest.fixture
def cluster_official(world: dict[str, object]) -> object:
    """Official of cluster alpha only."""
    from tests.factories import OfficialScopeFactory, UserFactory

    user = UserFactory(username="cluster_official")
    OfficialScopeFactory(user=user, cluster=world["alpha"])
    return user


@pytest.fixture
def regional_official(world: dict[str, object]) -> object:
    """Official of province A: sees alpha (county) and beta (city), never gamma."""
    from tests.factories import OfficialScopeFactory, UserFactory

    user = UserFactory(username="regional_official")
    OfficialScopeFactory(user=user, region=world["province_a"])
    return user


@pytest.fixture
def staff_user(db: None) -> object:
    from tests.factories import UserFactory

    return UserFactory(username="staff_user", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db: None) -> object:
    """A logged-in user with no firm and no scope."""
    from tests.factories import UserFactory

    return UserFactory(username="outsider")


# --- The questionnaire ----------------------------------------------------------------------
# The demo framework (tests/assessments/frameworks/questionnaire-demo.yaml), a round of cluster
# alpha open from yesterday for a month, every alpha firm invited, and firm_user's draft.


@pytest.fixture
def demo_framework() -> object:
    from assessments.framework import load_framework_file
    from tests.assessments.questionnaire_fixtures import DEMO_FILE

    return load_framework_file(DEMO_FILE)


@pytest.fixture
def demo_version(db: None) -> object:
    from tests.assessments.questionnaire_fixtures import DEMO_FILE
    from tests.factories import FrameworkVersionFactory

    return FrameworkVersionFactory(path=DEMO_FILE)


@pytest.fixture
def open_round(world: dict[str, object], demo_version: object) -> object:
    from tests.assessments.questionnaire_fixtures import make_round

    return make_round(world["alpha"], demo_version)


@pytest.fixture
def invitations(open_round: object, world: dict[str, object]) -> list[object]:
    from tests.factories import InvitationFactory

    return [
        InvitationFactory(round=open_round, firm=firm, token=f"token-{firm.pk}-xxxxxxxx")
        for firm in world["firms"]["alpha"]  # type: ignore[index]
    ]


@pytest.fixture
def draft(
    firm_user: object, open_round: object, invitations: list[object], world: dict[str, object]
) -> object:
    """firm_user's draft in the open round (firm alpha 0, invited)."""
    from tests.factories import AssessmentFactory

    firm = world["firms"]["alpha"][0]  # type: ignore[index]
    return AssessmentFactory(round=open_round, firm=firm)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: the API's throttles count there (issue 12), and
    users of different tests share ids."""
    from django.core.cache import cache

    cache.clear()
