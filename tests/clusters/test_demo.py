"""seed_demo: same seed, same data; realistic and consistent register."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clusters import selectors, sizes, uscc
from clusters.demo import seed_register
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, OfficialScope, Region

pytestmark = pytest.mark.django_db


def _snapshot() -> dict[str, list[tuple]]:
    return {
        "regions": list(Region.objects.order_by("code").values_list("code", "name_zh", "level")),
        "clusters": list(
            Cluster.objects.order_by("slug").values_list("slug", "name_zh", "kind", "region__code")
        ),
        "firms": list(
            Firm.objects.order_by("uscc").values_list(
                "uscc",
                "name",
                "region__code",
                "industry_division",
                "employees",
                "revenue_10k_cny",
                "size_class",
            )
        ),
        "memberships": list(
            ClusterMembership.objects.order_by("cluster__slug", "firm__uscc").values_list(
                "cluster__slug", "firm__uscc", "start_date"
            )
        ),
    }


def _wipe() -> None:
    FirmMember.objects.all().delete()
    OfficialScope.objects.all().delete()
    ClusterMembership.objects.all().delete()
    Firm.objects.all().delete()
    Cluster.objects.all().delete()
    for region in sorted(Region.objects.all(), key=lambda r: -len(r.path)):
        region.delete()
    get_user_model().objects.filter(username__startswith="demo_").delete()


def test_same_seed_gives_the_same_data():
    seed_register(clusters=18, firms=400, seed=7)
    first = _snapshot()
    _wipe()
    seed_register(clusters=18, firms=400, seed=7)
    assert _snapshot() == first
    assert len(first["firms"]) == 400 and len(first["clusters"]) == 18


def test_another_seed_gives_other_data():
    seed_register(clusters=4, firms=100, seed=1)
    first = _snapshot()
    _wipe()
    seed_register(clusters=4, firms=100, seed=2)
    assert _snapshot()["firms"] != first["firms"]


def test_demo_register_is_consistent_and_realistic():
    result = seed_register(clusters=6, firms=600, seed=1)
    assert result.created
    firms = list(Firm.objects.all())
    assert len(firms) == 600
    assert all(uscc.is_valid(f.uscc) for f in firms)
    assert len({f.uscc for f in firms}) == 600
    for firm in firms:
        expected = sizes.size_class(
            firm.industry_division, employees=firm.employees, revenue=firm.revenue_10k_cny
        )
        assert firm.size_class == (expected or "")
        assert 13 <= int(firm.industry_division) <= 43
    counts = Counter(f.size_class for f in firms)
    # Log-normal spreads: mostly micro and small firms, some medium, few large.
    assert counts["micro"] + counts["small"] > counts["medium"] > counts["large"]
    assert counts["small"] > 100 and counts["medium"] > 10
    assert counts[""] > 0  # some firms lack a figure, as real registers do
    # Regions form a province → city → county tree with real codes and consistent paths.
    for region in Region.objects.select_related("parent"):
        expected_path = (region.parent.path if region.parent else "/") + f"{region.pk}/"
        assert region.path == expected_path
        assert len(region.code) == 6
    assert Region.objects.get(code="320583").parent.code == "320500"
    # Every cluster has firms.
    assert all(c.firms.exists() for c in Cluster.objects.all())


def test_demo_users_see_their_slices():
    seed_register(clusters=6, firms=300, seed=1)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo_")}
    assert set(users) == {"demo_firm", "demo_cluster", "demo_region", "demo_admin"}
    assert users["demo_firm"].check_password("demo-firm-1")
    assert selectors.firms_visible_to(users["demo_firm"]).count() == 1
    first = Cluster.objects.get(slug="demo-001")
    assert list(selectors.clusters_visible_to(users["demo_cluster"])) == [first]
    regional = set(selectors.clusters_visible_to(users["demo_region"]))
    assert first in regional and len(regional) < Cluster.objects.count()
    # The regional demo has clusters to compare side by side.
    assert len(regional) >= 2
    assert users["demo_admin"].is_superuser


def test_seeding_twice_leaves_the_data_alone():
    seed_register(clusters=3, firms=50, seed=1)
    again = seed_register(clusters=3, firms=50, seed=1)
    assert not again.created
    assert Firm.objects.count() == 50


def test_command_prints_the_logins(capsys):
    call_command("seed_demo", "--clusters", "3", "--firms", "40", "--seed", "3")
    out = capsys.readouterr().out
    assert "40 firms" in out
    for username, password in [
        ("demo_firm", "demo-firm-1"),
        ("demo_cluster", "demo-cluster-1"),
        ("demo_region", "demo-region-1"),
        ("demo_admin", "demo-admin-1"),
    ]:
        assert username in out and password in out


def test_seeding_reuses_regions_and_users_already_there():
    from tests.factories import RegionFactory, UserFactory

    jiangsu = RegionFactory(code="320000", name_zh="江苏省", level="province")
    UserFactory(username="demo_admin")
    result = seed_register(clusters=2, firms=20, seed=1)
    assert result.created
    assert Region.objects.filter(code="320000").count() == 1
    assert Region.objects.get(code="320500").parent == jiangsu
    admin = get_user_model().objects.get(username="demo_admin")
    assert admin.is_superuser and admin.check_password("demo-admin-1")
