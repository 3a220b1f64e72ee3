"""A cluster's report downloads, for its officials: who downloaded which report, and when.

Read from the audit trail (gradient/audit.py writes one entry per download, by page or API).
The cluster is looked up in the user's scope: out of scope answers exactly like a cluster that
does not exist (reports.dashboard.cluster_in_scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clusters.models import Cluster
from gradient import audit
from reports.dashboard import cluster_in_scope
from reports.models import ReportJob
from reports.selectors import jobs_with_subject

PAGE_SIZE = 25


@dataclass(frozen=True)
class Download:
    """One download as the page lists it."""

    at: Any  # datetime of the download
    who: str  # the account's name, "" when the account is gone
    job: ReportJob | None  # None when the job was deleted since
    job_id: int | None
    format: str  # "pdf" or "xlsx"
    via: str  # "page" or "api"


def cluster_downloads(cluster: Cluster) -> QuerySet[LogEntry]:
    """The audit entries of downloads of the cluster's reports, newest first.

    By the indexed content type and object id (the cluster's jobs are few), never by a scan of
    the trail's JSON alone."""
    jobs = ReportJob.objects.filter(cluster=cluster, kind=ReportJob.Kind.CLUSTER).values("pk")
    return (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ReportJob),
            object_id__in=jobs,
            action=LogEntry.Action.ACCESS,
            additional_data__event=audit.REPORT_DOWNLOADED,
        )
        .select_related("actor")
        .order_by("-timestamp", "-pk")
    )


def downloads_page(cluster: Cluster, number: str | None) -> tuple[Page[LogEntry], list[Download]]:
    """One page of the cluster's downloads (a bad or too large number gives the last page),
    with each entry's job and its round loaded in one query."""
    page = Paginator(cluster_downloads(cluster), PAGE_SIZE).get_page(number)
    entries = list(page.object_list)
    ids = {e.object_id for e in entries if e.object_id is not None}
    jobs = {job.pk: job for job in jobs_with_subject().filter(pk__in=ids)}
    rows = []
    for entry in entries:
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        actor = entry.actor
        rows.append(
            Download(
                at=entry.timestamp,
                who=(actor.get_full_name() or actor.get_username()) if actor else "",
                job=jobs.get(entry.object_id) if entry.object_id is not None else None,
                job_id=entry.object_id,
                format=str(data.get("format", "")),
                via=str(data.get("via", "")),
            )
        )
    return page, rows


@login_required
@require_GET
def cluster_downloads_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The cluster's report downloads, paginated (?page=)."""
    cluster = cluster_in_scope(request.user, slug)
    page, rows = downloads_page(cluster, request.GET.get("page", "")[:12])
    return render(
        request, "reports/downloads.html", {"cluster": cluster, "page": page, "rows": rows}
    )
