"""Report workflows that write: request a report, run a job, clean up old files and stuck jobs.

Requesting a report follows three rules:
1. an identical job (same input fingerprint) that is queued or running is reused;
2. a finished job whose inputs have not changed is served from its cached files;
3. anything else creates a job and enqueues it once the transaction commits.

A job has two tasks, run in parallel (issue 14): `render_report` renders the PDF and makes the
job done; `render_annex` renders the XLSX annex, whose state is kept apart (`annex_status`,
`annex_error`, its own claim and attempts), so the PDF is downloadable while the annex is still
being prepared, and a failed annex never fails the PDF. Both follow the same delivery rules:
claimed by one conditional UPDATE, taken over only when the claim is dead, one file each.
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
from django.db.models import Count, F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Assessment, Framework, FrameworkVersion, Invitation, Round
from assessments.selectors import rounds_visible_to
from clusters.models import Cluster, Region
from clusters.selectors import can_view_cluster, regions_visible_to
from gradient import audit
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
# A running job whose worker died is sent again after its hard time limit plus this margin
# (no live worker runs a task past its hard limit), and failed after MAX_ATTEMPTS claims.
STUCK_MARGIN = dt.timedelta(minutes=5)
# A claim older than the hard time limit plus this margin (clock skew between machines) is
# dead: another delivery may take the job over.
CLAIM_MARGIN = dt.timedelta(seconds=30)
MAX_ATTEMPTS = 3
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


def _send(job_id: int) -> None:
    """Send both tasks of a job: the PDF and, beside it, the annex."""
    from reports.tasks import render_annex, render_report

    render_report.delay(job_id)
    render_annex.delay(job_id)


def _send_annex(job_id: int) -> None:
    from reports.tasks import render_annex

    render_annex.delay(job_id)


def _enqueue(job_id: int) -> bool:
    """Send the job's task to the broker; True when sent.

    A broker that cannot be reached is no error for the person who asked: the job row stays
    queued with a message saying so (in the requester's language, active here), and
    requeue_reports or the next identical request sends it once the broker is back."""
    try:
        _send(job_id)
    except Exception:
        log.warning("report job %s: the broker is unreachable, sent later", job_id, exc_info=True)
        ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.PENDING).update(
            error=_queue_down_message()
        )
        return False
    now = timezone.now()
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.PENDING).update(
        queued_at=now, error=""
    )
    _annex_sent(job_id, now)
    return True


def _annex_sent(job_id: int, now: dt.datetime) -> None:
    ReportJob.objects.filter(pk=job_id, annex_status=ReportJob.AnnexStatus.PENDING).update(
        annex_queued_at=now, annex_error=""
    )


def _enqueue_annex(job_id: int) -> bool:
    """Send the annex task alone (an annex asked for again, or one whose send failed); True
    when sent. As `_enqueue`: a broker that cannot be reached leaves it queued, saying why."""
    try:
        _send_annex(job_id)
    except Exception:
        log.warning("report job %s: the broker is unreachable, annex sent later", job_id)
        ReportJob.objects.filter(pk=job_id, annex_status=ReportJob.AnnexStatus.PENDING).update(
            annex_error=_queue_down_message()
        )
        return False
    _annex_sent(job_id, timezone.now())
    return True


def _queue_down_message() -> str:
    return _(
        "The task queue cannot be reached right now. Your request is saved: the report "
        "starts by itself as soon as the queue is back."
    )


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
        if active.status == ReportJob.Status.PENDING and active.queued_at is None and active.error:
            # Its task could not be sent (the broker was down; _enqueue wrote why): try again.
            transaction.on_commit(lambda: _enqueue(active.pk))
        return _requested(user, active, "reused")
    cached = (
        jobs.filter(status=ReportJob.Status.DONE, expires_at__gt=timezone.now())
        .exclude(pdf="")
        .order_by("-finished_at")
        .first()
    )
    if cached is not None:
        _annex_again(cached)
        return _requested(user, cached, "cached")
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
        annex_status=ReportJob.AnnexStatus.PENDING,
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return _requested(user, job, "queued")


def _annex_again(job: ReportJob) -> None:
    """A finished job served again: a failed annex is prepared anew (the PDF stays as it is),
    and one whose task could not be sent is sent now."""
    annex = ReportJob.AnnexStatus
    if job.annex_status == annex.FAILED:
        ReportJob.objects.filter(pk=job.pk, annex_status=annex.FAILED).update(
            annex_status=annex.PENDING,
            annex_error="",
            annex_attempts=0,
            annex_claimed_by="",
            annex_queued_at=None,
        )
        job.annex_status, job.annex_error = annex.PENDING, ""
    elif not (job.annex_status == annex.PENDING and job.annex_queued_at is None):
        return
    transaction.on_commit(lambda: _enqueue_annex(job.pk))


def _requested(user: Any, job: ReportJob, how: str) -> tuple[ReportJob, str]:
    """Record the request in the audit trail (served from a job or not); returns (job, how)."""
    audit.record(
        audit.REPORT_REQUESTED,
        job,
        actor=user,
        action=audit.CREATE if how == "queued" else audit.ACCESS,
        served=how,
        kind=job.kind,
        language=job.language,
        shareable=job.shareable,
        cluster=job.cluster_id,
        region=job.region_id,
    )
    return job, how


def report_download_record(user: Any, job: ReportJob, fmt: str, *, via: str) -> None:
    """Record that `user` downloaded the job's PDF or XLSX through the page or the API (a read,
    not a model change: one ACCESS entry, which the cluster's downloads page lists)."""
    audit.record(
        audit.REPORT_DOWNLOADED,
        job,
        actor=user,
        format=fmt,
        via=via,
        kind=job.kind,
        language=job.language,
        shareable=job.shareable,
        cluster=job.cluster_id,
        region=job.region_id,
    )


def report_file_unavailable(job: ReportJob, fmt: str) -> tuple[str, str] | None:
    """Why a job's PDF or XLSX cannot be downloaded yet, as (message, code) for a 409; None
    when it can (or when the job simply has no such file: the caller answers 404).

    The annex has a state of its own: it may still be prepared, or have failed, while the PDF
    is ready; and it may be ready while the PDF is still rendering."""
    failed = job.status == ReportJob.Status.FAILED
    if failed:
        return job.error or _("The report failed."), str(job.status)
    if fmt == "xlsx" and not job.annex_ready:
        if job.annex_preparing:
            return (
                _("The XLSX annex is being prepared. It can be downloaded as soon as it is ready."),
                "annex_" + job.annex_status,
            )
        if job.annex_failed:
            return job.annex_error or _("The XLSX annex failed."), "annex_failed"
    if fmt == "xlsx" and job.annex_ready:
        return None
    if job.status != ReportJob.Status.DONE:
        return _("The report is not ready yet."), str(job.status)
    return None


# --- Running --------------------------------------------------------------------------------


def _set_progress(job_id: int, percent: int) -> None:
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(progress=percent)


def _dead_claim_before(now: dt.datetime) -> dt.datetime:
    """Claims started before this are dead: the worker kills a task at its hard limit."""
    return now - dt.timedelta(seconds=hard_time_limit()) - CLAIM_MARGIN


def report_job_claim(job_id: int, *, task_id: str = "", redelivered: bool = False) -> bool:
    """Claim a job for this task delivery; False if a live delivery has it, or it is finished.

    One conditional UPDATE, so two deliveries never both win. A queued job is claimed
    (PENDING → RUNNING). A running job is taken over only when its claim is dead:
    - the broker redelivered the very task that holds it (`redelivered`, same `task_id`): it
      does so only when that delivery's worker is gone (reject_on_worker_lost, or the
      visibility timeout, which settings keep above the hard time limit);
    - or the claim is older than the hard time limit.
    A duplicate of a task that is still running (not redelivered) finds it held and skips.
    """
    now = timezone.now()
    claimable = Q(status=ReportJob.Status.PENDING) | Q(
        status=ReportJob.Status.RUNNING, started_at__lt=_dead_claim_before(now)
    )
    if redelivered and task_id:
        claimable |= Q(status=ReportJob.Status.RUNNING, claimed_by=task_id)
    return bool(
        ReportJob.objects.filter(claimable, pk=job_id, attempts__lt=MAX_ATTEMPTS).update(
            status=ReportJob.Status.RUNNING,
            started_at=now,
            progress=5,
            error="",
            claimed_by=task_id,
            attempts=F("attempts") + 1,
        )
    )


def report_job_fail(job_id: int, message: str) -> None:
    """Mark a job failed with a message a person can act on."""
    ReportJob.objects.filter(pk=job_id).exclude(status=ReportJob.Status.DONE).update(
        status=ReportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )


def report_job_release(job_id: int) -> None:
    """Put a running job back in the queue state so that a retry can claim it again.

    A transient error is no dead worker: the claim it used is given back."""
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
        status=ReportJob.Status.PENDING,
        progress=0,
        claimed_by="",
        attempts=F("attempts") - 1,
    )


