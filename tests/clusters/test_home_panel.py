"""The officials' panel on the home page: the first 12 clusters with their firms, counted for
those 12 only (issue 14: a province's official must not wait for its whole register)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.demo import seed_register
from clusters.models import Cluster, ClusterMembership, OfficialScope
from clusters.templatetags.clusters_tags import official_clusters_panel

pytestmark = pytest.mark.django_db


def _official(clusters: list[Cluster]) -> object:
    user = get_user_model().objects.create_user("panel-official")
    for cluster in clusters:
        OfficialScope.objects.create(user=user, cluster=cluster)
    return user


def _panel(user: object) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as ctx:
        panel = official_clusters_panel({"request": SimpleNamespace(user=user)})
        shown = [(c.slug, c.firm_count) for c in panel["clusters"]]
    return {"shown": shown, "more": panel["more"]}, len(ctx.captured_queries)


def test_the_first_twelve_clusters_with_their_firms_and_whether_there_are_more():
    register = seed_register(clusters=14, firms=300, seed=4)
    user = _official(register.clusters[:13])
    panel, queries = _panel(user)
    expected = [
        (c.slug, ClusterMembership.objects.filter(cluster=c).count())
        for c in Cluster.objects.filter(pk__in=[c.pk for c in register.clusters[:13]]).order_by(
            "region__path", "slug"
        )[:12]
    ]
    assert panel == {"shown": expected, "more": True}
    assert all(n > 0 for _slug, n in panel["shown"])
    OfficialScope.objects.filter(user=user, cluster=register.clusters[12]).delete()
    twelve, queries_twelve = _panel(user)
    assert twelve["more"] is False and len(twelve["shown"]) == 12
    # The same few queries whatever the number of clusters in scope.
    assert queries == queries_twelve <= 6
