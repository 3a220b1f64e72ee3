"""Reads for report pages: which jobs and targets a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from clusters.models import Cluster
from clusters.selectors import can_view_cluster, regions_visible_to
from reports.models import ReportJob


def can_view_job(user: Any, job: ReportJob) -> bool:
    """True when the user may see and download the job: the target lies in their scope."""
    if not getattr(user, "is_authenticated", False):
        return False
    if job.kind == ReportJob.Kind.CLUSTER:
        cluster = Cluster.objects.filter(pk=job.params.get("cluster_id")).first()
        return cluster is not None and can_view_cluster(user, cluster)
    if job.kind == ReportJob.Kind.REGION:
        return regions_visible_to(user).filter(pk=job.params.get("region_id")).exists()
    return bool(user.is_staff) or job.requested_by_id == user.pk


def job_for(user: Any, job_id: int) -> ReportJob | None:
    """The job if it exists and the user may see it, else None."""
    job = ReportJob.objects.filter(pk=job_id).first()
    if job is None or not can_view_job(user, job):
        return None
    return job


def recent_jobs(user: Any, limit: int = 10) -> QuerySet[ReportJob]:
    """The user's own most recent cluster and regional report jobs."""
    if not getattr(user, "is_authenticated", False):
        return ReportJob.objects.none()
    return ReportJob.objects.filter(
        requested_by=user, kind__in=[ReportJob.Kind.CLUSTER, ReportJob.Kind.REGION]
    ).order_by("-created_at")[:limit]
