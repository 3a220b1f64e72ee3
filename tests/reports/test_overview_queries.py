"""The overview pages run as many queries for 16 clusters as for 5 (issue 14, one million firms).

The demo register at two sizes: the provincial official (Zhejiang) sees two clusters in the
small one and four in the larger one, with eight times the firms (an official of one cluster
only gets pages preselected for it, a few queries more: both sizes here have several). Each page is requested cold
(cache cleared: every figure from the database) and warm; the number of queries must not grow
with the number of clusters or firms, and stays under a fixed bound.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.demo import seed_assessments
from assessments.models import (
    Answer,
    Assessment,
    DimensionScore,
    Invitation,
    QuestionAttainment,
    Round,
)
from clusters.demo import seed_register
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, OfficialScope, Region
from reports.context import region_clusters

# Queries per page, at most (session, user and scope lookups included).
BOUND = {"region": 30, "dashboard": 50, "home": 20, "reports": 20}


def _wipe() -> None:
    for model in (Answer, DimensionScore, QuestionAttainment, Assessment, Invitation, Round):
        model.objects.all().delete()
    FirmMember.objects.all().delete()
    OfficialScope.objects.all().delete()
    ClusterMembership.objects.all().delete()
    Firm.objects.all().delete()
    Cluster.objects.all().delete()
    for region in sorted(Region.objects.all(), key=lambda r: -len(r.path)):
        region.delete()
    get_user_model().objects.filter(username__startswith="demo_").delete()


def _queries(clusters: int, firms: int) -> tuple[dict[str, int], int]:
    """Seed the demo at this size; {page (cold/warm): queries}, and the province's clusters."""
    register = seed_register(clusters=clusters, firms=firms, seed=2, fast=False)
    seed_assessments(clusters=register.clusters, seed=2, created=True, fast=False)
    official = get_user_model().objects.get(username="demo_region")
    province = Region.objects.get(pk=official.official_scopes.get().region_id)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(official)
    pages = {
        "region": reverse("report-region", kwargs={"region_id": province.pk}),
        "dashboard": reverse("report-dashboard", args=[register.clusters[0].slug]),
        "home": reverse("home"),
        "reports": reverse("report-index"),
    }
    out = {}
    for name, url in pages.items():
        for mode in ("cold", "warm"):
            if mode == "cold":
                cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            out[f"{name} {mode}"] = len(ctx.captured_queries)
            assert len(ctx.captured_queries) <= BOUND[name], (name, mode, ctx.captured_queries)
    return out, region_clusters(province).count()


@pytest.mark.django_db
def test_overview_pages_do_not_query_more_for_more_clusters():
    small, small_clusters = _queries(clusters=5, firms=100)
    _wipe()
    large, large_clusters = _queries(clusters=16, firms=800)
    assert (small_clusters, large_clusters) == (2, 4)
    # Not one query more with twice the clusters and eight times the firms (the small
    # register's cluster report takes a branch or two more for its small samples).
    grown = {page: (small[page], n) for page, n in large.items() if n > small[page]}
    assert not grown
    assert large["region cold"] == small["region cold"]
    # The cache serves the regional figures: a warm view reads fewer rows than a cold one.
    assert large["region warm"] < large["region cold"]
