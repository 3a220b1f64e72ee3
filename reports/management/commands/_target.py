"""Shared argument handling for the report commands: find the cluster and its round."""

from __future__ import annotations

from django.core.management.base import CommandError

from assessments.models import Round
from clusters.models import Cluster


def cluster_round(slug: str, round_id: int | None) -> tuple[Cluster, Round]:
    """The cluster and the chosen round (by default its latest with a submission, or closed,
    as for a report asked for on the web); CommandError (exit 2) when unknown."""
    cluster = Cluster.objects.filter(slug=slug).first()
    if cluster is None:
        raise CommandError(f"Unknown cluster {slug!r}: no cluster has this slug.", returncode=2)
    rounds = Round.objects.filter(cluster=cluster).select_related(
        "framework_version__framework", "cluster__region"
    )
    if round_id is None:
        round_ = rounds.latest_reportable_of(cluster)
        if round_ is None:
            raise CommandError(f"Cluster {slug!r} has no assessment round yet.", returncode=2)
    else:
        round_ = rounds.filter(pk=round_id).first()
        if round_ is None:
            raise CommandError(
                f"Unknown round {round_id} for cluster {slug!r}; its rounds are: "
                + (", ".join(str(r.pk) for r in rounds.order_by("opens_at")) or "none"),
                returncode=2,
            )
    return cluster, round_
