"""Report workflows that write: request a report, run a job, clean up old files and stuck jobs.

Requesting a report follows three rules:
1. an identical job (same input fingerprint) that is queued or running is reused;
2. a finished job whose inputs have not changed is served from its cached files;
3. anything else creates a job and enqueues it once the transaction commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Assessment, Framework, FrameworkVersion, Invitation, Round
from assessments.selectors import rounds_visible_to
from clusters.models import Cluster, Region
from clusters.selectors import can_view_cluster, regions_visible_to
from programmes.figures import programme_key, round_verification_key
from programmes.models import Programme
from reports.benchmark import benchmark_key
from reports.context import region_default_framework
from reports.models import ReportJob
from reports.selectors import (
    NO_SUCH_CLUSTER,
    NO_SUCH_PROGRAMME,
    NO_SUCH_REGION,
    NO_SUCH_ROUND,
    programmes_reportable_by,
)
from reports.selectors import TargetNotFound as ReportTargetNotFound
from reports.targets import fingerprint_rows

log = logging.getLogger(__name__)

# Bump when the report's content or layout changes, so that cached files are not served.
CODE_VERSION = "cluster-report-6"
LANGUAGES = {code for code, _name in settings.LANGUAGES}
# The years a regional report may be asked for (the year its rounds opened in).
YEAR_MIN, YEAR_MAX = 2000, 2100
# A running job whose worker died is failed after its hard time limit plus this margin.
STUCK_MARGIN = dt.timedelta(minutes=5)
# A queued job nobody picked up for this long is failed: no worker is consuming the queue.
PENDING_LIMIT = dt.timedelta(hours=6)


class TransientReportError(Exception):
    """A failure worth retrying (the database went away, a lock timed out)."""


class SubjectGone(Exception):
    """The round or region a job is drawn from was deleted (its link is null)."""


def hard_time_limit() -> int:
    """Seconds after which the worker kills a report task (settings.REPORT_HARD_TIME_LIMIT)."""
    return int(settings.REPORT_HARD_TIME_LIMIT)


# The wording shared by every path that finds a job's subject deleted.
def _subject_gone_message(kind: str = "") -> str:
    if kind == ReportJob.Kind.PROGRAMME:
        return _("The programme of this report no longer exists. Request it again.")
    return _("The round or region of this report no longer exists. Request it again.")


# --- Fingerprint ----------------------------------------------------------------------------


def _cluster_target_inputs(round_: Round) -> list[Any]:
    """The cluster's targets and, when it has any, the submissions of every round of the
    cluster on the framework (progress is counted on the latest with submissions)."""
    rows = fingerprint_rows(cluster_id=round_.cluster_id)
    if not rows:
        return []
    subs = Assessment.objects.submitted().filter(
        round__cluster_id=round_.cluster_id,
        round__framework_version__framework_id=round_.framework_version.framework_id,
    )
    stats = subs.aggregate(n=Count("id"), last_id=Max("id"), updated=Max("updated_at"))
    return [rows, stats["n"], stats["last_id"], str(stats["updated"])]


def _round_inputs(round_: Round) -> dict[str, Any]:
    stats = (
        Assessment.objects.submitted()
        .filter(round=round_)
        .aggregate(
            n=Count("id"), last=Max("submitted_at"), last_id=Max("id"), updated=Max("updated_at")
        )
    )
    previous = Round.objects.comparable_previous_of(round_)
    prev = (
        Assessment.objects.submitted()
        .filter(round=previous)
        .aggregate(n=Count("id"), last=Max("submitted_at"))
        if previous
        else None
    )
    cluster = round_.cluster
    return {
        "round": round_.pk,
        "round_name": round_.name,
        "names": [cluster.name_zh, cluster.name_en, cluster.region.name_zh, cluster.region.name_en],
        "submitted": [stats["n"], str(stats["last"]), stats["last_id"], str(stats["updated"])],
        "invited": Invitation.objects.filter(round=round_).count(),
        # The framework's content hash and every submission on the version, as the cached
        # benchmark snapshot keys them.
        "benchmark": benchmark_key(round_.framework_version),
        "previous": [previous and previous.pk, prev and prev["n"], prev and str(prev["last"])],
        # A later round on another, incomparable version is named in the report.
        "framework_rounds": list(
            Round.objects.filter(
                cluster_id=round_.cluster_id,
                framework_version__framework_id=round_.framework_version.framework_id,
            )
            .order_by("id")
            .values_list("id", "name", "framework_version_id")
        ),
        "comparable": sorted(round_.framework_version.comparable_version_ids()),
    }


def report_fingerprint(
    kind: str,
    *,
    round_: Round | None = None,
    region: Region | None = None,
    framework: Framework | None = None,
    year: int | None = None,
    programme: Programme | None = None,
    language: str,
    shareable: bool,
    with_targets: bool = True,
) -> str:
    """SHA-256 of everything the report is drawn from: same inputs, same fingerprint.

    `with_targets=False` leaves out the targets and what their progress is counted on: for a
    cached report that carries no targets (the dashboard counts its own)."""
    inputs: dict[str, Any] = {
        "kind": kind,
        "language": language,
        "shareable": shareable,
        "code": CODE_VERSION,
    }
    if kind == ReportJob.Kind.CLUSTER:
        if round_ is None:
            raise ValueError("A cluster report's fingerprint needs its round.")
        inputs["round"] = _round_inputs(round_)
        inputs["verification"] = round_verification_key(round_.pk)
        if with_targets:
            inputs["targets"] = _cluster_target_inputs(round_)
    elif kind == ReportJob.Kind.REGION:
        if region is None:
            raise ValueError("A regional report's fingerprint needs its region.")
        rounds = Round.objects.filter(cluster__region__path__startswith=region.path)
        subs = Assessment.objects.submitted().filter(round__in=rounds)
        inputs["region"] = [
            region.pk,
            list(rounds.order_by("id").values_list("id", flat=True)),
            list(subs.aggregate(n=Count("id"), last_id=Max("id")).values()),
            str(subs.aggregate(last=Max("submitted_at"))["last"]),
            Invitation.objects.filter(round__in=rounds).count(),
            list(
                Cluster.objects.filter(region__path__startswith=region.path)
                .order_by("id")
                .values_list("id", "name_zh", "name_en")
            ),
            # Which rounds are compared, and what each is compared with, depend on these.
            framework and framework.pk,
            year,
            str(subs.aggregate(upd=Max("updated_at"))["upd"]),
            list(
                FrameworkVersion.objects.filter(framework=framework)
                .order_by("id")
                .values_list("id", "levels_comparable_with_id")
            )
            if framework
            else [],
        ]
        if with_targets:
            inputs["targets"] = fingerprint_rows(region=region)
    elif kind == ReportJob.Kind.PROGRAMME:
        if programme is None:
            raise ValueError("A programme report's fingerprint needs its programme.")
        inputs["programme"] = programme_key(programme)
        inputs["names"] = [programme.region.name_zh, programme.region.name_en]
        inputs["framework"] = [
            programme.framework_version_id,
            programme.framework_version.content_hash,
        ]
        inputs["day"] = str(timezone.localdate())  # "days left" changes daily
    canonical = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Request --------------------------------------------------------------------------------


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationError(
            _("Unknown report language “%(language)s”: choose one of %(choices)s.")
            % {"language": language, "choices": ", ".join(sorted(LANGUAGES))}
        )
    return language


def _enqueue(job_id: int) -> None:
    from reports.tasks import render_report

    render_report.delay(job_id)


@transaction.atomic
def report_request(
    user: Any,
    *,
    kind: str,
    language: str,
    shareable: bool = False,
    cluster: Cluster | None = None,
    round_: Round | None = None,
    region: Region | None = None,
    framework: Framework | None = None,
    year: int | None = None,
    programme: Programme | None = None,
) -> tuple[ReportJob, str]:
    """Reuse, serve from cache or enqueue a report; returns the job and "reused", "cached" or
    "queued". Raises ReportTargetNotFound for a cluster, round or region outside the user's
    scope (worded as for one that does not exist), ValidationError on bad input.

    A cluster report without a round covers the cluster's latest round with a submission (or
    closed); a regional report without a framework compares the clusters on the framework
    with the most submissions in the region, in any year unless `year` is given."""
    _check_language(language)
    if kind == ReportJob.Kind.CLUSTER:
        if cluster is None:
            raise ValidationError(_("Choose a cluster."))
        if not can_view_cluster(user, cluster):
            raise ReportTargetNotFound(NO_SUCH_CLUSTER)
        if round_ is None:
            round_ = Round.objects.latest_reportable_of(cluster)
        if round_ is None:
            raise ValidationError(_("This cluster has no assessment round yet."))
        if not rounds_visible_to(user).filter(pk=round_.pk).exists():
            raise ReportTargetNotFound(NO_SUCH_ROUND)
        if round_.cluster_id != cluster.pk:
            raise ValidationError(_("That round belongs to another cluster."))
        region = None
    elif kind == ReportJob.Kind.REGION:
        if region is None:
            raise ValidationError(_("Choose a region."))
        if not regions_visible_to(user).filter(pk=region.pk).exists():
            raise ReportTargetNotFound(NO_SUCH_REGION)
        cluster = round_ = None
        if year is not None and not (YEAR_MIN <= year <= YEAR_MAX):
            raise ValidationError(
                _("The year must lie between %(low)s and %(high)s.")
                % {"low": YEAR_MIN, "high": YEAR_MAX}
            )
        framework = framework or region_default_framework(region)
        if framework is None:
            raise ValidationError(_("No cluster in this region has an assessment round yet."))
    elif kind == ReportJob.Kind.PROGRAMME:
        if programme is None:
            raise ValidationError(_("Choose a programme."))
        if not programmes_reportable_by(user).filter(pk=programme.pk).exists():
            raise ReportTargetNotFound(NO_SUCH_PROGRAMME)
        cluster = round_ = region = framework = None
        year = None
    else:
        raise ValidationError(_("Unknown report kind “%(kind)s”.") % {"kind": kind})

    if kind == ReportJob.Kind.CLUSTER:
        framework = year = None
    fingerprint = report_fingerprint(
        kind,
        round_=round_,
        region=region,
        framework=framework,
        year=year,
        programme=programme,
        language=language,
        shareable=shareable,
    )
    jobs = ReportJob.objects.select_for_update().filter(fingerprint=fingerprint)
    active = jobs.active().order_by("-created_at").first()
    if active is not None:
        return active, "reused"
    cached = (
        jobs.filter(status=ReportJob.Status.DONE, expires_at__gt=timezone.now())
        .exclude(pdf="")
        .order_by("-finished_at")
        .first()
    )
    if cached is not None:
        return cached, "cached"
    job = ReportJob.objects.create(
        kind=kind,
        round=round_,
        cluster=cluster,
        region=region,
        framework=framework,
        year=year,
        programme=programme,
        language=language,
        shareable=shareable,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        fingerprint=fingerprint,
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job, "queued"


# --- Running --------------------------------------------------------------------------------


def _set_progress(job_id: int, percent: int) -> None:
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(progress=percent)


def report_job_claim(job_id: int) -> bool:
    """Claim a queued job for this worker (PENDING → RUNNING); False if someone else has it."""
    return bool(
        ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.PENDING).update(
            status=ReportJob.Status.RUNNING, started_at=timezone.now(), progress=5, error=""
        )
    )


def report_job_fail(job_id: int, message: str) -> None:
    """Mark a job failed with a message a person can act on."""
    ReportJob.objects.filter(pk=job_id).exclude(status=ReportJob.Status.DONE).update(
        status=ReportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )


def report_job_release(job_id: int) -> None:
    """Put a running job back in the queue state so that a retry can claim it again."""
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
        status=ReportJob.Status.PENDING, progress=0
    )


def _job_with_subject(job_id: int) -> ReportJob:
    """The job with its round (and the round's cluster, region and version) or its region."""
    return ReportJob.objects.select_related(
        "round__cluster__region",
        "round__framework_version",
        "region",
        "framework",
        "programme__region",
        "programme__framework_version__framework",
    ).get(pk=job_id)


def _render(job: ReportJob) -> Any:
    from reports.rendering import render_cluster, render_programme, render_region

    progress = lambda percent: _set_progress(job.pk, percent)  # noqa: E731
    if job.kind == ReportJob.Kind.PROGRAMME:
        if job.programme is None:
            raise SubjectGone
        return render_programme(
            job.programme, language=job.language, shareable=job.shareable, progress=progress
        )
    if job.kind == ReportJob.Kind.CLUSTER:
        if job.round is None:
            raise SubjectGone
        return render_cluster(
            job.round, language=job.language, shareable=job.shareable, progress=progress
        )
    if job.region is None:
        raise SubjectGone
    return render_region(
        job.region,
        language=job.language,
        shareable=job.shareable,
        framework=job.framework,
        year=job.year,
        progress=progress,
    )


def _subject_exists(job: ReportJob) -> bool:
    """Whether the job's round or region is still in the database."""
    if job.kind == ReportJob.Kind.CLUSTER:
        return job.round_id is not None and Round.objects.filter(pk=job.round_id).exists()
    if job.kind == ReportJob.Kind.PROGRAMME:
        return (
            job.programme_id is not None and Programme.objects.filter(pk=job.programme_id).exists()
        )
    return job.region_id is not None and Region.objects.filter(pk=job.region_id).exists()


def _file_stem(job: ReportJob) -> str:
    return f"{job.kind}-{job.pk}-{job.language}{'-shareable' if job.shareable else ''}"


def report_job_run(job_id: int) -> str:
    """Run one job end to end; returns "done", "failed" or "skipped" (already claimed).

    Deterministic failures mark the job failed with a readable message: "no longer exists"
    only when the job's round or region is gone; any other error gets a generic message with
    the job number, and its traceback goes to the log. Transient database errors put the job
    back in the queue and raise TransientReportError for a retry.
    """
    if not report_job_claim(job_id):
        return "skipped"
    job = _job_with_subject(job_id)
    with translation.override(job.language):
        try:
            rendered = _render(job)
        except SoftTimeLimitExceeded:
            report_job_fail(
                job_id,
                _("Rendering took longer than %(n)s seconds and was stopped.")
                % {"n": settings.REPORT_SOFT_TIME_LIMIT},
            )
            return "failed"
        except SubjectGone:
            report_job_fail(job_id, _subject_gone_message(job.kind))
            return "failed"
        except (OperationalError, InterfaceError) as exc:
            report_job_release(job_id)
            raise TransientReportError(str(exc)) from exc
        except DatabaseError as exc:
            report_job_release(job_id)
            raise TransientReportError(str(exc)) from exc
        except Exception as exc:
            if isinstance(exc, ObjectDoesNotExist) and not _subject_exists(job):
                # The round or region was deleted while the report was being drawn.
                report_job_fail(job_id, _subject_gone_message(job.kind))
                return "failed"
            log.exception("report job %s failed", job_id)
            report_job_fail(
                job_id,
                _(
                    "The report could not be rendered (%(error)s). Try again; if it fails "
                    "again, tell the administrator the job number %(job)s."
                )
                % {"error": type(exc).__name__, "job": job_id},
            )
            return "failed"
        stem = _file_stem(job)
        job.pdf.save(f"{stem}.pdf", ContentFile(rendered.pdf), save=False)
        if rendered.xlsx:
            job.xlsx.save(f"{stem}.xlsx", ContentFile(rendered.xlsx), save=False)
    now = timezone.now()
    # Only a job still running becomes done: one failed meanwhile (its subject deleted, or
    # given up as stuck) stays failed, and the files just written are removed.
    finished = ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
        status=ReportJob.Status.DONE,
        progress=100,
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.REPORT_TTL_HOURS),
        timings=rendered.timings,
        error="",
        pdf=job.pdf.name,
        xlsx=job.xlsx.name or "",
    )
    if not finished:
        for f in (job.pdf, job.xlsx):
            if f:
                f.delete(save=False)
        return "failed"
    return "done"