def _worker_died_message() -> str:
    return _("The worker stopped while rendering this report. Request it again.")


def _fail_if_out_of_attempts(job_id: int) -> None:
    """A job whose workers died MAX_ATTEMPTS times (a render that kills its worker, such as
    one out of memory) is failed instead of being tried again forever."""
    job = ReportJob.objects.filter(pk=job_id).only("language", "status", "attempts").first()
    if job is None or job.attempts < MAX_ATTEMPTS:
        return
    with translation.override(job.language):
        ReportJob.objects.filter(
            Q(status=ReportJob.Status.PENDING)
            | Q(status=ReportJob.Status.RUNNING, started_at__lt=_dead_claim_before(timezone.now())),
            pk=job_id,
        ).update(
            status=ReportJob.Status.FAILED,
            finished_at=timezone.now(),
            error=_worker_died_message(),
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
            job.programme,
            language=job.language,
            shareable=job.shareable,
            with_xlsx=False,
            progress=progress,
        )
    if job.kind == ReportJob.Kind.CLUSTER:
        if job.round is None:
            raise SubjectGone
        return render_cluster(
            job.round,
            language=job.language,
            shareable=job.shareable,
            with_xlsx=False,
            progress=progress,
        )
    if job.region is None:
        raise SubjectGone
    return render_region(
        job.region,
        language=job.language,
        shareable=job.shareable,
        framework=job.framework,
        year=job.year,
        with_xlsx=False,
        progress=progress,
    )


