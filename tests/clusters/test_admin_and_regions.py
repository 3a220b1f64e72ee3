"""Region paths stay right when regions are created or moved; the admin covers every model."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clusters import selectors
from clusters.models import Region
from clusters.services import region_create, region_update_paths
from tests.factories import ClusterFactory, OfficialScopeFactory, RegisterUploadFactory

pytestmark = pytest.mark.django_db


def test_region_create_sets_the_materialised_path():
    province = region_create(code="320000", name_zh="江苏省", level="province")
    city = region_create(code="320500", name_zh="苏州市", level="city", parent=province)
    county = region_create(code="320583", name_zh="昆山市", level="county", parent=city)
    assert province.path == f"/{province.pk}/"
    assert county.path == f"/{province.pk}/{city.pk}/{county.pk}/"


def test_moving_a_city_moves_its_subtree_and_the_officials_view(world, regional_official):
    # Move the city (with its county and cluster alpha) from province A to province B.
    city = world["city_a"]
    city.parent = world["province_b"]
    city.save()
    changed = region_update_paths(city)
    assert changed == 2
    county = Region.objects.get(pk=world["county_a"].pk)
    assert county.path == f"{world['province_b'].path}{city.pk}/{county.pk}/"
    assert not selectors.can_view_cluster(regional_official, world["alpha"])
    b_official = OfficialScopeFactory(region=world["province_b"]).user
    assert selectors.can_view_cluster(b_official, world["alpha"])


def test_a_region_cannot_move_under_its_own_subregion(world):
    province = world["province_a"]
    province.parent = world["county_a"]
    with pytest.raises(ValueError):
        region_update_paths(province)


def test_admin_refuses_a_cycle(client, world, staff_user):
    client.force_login(staff_user)
    province = world["province_a"]
    url = reverse("admin:clusters_region_change", args=[province.pk])
    response = client.post(
        url,
        {
            "code": province.code,
            "name_zh": province.name_zh,
            "name_en": province.name_en,
            "level": "province",
            "parent": world["county_a"].pk,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    province.refresh_from_db()
    assert province.parent_id is None


def test_admin_adding_a_region_sets_its_path(client, world, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:clusters_region_add"),
        {
            "code": "320581",
            "name_zh": "常熟市",
            "name_en": "",
            "level": "county",
            "parent": world["city_a"].pk,
        },
    )
    assert response.status_code == 302
    region = Region.objects.get(code="320581")
    assert region.path == f"{world['city_a'].path}{region.pk}/"


@pytest.mark.parametrize(
    "model",
    [
        "region",
        "cluster",
        "firm",
        "clustermembership",
        "firmmember",
        "officialscope",
        "registerupload",
    ],
)
def test_admin_lists_search_and_filter_every_model(client, world, staff_user, firm_user, model):
    RegisterUploadFactory(cluster=world["alpha"], original_name="苏州.csv")
    client.force_login(staff_user)
    url = reverse(f"admin:clusters_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "苏州"}).status_code == 200


def test_admin_firm_search_finds_by_code(client, world, staff_user):
    client.force_login(staff_user)
    firm = world["firms"]["beta"][1]
    page = client.get(reverse("admin:clusters_firm_changelist"), {"q": firm.uscc})
    assert firm.name in page.content.decode()


def test_admin_firm_save_derives_the_size_class(client, world, staff_user):
    client.force_login(staff_user)
    firm = world["firms"]["alpha"][0]
    url = reverse("admin:clusters_firm_change", args=[firm.pk])
    data = {
        "uscc": firm.uscc.lower(),
        "name": firm.name,
        "region": world["county_a"].pk,
        "industry_section": "C",
        "industry_division": "34",
        "industry_group": "",
        "employees": "1000",
        "revenue_10k_cny": "40000",
        "total_assets_10k_cny": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    firm.refresh_from_db()
    assert firm.size_class == "large"
    assert firm.uscc == firm.uscc.upper()


def test_admin_rejects_an_invalid_code(client, world, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:clusters_firm_add"),
        {
            "uscc": "91350100M000100Y44",
            "name": "坏代码公司",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert "校验码" in response.content.decode()


def test_cluster_factory_still_builds_clusters_in_new_regions():
    cluster = ClusterFactory()
    assert cluster.region.path == f"/{cluster.region.pk}/"