def report_jobs_subject_deleted(
    *,
    round_id: int | None = None,
    region_id: int | None = None,
    programme_id: int | None = None,
) -> int:
    """Fail and expire the jobs drawn from a round or region that is being deleted.

    Called before the row goes (the links are then set to null): queued and running jobs fail
    with "no longer exists", finished ones stop being served, and the next clean-up removes
    their files. Returns the number of jobs changed.
    """
    if round_id is not None:
        jobs = ReportJob.objects.filter(round_id=round_id)
    elif region_id is not None:
        jobs = ReportJob.objects.filter(region_id=region_id)
    elif programme_id is not None:
        jobs = ReportJob.objects.filter(programme_id=programme_id)
    else:
        return 0
    now = timezone.now()
    changed = 0
    for language in LANGUAGES:
        with translation.override(language):
            changed += jobs.filter(language=language).update(
                status=ReportJob.Status.FAILED,
                error=_subject_gone_message(
                    ReportJob.Kind.PROGRAMME if programme_id is not None else ""
                ),
                finished_at=now,
                expires_at=now,
            )
    return changed


# --- Clean-up -------------------------------------------------------------------------------


def reports_cleanup(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete expired jobs with their files and fail stuck ones; returns the counts."""
    now = now or timezone.now()
    removed = 0
    for job in ReportJob.objects.filter(expires_at__lt=now).iterator():
        for f in (job.pdf, job.xlsx):
            if f:
                f.delete(save=False)
        job.delete()
        removed += 1
    stuck_running = stuck_pending = 0
    for language in LANGUAGES:
        jobs = ReportJob.objects.filter(language=language)
        with translation.override(language):
            stuck_running += jobs.filter(
                status=ReportJob.Status.RUNNING,
                started_at__lt=now - dt.timedelta(seconds=hard_time_limit()) - STUCK_MARGIN,
            ).update(
                status=ReportJob.Status.FAILED,
                finished_at=now,
                error=_("The worker stopped while rendering this report. Request it again."),
            )
            stuck_pending += jobs.filter(
                status=ReportJob.Status.PENDING, created_at__lt=now - PENDING_LIMIT
            ).update(
                status=ReportJob.Status.FAILED,
                finished_at=now,
                error=_("No worker picked up this report. Ask the administrator to start one."),
            )
    return {"removed": removed, "stuck_running": stuck_running, "stuck_pending": stuck_pending}