def _render_annex(job: ReportJob) -> Any:
    from reports.rendering import render_cluster_annex, render_programme_annex, render_region_annex

    if job.kind == ReportJob.Kind.PROGRAMME:
        if job.programme is None:
            raise SubjectGone
        return render_programme_annex(job.programme, language=job.language, shareable=job.shareable)
    if job.kind == ReportJob.Kind.CLUSTER:
        if job.round is None:
            raise SubjectGone
        return render_cluster_annex(job.round, language=job.language, shareable=job.shareable)
    if job.region is None:
        raise SubjectGone
    return render_region_annex(
        job.region,
        language=job.language,
        shareable=job.shareable,
        framework=job.framework,
        year=job.year,
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


def _save_file(job: ReportJob, field_name: str, name: str, content: bytes) -> None:
    """Save a file under the job's own name, replacing what an earlier attempt left there.

    Only the delivery holding the claim writes, so an attempt killed between writing its
    files and marking the job done leaves no second copy beside the retry's."""
    field = getattr(job, field_name)
    target = field.field.generate_filename(job, name)
    if field.storage.exists(target):
        field.storage.delete(target)
    field.save(name, ContentFile(content), save=False)


class _Failed(Exception):
    """The render failed for good; the job (or its annex) is already marked failed."""


def _rendered_or_failed(job: ReportJob, render: Any, fail: Any, release: Any, what: str) -> Any:
    """`render(job)`, or raise _Failed after `fail(message)` with a message a person can act
    on, or TransientReportError after `release()` on a database error worth a retry.

    "No longer exists" only when the job's round, region or programme is gone; any other error
    gets a generic message with the job number, and its traceback goes to the log."""
    try:
        return render(job)
    except SoftTimeLimitExceeded:
        fail(_slow_message(what))
        raise _Failed from None
    except SubjectGone:
        fail(_subject_gone_message(job.kind))
        raise _Failed from None
    except (OperationalError, InterfaceError, DatabaseError) as exc:
        release()
        raise TransientReportError(str(exc)) from exc
    except Exception as exc:
        if isinstance(exc, ObjectDoesNotExist) and not _subject_exists(job):
            # The round or region was deleted while the report was being drawn.
            fail(_subject_gone_message(job.kind))
            raise _Failed from None
        log.exception("report job %s failed" if what == "pdf" else "report annex %s failed", job.pk)
        fail(_broken_message(what, type(exc).__name__, job.pk))
        raise _Failed from None


def _slow_message(what: str) -> str:
    if what == "annex":
        return _("Preparing the XLSX annex took longer than %(n)s seconds and was stopped.") % {
            "n": settings.REPORT_SOFT_TIME_LIMIT
        }
    return _("Rendering took longer than %(n)s seconds and was stopped.") % {
        "n": settings.REPORT_SOFT_TIME_LIMIT
    }


def _broken_message(what: str, error: str, job_id: int) -> str:
    if what == "annex":
        return _(
            "The XLSX annex could not be prepared (%(error)s). Request the report again; if it "
            "fails again, tell the administrator the job number %(job)s."
        ) % {"error": error, "job": job_id}
    return _(
        "The report could not be rendered (%(error)s). Try again; if it fails "
        "again, tell the administrator the job number %(job)s."
    ) % {"error": error, "job": job_id}


def report_job_run(job_id: int, *, task_id: str = "", redelivered: bool = False) -> str:
    """Render a job's PDF and make the job done; returns "done", "failed" or "skipped"
    (already claimed). The annex is `report_annex_run`'s, in a task of its own.

    Deterministic failures mark the job failed with a readable message (_rendered_or_failed).
    Transient database errors put the job back in the queue and raise TransientReportError
    for a retry.
    """
    if not report_job_claim(job_id, task_id=task_id, redelivered=redelivered):
        _fail_if_out_of_attempts(job_id)
        return "skipped"
    job = _job_with_subject(job_id)
    with translation.override(job.language):
        try:
            rendered = _rendered_or_failed(
                job,
                _render,
                lambda message: report_job_fail(job_id, message),
                lambda: report_job_release(job_id),
                "pdf",
            )
        except _Failed:
            return "failed"
        _save_file(job, "pdf", f"{_file_stem(job)}.pdf", rendered.pdf)
    now = timezone.now()
    # Only a job still running becomes done: one failed meanwhile (its subject deleted, or
    # given up as stuck) stays failed, and the file just written is removed.
    # ... and only while this delivery still holds it (not taken over as dead meanwhile).
    # The annex's columns (xlsx among them) are left to its own task.
    finished = ReportJob.objects.filter(
        pk=job_id, status=ReportJob.Status.RUNNING, claimed_by=task_id
    ).update(
        status=ReportJob.Status.DONE,
        progress=100,
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.REPORT_TTL_HOURS),
        timings=rendered.timings,
        error="",
        pdf=job.pdf.name,
    )
    if not finished:
        job.pdf.delete(save=False)
        return "failed"
    return "done"


