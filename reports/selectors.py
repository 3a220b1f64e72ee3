"""Reads for report pages: which jobs and targets a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from assessments.models import Round
from assessments.selectors import rounds_visible_to
from clusters.models import Cluster, Region
from clusters.selectors import can_view_cluster, clusters_visible_to, regions_visible_to
from programmes.models import Programme
from programmes.selectors import programmes_managed_by
from reports.models import ReportJob

# What a report request is told about a target it may not see: exactly what it is told about
# one that does not exist (no existence oracle). The request form uses the same words.
NO_SUCH_CLUSTER = _("No such cluster.")
NO_SUCH_ROUND = _("No such round.")
NO_SUCH_REGION = _("No such region.")
NO_SUCH_PROGRAMME = _("No such programme.")


class TargetNotFound(Exception):
    """A cluster, round or region that does not exist or lies outside the user's scope."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)


def report_targets(
    user: Any,
    *,
    cluster_slug: str | None = None,
    round_id: int | None = None,
    region_id: int | None = None,
) -> tuple[Cluster | None, Round | None, Region | None]:
    """The named targets of a report request, each looked up inside the user's scope.

    Raises TargetNotFound for the first one (cluster, then round, then region) that does not
    exist or that the user may not see; the two cases are indistinguishable.
    """
    cluster = round_ = region = None
    if cluster_slug:
        cluster = clusters_visible_to(user).filter(slug=cluster_slug).first()
        if cluster is None:
            raise TargetNotFound(NO_SUCH_CLUSTER)
    if round_id is not None:
        round_ = rounds_visible_to(user).filter(pk=round_id).first()
        if round_ is None:
            raise TargetNotFound(NO_SUCH_ROUND)
    if region_id is not None:
        region = regions_visible_to(user).filter(pk=region_id).first()
        if region is None:
            raise TargetNotFound(NO_SUCH_REGION)
    return cluster, round_, region


def programmes_reportable_by(user: Any) -> QuerySet[Programme]:
    """Programmes whose report the user may request and download: the officials who run them
    (their regions' programmes) and staff. The report names every project firm and rates the
    providers, so a firm, a provider or an assessor who sees the programme does not get it."""
    return programmes_managed_by(user)


def programme_report_target(user: Any, programme_id: int) -> Programme:
    """The programme whose report the user may request; TargetNotFound otherwise (worded as
    for one that does not exist)."""
    found = (
        programmes_reportable_by(user)
        .select_related("region", "framework_version__framework")
        .filter(pk=programme_id)
        .first()
    )
    if found is None:
        raise TargetNotFound(NO_SUCH_PROGRAMME)
    return found


def jobs_with_subject() -> QuerySet[ReportJob]:
    """Report jobs with what they cover loaded: the round and its cluster, the region, or the
    programme."""
    return ReportJob.objects.select_related("round__cluster", "cluster", "region", "programme")


def can_view_job(user: Any, job: ReportJob) -> bool:
    """True when the user may see and download the job: the target lies in their scope.

    A job whose cluster or region was deleted is seen by nobody.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if job.kind == ReportJob.Kind.CLUSTER:
        return job.cluster is not None and can_view_cluster(user, job.cluster)
    if job.kind == ReportJob.Kind.PROGRAMME:
        return (
            job.programme_id is not None
            and programmes_reportable_by(user).filter(pk=job.programme_id).exists()
        )
    return job.region_id is not None and regions_visible_to(user).filter(pk=job.region_id).exists()


def job_for(user: Any, job_id: int) -> ReportJob | None:
    """The job if it exists and the user may see it, else None."""
    job = jobs_with_subject().filter(pk=job_id).first()
    if job is None or not can_view_job(user, job):
        return None
    return job


def recent_jobs(user: Any, limit: int = 10) -> QuerySet[ReportJob]:
    """The user's own most recent report jobs."""
    if not getattr(user, "is_authenticated", False):
        return ReportJob.objects.none()
    return jobs_with_subject().filter(requested_by=user).order_by("-created_at")[:limit]
