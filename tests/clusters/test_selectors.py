"""The permission matrix: each role sees exactly its slice of the register."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from clusters import selectors
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def _firm_ids(world, *slugs: str) -> set[int]:
    return {f.pk for slug in slugs for f in world["firms"][slug]}


def _cluster_ids(world, *slugs: str) -> set[int]:
    return {world[slug].pk for slug in slugs}


def test_firm_user_sees_only_their_own_firm(world, firm_user):
    assert _ids(selectors.firms_visible_to(firm_user)) == {world["firms"]["alpha"][0].pk}
    assert _ids(selectors.user_firms(firm_user)) == {world["firms"]["alpha"][0].pk}
    assert _ids(selectors.clusters_visible_to(firm_user)) == set()
    assert _ids(selectors.regions_visible_to(firm_user)) == set()
    assert not selectors.is_official(firm_user)
    assert selectors.is_firm_user(firm_user)


def test_peer_firm_user_does_not_see_the_other_firm(world, firm_user, other_firm_user):
    mine = world["firms"]["alpha"][0]
    assert not selectors.can_view_firm(other_firm_user, mine)
    assert selectors.can_view_firm(firm_user, mine)


def test_firm_clusters_lists_the_clusters_of_the_users_firm(world, firm_user):
    assert _ids(selectors.firm_clusters(firm_user)) == _cluster_ids(world, "alpha")


def test_cluster_official_sees_the_firms_of_their_cluster_only(world, cluster_official):
    assert _ids(selectors.firms_visible_to(cluster_official)) == _firm_ids(world, "alpha")
    assert _ids(selectors.clusters_visible_to(cluster_official)) == _cluster_ids(world, "alpha")
    assert _ids(selectors.regions_visible_to(cluster_official)) == set()
    assert selectors.is_official(cluster_official)
    assert selectors.can_view_cluster(cluster_official, world["alpha"])
    assert not selectors.can_view_cluster(cluster_official, world["beta"])
    assert not selectors.can_view_cluster(cluster_official, world["gamma"])


def test_regional_official_sees_everything_under_the_region(world, regional_official):
    assert _ids(selectors.firms_visible_to(regional_official)) == _firm_ids(world, "alpha", "beta")
    assert _ids(selectors.clusters_visible_to(regional_official)) == _cluster_ids(
        world, "alpha", "beta"
    )
    assert _ids(selectors.regions_visible_to(regional_official)) == {
        world["province_a"].pk,
        world["city_a"].pk,
        world["county_a"].pk,
    }
    assert not selectors.can_view_cluster(regional_official, world["gamma"])


def test_city_official_does_not_see_sibling_or_parent_regions(world):
    user = UserFactory(username="city_official")
    OfficialScopeFactory(user=user, region=world["city_a"])
    # A second city in province A with its own cluster: outside this official's city.
    other_city = RegionFactory(code="320200", level="city", parent=world["province_a"])
    other_cluster = ClusterFactory(slug="delta", region=other_city)
    MembershipFactory(cluster=other_cluster, firm=FirmFactory(region=other_city))
    assert _ids(selectors.clusters_visible_to(user)) == _cluster_ids(world, "alpha", "beta")
    assert _ids(selectors.firms_visible_to(user)) == _firm_ids(world, "alpha", "beta")
    assert world["province_a"].pk not in _ids(selectors.regions_visible_to(user))


def test_region_prefix_does_not_match_a_longer_id(world):
    """Region /900001/ must not swallow region /9000012/: paths end with a slash."""
    low = RegionFactory(id=900001, code="460000")
    high = RegionFactory(id=9000012, code="500000")
    ClusterFactory(slug="high", region=high)
    user = UserFactory(username="low_official")
    OfficialScopeFactory(user=user, region=low)
    assert high.path.startswith(low.path.rstrip("/"))  # the clash the slash guards against
    assert _ids(selectors.regions_visible_to(user)) == {low.pk}
    assert _ids(selectors.clusters_visible_to(user)) == set()


def test_staff_see_everything(world, staff_user):
    assert _ids(selectors.firms_visible_to(staff_user)) == _firm_ids(
        world, "alpha", "beta", "gamma"
    )
    assert _ids(selectors.clusters_visible_to(staff_user)) == _cluster_ids(
        world, "alpha", "beta", "gamma"
    )


def test_outsider_and_anonymous_see_nothing(world, outsider):
    for user in (outsider, AnonymousUser(), None):
        assert _ids(selectors.firms_visible_to(user)) == set()
        assert _ids(selectors.clusters_visible_to(user)) == set()
        assert _ids(selectors.regions_visible_to(user)) == set()
        assert not selectors.is_official(user)
        assert not selectors.can_view_cluster(user, world["alpha"])


def test_inactive_official_sees_nothing(world, cluster_official):
    cluster_official.is_active = False
    cluster_official.save()
    assert _ids(selectors.firms_visible_to(cluster_official)) == set()


def test_firm_in_two_clusters_is_listed_once(world, regional_official):
    firm = world["firms"]["alpha"][0]
    MembershipFactory(cluster=world["beta"], firm=firm)
    qs = selectors.firms_visible_to(regional_official)
    assert qs.count() == len(_firm_ids(world, "alpha", "beta"))


def test_official_with_two_scopes_gets_the_union(world):
    user = UserFactory(username="two_scopes")
    OfficialScopeFactory(user=user, cluster=world["alpha"])
    OfficialScopeFactory(user=user, region=world["province_b"])
    assert _ids(selectors.clusters_visible_to(user)) == _cluster_ids(world, "alpha", "gamma")
    assert _ids(selectors.firms_visible_to(user)) == _firm_ids(world, "alpha", "gamma")


def test_cluster_firms_is_scoped(world, cluster_official):
    assert _ids(selectors.cluster_firms(cluster_official, world["alpha"])) == _firm_ids(
        world, "alpha"
    )
    assert _ids(selectors.cluster_firms(cluster_official, world["gamma"])) == set()