# --- The annex ------------------------------------------------------------------------------


def report_annex_claim(job_id: int, *, task_id: str = "", redelivered: bool = False) -> bool:
    """Claim a job's annex for this task delivery; False if a live delivery has it, it is
    finished, or the job failed. The rules of `report_job_claim`, on the annex's columns."""
    annex = ReportJob.AnnexStatus
    now = timezone.now()
    claimable = Q(annex_status=annex.PENDING) | Q(
        annex_status=annex.RUNNING, annex_started_at__lt=_dead_claim_before(now)
    )
    if redelivered and task_id:
        claimable |= Q(annex_status=annex.RUNNING, annex_claimed_by=task_id)
    return bool(
        ReportJob.objects.filter(claimable, pk=job_id, annex_attempts__lt=MAX_ATTEMPTS)
        .exclude(status=ReportJob.Status.FAILED)
        .update(
            annex_status=annex.RUNNING,
            annex_started_at=now,
            annex_error="",
            annex_claimed_by=task_id,
            annex_attempts=F("annex_attempts") + 1,
        )
    )


def report_annex_fail(job_id: int, message: str) -> None:
    """Mark a job's annex failed with a message a person can act on (the PDF is untouched)."""
    ReportJob.objects.filter(pk=job_id).exclude(annex_status=ReportJob.AnnexStatus.DONE).update(
        annex_status=ReportJob.AnnexStatus.FAILED,
        annex_error=message,
        annex_finished_at=timezone.now(),
    )


