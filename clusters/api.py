"""Read-only API: the clusters a user oversees and their firms, scoped by the selectors."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers

from clusters import selectors
from clusters.models import Cluster, Firm


class ClusterSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True, allow_null=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)

    class Meta:
        model = Cluster
        fields = [
            "slug",
            "name_zh",
            "name_en",
            "kind",
            "region_code",
            "region_name",
            "lead_industry",
        ]


class FirmSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True, allow_null=True)

    class Meta:
        model = Firm
        fields = [
            "uscc",
            "name",
            "region_code",
            "industry_section",
            "industry_division",
            "employees",
            "revenue_10k_cny",
            "size_class",
        ]


class ClusterListApi(generics.ListAPIView):
    """Clusters the user oversees."""

    serializer_class = ClusterSerializer

    def get_queryset(self) -> QuerySet[Cluster]:
        """The user's clusters, by slug."""
        return selectors.clusters_visible_to(self.request.user).select_related("region")


class ClusterFirmsApi(generics.ListAPIView):
    """Firms of one cluster in the user's scope; 404 outside it."""

    serializer_class = FirmSerializer

    def get_queryset(self) -> QuerySet[Firm]:
        """The cluster's firms, by name."""
        if getattr(self, "swagger_fake_view", False):  # schema generation: no cluster
            return Firm.objects.none()
        cluster = get_object_or_404(
            selectors.clusters_visible_to(self.request.user), slug=self.kwargs["slug"]
        )
        return (
            selectors.cluster_firms(self.request.user, cluster)
            .select_related("region")
            .order_by("name", "pk")
        )