def report_annex_release(job_id: int) -> None:
    """Give a running annex back to the queue state for a retry (a transient error)."""
    ReportJob.objects.filter(pk=job_id, annex_status=ReportJob.AnnexStatus.RUNNING).update(
        annex_status=ReportJob.AnnexStatus.PENDING,
        annex_claimed_by="",
        annex_attempts=F("annex_attempts") - 1,
    )


def _annex_worker_died_message() -> str:
    return _("The worker stopped while preparing the XLSX annex. Request the report again.")


def _fail_annex_if_out_of_attempts(job_id: int) -> None:
    """An annex whose workers died MAX_ATTEMPTS times is failed, not tried forever."""
    job = ReportJob.objects.filter(pk=job_id).only("language", "annex_attempts").first()
    if job is None or job.annex_attempts < MAX_ATTEMPTS:
        return
    annex = ReportJob.AnnexStatus
    with translation.override(job.language):
        ReportJob.objects.filter(
            Q(annex_status=annex.PENDING)
            | Q(
                annex_status=annex.RUNNING,
                annex_started_at__lt=_dead_claim_before(timezone.now()),
            ),
            pk=job_id,
        ).update(
            annex_status=annex.FAILED,
            annex_finished_at=timezone.now(),
            annex_error=_annex_worker_died_message(),
        )


def report_annex_run(job_id: int, *, task_id: str = "", redelivered: bool = False) -> str:
    """Render a job's XLSX annex; returns "done", "failed" or "skipped" (already claimed,
    finished, or the job failed). Failures mark the annex failed, never the job."""
    if not report_annex_claim(job_id, task_id=task_id, redelivered=redelivered):
        _fail_annex_if_out_of_attempts(job_id)
        return "skipped"
    job = _job_with_subject(job_id)
    with translation.override(job.language):
        try:
            rendered = _rendered_or_failed(
                job,
                _render_annex,
                lambda message: report_annex_fail(job_id, message),
                lambda: report_annex_release(job_id),
                "annex",
            )
        except _Failed:
            return "failed"
        _save_file(job, "xlsx", f"{_file_stem(job)}.xlsx", rendered.xlsx)
    now = timezone.now()
    # As for the PDF: only while this delivery holds the annex, and the job has not failed.
    # A job whose PDF is not done yet gets its expiry from the annex, so that the clean-up
    # removes this file even if the PDF never finishes; the PDF's own expiry then replaces it.
    finished = (
        ReportJob.objects.filter(
            pk=job_id, annex_status=ReportJob.AnnexStatus.RUNNING, annex_claimed_by=task_id
        )
        .exclude(status=ReportJob.Status.FAILED)
        .update(
            annex_status=ReportJob.AnnexStatus.DONE,
            annex_finished_at=now,
            annex_timings=rendered.timings,
            annex_error="",
            xlsx=job.xlsx.name,
            expires_at=Coalesce(
                F("expires_at"), Value(now + dt.timedelta(hours=settings.REPORT_TTL_HOURS))
            ),
        )
    )
    if not finished:
        job.xlsx.delete(save=False)
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
            message = _subject_gone_message(
                ReportJob.Kind.PROGRAMME if programme_id is not None else ""
            )
            mine = jobs.filter(language=language)
            # An annex still to come fails with the same reason (its task then skips it).
            mine.filter(
                annex_status__in=[ReportJob.AnnexStatus.PENDING, ReportJob.AnnexStatus.RUNNING]
            ).update(
                annex_status=ReportJob.AnnexStatus.FAILED,
                annex_error=message,
                annex_finished_at=now,
            )
            changed += mine.update(
                status=ReportJob.Status.FAILED,
                error=message,
                finished_at=now,
                expires_at=now,
            )
    return changed


# --- Clean-up -------------------------------------------------------------------------------


def reports_requeue() -> int:
    """Send again the tasks of queued jobs that never reached the broker, and of annexes
    whose own task did not (their job's PDF task did); returns how many jobs were sent (the
    rest wait for the next run)."""
    sent = 0
    unsent = ReportJob.objects.filter(status=ReportJob.Status.PENDING, queued_at__isnull=True)
    for job_id, language in unsent.order_by("created_at").values_list("pk", "language")[:500]:
        with translation.override(language):
            if not _enqueue(job_id):
                return sent  # the broker is still down: the next run tries again
        sent += 1
    annexes = ReportJob.objects.filter(
        annex_status=ReportJob.AnnexStatus.PENDING, annex_queued_at__isnull=True
    ).exclude(status__in=[ReportJob.Status.PENDING, ReportJob.Status.FAILED])
    for job_id, language in annexes.order_by("created_at").values_list("pk", "language")[:500]:
        with translation.override(language):
            if not _enqueue_annex(job_id):
                break
        sent += 1
    return sent


def reports_cleanup(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete expired jobs with their files, send again the running jobs whose worker died
    (failed after MAX_ATTEMPTS) and fail queued jobs nobody picked up; returns the counts."""
    now = now or timezone.now()
    removed = 0
    for job in ReportJob.objects.filter(expires_at__lt=now).iterator():
        for f in (job.pdf, job.xlsx):
            if f:
                f.delete(save=False)
        job.delete()
        removed += 1
    stuck_running = stuck_pending = requeued = 0
    dead = ReportJob.objects.filter(
        status=ReportJob.Status.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=hard_time_limit()) - STUCK_MARGIN,
    )
    # No live worker runs these (the hard limit would have killed it): send them again, as a
    # new task. Should the old one be redelivered too, one of the two claims the job and the
    # other finds it held or finished (report_job_claim).
    for job_id, language in dead.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", "language"):
        reset = ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
            status=ReportJob.Status.PENDING, progress=0, claimed_by="", queued_at=None
        )
        if reset:
            requeued += 1
            with translation.override(language):
                _enqueue(job_id)
    for language in LANGUAGES:
        jobs = ReportJob.objects.filter(language=language)
        with translation.override(language):
            stuck_running += dead.filter(language=language).update(
                status=ReportJob.Status.FAILED,
                finished_at=now,
                error=_worker_died_message(),
            )
            stuck_pending += jobs.filter(
                Q(queued_at__lt=now - PENDING_LIMIT)
                | Q(queued_at__isnull=True, created_at__lt=now - PENDING_LIMIT),
                status=ReportJob.Status.PENDING,
            ).update(
                status=ReportJob.Status.FAILED,
                finished_at=now,
                error=_("No worker picked up this report. Ask the administrator to start one."),
            )
    return {
        "removed": removed,
        "requeued": requeued,
        "stuck_running": stuck_running,
        "stuck_pending": stuck_pending,
        **_annexes_cleanup(now),
    }


def _annexes_cleanup(now: dt.datetime) -> dict[str, int]:
    """The annexes' share of the clean-up: send again those whose worker died (failed after
    MAX_ATTEMPTS), fail those nobody picked up; returns the counts."""
    annex = ReportJob.AnnexStatus
    dead = ReportJob.objects.filter(
        annex_status=annex.RUNNING,
        annex_started_at__lt=now - dt.timedelta(seconds=hard_time_limit()) - STUCK_MARGIN,
    )
    requeued = failed = 0
    for job_id, language in dead.filter(annex_attempts__lt=MAX_ATTEMPTS).values_list(
        "pk", "language"
    ):
        reset = ReportJob.objects.filter(pk=job_id, annex_status=annex.RUNNING).update(
            annex_status=annex.PENDING, annex_claimed_by="", annex_queued_at=None
        )
        if reset:
            requeued += 1
            with translation.override(language):
                _enqueue_annex(job_id)
    for language in LANGUAGES:
        with translation.override(language):
            failed += dead.filter(language=language).update(
                annex_status=annex.FAILED,
                annex_finished_at=now,
                annex_error=_annex_worker_died_message(),
            )
            failed += (
                ReportJob.objects.filter(language=language, annex_status=annex.PENDING)
                .filter(
                    Q(annex_queued_at__lt=now - PENDING_LIMIT)
                    | Q(annex_queued_at__isnull=True, created_at__lt=now - PENDING_LIMIT)
                )
                .update(
                    annex_status=annex.FAILED,
                    annex_finished_at=now,
                    annex_error=_(
                        "No worker picked up the XLSX annex. Ask the administrator to start one."
                    ),
                )
            )
    return {"annex_requeued": requeued, "annex_failed": failed}
