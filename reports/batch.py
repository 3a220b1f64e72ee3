"""Report batches (issue 14): every cluster report of a region's round in one action, zipped.

What "a round" means across clusters. Rounds belong to one cluster, so a region has no round
of its own. A batch covers what the regional report compares (reports.context.region_rounds):
per cluster under the region, its latest round on one framework that has a submission or is
closed, opened in one year when the official gives a year. The official picks the region, the
framework (by default the one with the most submissions there, as for the regional report) and
optionally the year; the batch then holds one cluster report job per such round.

How it runs, without a result backend (CELERY_RESULT_BACKEND is None, so no chord):
1. `report_batch_request` checks the scope, the language and year, refuses an empty selection
   and one above MAX_CLUSTERS, and saves the batch; once the transaction commits,
   `batch_enqueue` sends its start task. `batch_start` (in a worker: the fingerprints cost a
   few queries per cluster) resolves the member jobs the way a single request does (an
   identical queued or running job is shared, a finished one whose inputs did not change is
   served from its file, anything else is a new job), then sends one Celery group over the
   workers: per job still to render, the chain render_report(job) → batch_member_done.
2. Each batch_member_done waits for its job to finish (a job another delivery holds) and, when
   every member job is finished, sends the zip task; duplicates of it are harmless.
3. `batch_zip_run` claims the batch with one conditional UPDATE (so a duplicate delivery writes
   no second zip), streams the PDFs one by one into a zip on disk with a text file listing the
   clusters whose report failed and why, stores it, and marks the batch done.
4. `batches_tick` (beat, every minute) sends again the batches whose start could not be sent
   (the broker was down), finishes batches whose chain was cut (a render killed at its hard
   limit, a job sent again by the clean-up), and removes expired zips.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Framework, Round
from assessments.selectors import rounds_visible_to
from clusters.models import Region
from clusters.selectors import regions_visible_to
from gradient import audit
from reports import services
from reports.context import region_default_framework, region_rounds
from reports.models import ReportBatch, ReportJob
from reports.selectors import NO_SUCH_REGION, TargetNotFound

log = logging.getLogger(__name__)

# The most clusters one batch renders: a province's cities render one batch each. Above it the
# official is asked to pick a sub-region or a year (a batch must finish before the meeting).
MAX_CLUSTERS = 300
# A zip claim older than the hard time limit plus this margin is dead (its worker is gone).
CLAIM_MARGIN = dt.timedelta(seconds=30)
# A running batch whose last member finished this long ago without a zip lost its chain.
STALL_AFTER = dt.timedelta(minutes=2)

FINISHED = (ReportJob.Status.DONE, ReportJob.Status.FAILED)
UNFINISHED = (ReportJob.Status.PENDING, ReportJob.Status.RUNNING)


# --- Reads ----------------------------------------------------------------------------------


def batches_visible_to(user: Any) -> QuerySet[ReportBatch]:
    """Batches whose region the user oversees (everything for staff): the regional scope,
    read through clusters.selectors. A batch whose region was deleted is seen by nobody."""
    return ReportBatch.objects.filter(region__in=regions_visible_to(user)).select_related(
        "region", "framework"
    )


def batch_for(user: Any, batch_id: int) -> ReportBatch | None:
    """The batch if it exists and the user may see it, else None (the two look the same)."""
    return batches_visible_to(user).filter(pk=batch_id).first()


def recent_batches(user: Any, limit: int = 5) -> list[ReportBatch]:
    """The user's own most recent batches that they may still see."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(batches_visible_to(user).filter(requested_by=user)[:limit])


def batch_jobs(batch: ReportBatch) -> QuerySet[ReportJob]:
    """The batch's jobs with their cluster and round, by cluster name (the zip's order)."""
    return batch.jobs.select_related("round__cluster", "cluster").order_by(
        "cluster__name_zh", "cluster__slug", "pk"
    )


@dataclass(frozen=True)
class BatchProgress:
    """How far a batch got: cluster reports finished (done or failed) out of its total."""

    done: int
    failed: int
    total: int

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> int:
        """Finished reports as a percentage; the zip is the last step, so 99 until written."""
        if self.total == 0:
            return 0
        return min(99, round(100 * self.finished / self.total))


def batch_progress(batch: ReportBatch) -> BatchProgress:
    """The batch's progress in one aggregate query over its jobs."""
    counts = batch.jobs.aggregate(
        done=Count("pk", filter=Q(status=ReportJob.Status.DONE)),
        failed=Count("pk", filter=Q(status=ReportJob.Status.FAILED)),
    )
    return BatchProgress(done=counts["done"], failed=counts["failed"], total=batch.total)


def batch_rounds(
    user: Any, region: Region, framework: Framework, year: int | None = None
) -> list[Round]:
    """The rounds a batch of `region` covers (one per cluster, as the regional report compares
    them), restricted to those the user may see, by cluster."""
    chosen = region_rounds(region, framework, year)
    visible = set(
        rounds_visible_to(user)
        .filter(pk__in=[r.pk for r in chosen.values()])
        .values_list("pk", flat=True)
    )
    return [r for r in chosen.values() if r.pk in visible]


# --- Request --------------------------------------------------------------------------------


def _member_job(user: Any, round_: Round, *, language: str, shareable: bool) -> ReportJob:
    """The cluster report job of a round, following the single request's rules
    (reports.services.report_request): an identical queued or running job is shared, a
    finished one whose inputs did not change is reused, anything else is created (and sent
    with the batch's group, not on its own)."""
    fingerprint = services.report_fingerprint(
        ReportJob.Kind.CLUSTER, round_=round_, language=language, shareable=shareable
    )
    jobs = ReportJob.objects.select_for_update().filter(fingerprint=fingerprint)
    active = jobs.active().order_by("-created_at").first()
    if active is not None:
        return active
    cached = (
        jobs.filter(status=ReportJob.Status.DONE, expires_at__gt=timezone.now())
        .exclude(pdf="")
        .order_by("-finished_at")
        .first()
    )
    if cached is not None:
        return cached
    return ReportJob.objects.create(
        kind=ReportJob.Kind.CLUSTER,
        round=round_,
        cluster=round_.cluster,
        language=language,
        shareable=shareable,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        fingerprint=fingerprint,
        # Its XLSX annex too, as for a single request: rendered beside the PDF by its own
        # task (sent after the group; the zip holds the PDFs, the job page offers both).
        annex_status=ReportJob.AnnexStatus.PENDING,
    )


@transaction.atomic
def report_batch_request(
    user: Any,
    *,
    region: Region,
    language: str,
    shareable: bool = False,
    framework: Framework | None = None,
    year: int | None = None,
) -> tuple[ReportBatch, str]:
    """Request every cluster report of the region's round; returns the batch and "queued" or
    "reused" (an identical batch still running). Raises TargetNotFound for a region outside
    the user's scope (worded as for one that does not exist), ValidationError for an unknown
    language or year, a selection with no cluster round, or more than MAX_CLUSTERS clusters.
    """
    if language not in services.LANGUAGES:
        raise ValidationError(
            _("Unknown report language “%(language)s”: choose one of %(choices)s.")
            % {"language": language, "choices": ", ".join(sorted(services.LANGUAGES))}
        )
    if region is None or not regions_visible_to(user).filter(pk=region.pk).exists():
        raise TargetNotFound(NO_SUCH_REGION)
    if year is not None and not (services.YEAR_MIN <= year <= services.YEAR_MAX):
        raise ValidationError(
            _("The year must lie between %(low)s and %(high)s.")
            % {"low": services.YEAR_MIN, "high": services.YEAR_MAX}
        )
    framework = framework or region_default_framework(region)
    if framework is None:
        raise ValidationError(_("No cluster in this region has an assessment round yet."))
    rounds = batch_rounds(user, region, framework, year)
    if not rounds:
        if year is None:
            raise ValidationError(
                _(
                    "No cluster in this region has a round on this framework with a "
                    "submission or closed: there is no report to render."
                )
            )
        raise ValidationError(
            _(
                "No cluster in this region has a round on this framework opened in %(year)s "
                "with a submission or closed: there is no report to render."
            )
            % {"year": year}
        )
    if len(rounds) > MAX_CLUSTERS:
        raise ValidationError(
            _(
                "This selection covers %(n)s clusters; a batch renders at most %(max)s. "
                "Choose a sub-region or a year."
            )
            % {"n": len(rounds), "max": MAX_CLUSTERS}
        )
    # An identical batch still on its way is shared, as an identical single report is.
    active = (
        ReportBatch.objects.select_for_update()
        .filter(
            region=region,
            framework=framework,
            year=year,
            language=language,
            shareable=shareable,
            status__in=[ReportBatch.Status.PENDING, ReportBatch.Status.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )
    if active is not None:
        if active.queued_at is None and active.error:
            # Its start could not be sent (the broker was down; batch_enqueue wrote why).
            transaction.on_commit(lambda: batch_enqueue(active.pk))
        return _requested(user, active, "reused")
    # The member jobs are resolved by the worker (batch_start): their fingerprints cost a
    # few queries per cluster, too many for a request at a province's scale.
    found = ReportBatch.objects.create(
        region=region,
        framework=framework,
        year=year,
        language=language,
        shareable=shareable,
        total=len(rounds),
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: batch_enqueue(found.pk))
    return _requested(user, found, "queued")


def _requested(user: Any, batch: ReportBatch, how: str) -> tuple[ReportBatch, str]:
    """Record the batch request in the audit trail (one entry, not one per cluster)."""
    audit.record(
        audit.REPORT_REQUESTED,
        batch,
        actor=user,
        action=audit.CREATE if how == "queued" else audit.ACCESS,
        served=how,
        kind="batch",
        language=batch.language,
        shareable=batch.shareable,
        region=batch.region_id,
        framework=batch.framework_id,
        year=batch.year,
        clusters=batch.total,
    )
    return batch, how


def batch_download_record(user: Any, batch: ReportBatch, *, via: str) -> None:
    """Record that `user` downloaded the batch's zip (one ACCESS entry)."""
    audit.record(
        audit.REPORT_DOWNLOADED,
        batch,
        actor=user,
        format="zip",
        via=via,
        kind="batch",
        language=batch.language,
        shareable=batch.shareable,
        region=batch.region_id,
        clusters=batch.total,
    )


# --- Start and fan-out ----------------------------------------------------------------------


def _send_start(batch_id: int) -> None:
    from reports.batch_tasks import start_batch

    start_batch.delay(batch_id)


def _send_group(batch_id: int, job_ids: list[int]) -> None:
    """One Celery group over the workers: per job, its render, then the batch's check."""
    from celery import group

    from reports.batch_tasks import batch_member_done
    from reports.tasks import render_report

    if not job_ids:  # every report was already rendered: straight to the zip
        _send_zip(batch_id)
        return
    group(
        render_report.si(job_id) | batch_member_done.si(batch_id, job_id) for job_id in job_ids
    ).apply_async()


def _send_zip(batch_id: int) -> None:
    from reports.batch_tasks import write_batch_zip

    write_batch_zip.delay(batch_id)


def _queue_down_message() -> str:
    return _(
        "The task queue cannot be reached right now. Your request is saved: the reports "
        "start by themselves as soon as the queue is back."
    )


def batch_enqueue(batch_id: int) -> bool:
    """Send the batch's start task to the broker; True when sent.

    A broker that cannot be reached is no error for the official: the batch stays queued with
    a message saying so (in the batch's language), and batches_tick, or the same request
    again, sends it once the broker is back."""
    found = ReportBatch.objects.filter(pk=batch_id, status=ReportBatch.Status.PENDING).first()
    if found is None:
        return False
    # Marked as sent first: the start task may run before this function returns.
    ReportBatch.objects.filter(pk=batch_id, status=ReportBatch.Status.PENDING).update(
        queued_at=timezone.now(), error=""
    )
    try:
        _send_start(batch_id)
    except Exception:
        log.warning(
            "report batch %s: the broker is unreachable, sent later", batch_id, exc_info=True
        )
        with translation.override(found.language):
            ReportBatch.objects.filter(pk=batch_id, status=ReportBatch.Status.PENDING).update(
                queued_at=None, error=_queue_down_message()
            )
        return False
    return True


def batch_start(batch_id: int) -> str:
    """Resolve the batch's member jobs and send its group; returns "started", "failed" (its
    selection has no round left, or grew past the cap) or "skipped" (started already: a
    duplicate delivery creates no second set of jobs and sends no second group).

    The rounds are chosen again, in the requester's scope, as the request chose them; the
    jobs follow the single request's rules (_member_job). The batch is running, with its
    jobs, before the group is sent, so a member that finishes at once finds it so."""
    with transaction.atomic():
        found = (
            ReportBatch.objects.select_for_update(of=("self",))
            .select_related("region", "framework", "requested_by")
            .filter(pk=batch_id, status=ReportBatch.Status.PENDING)
            .first()
        )
        if found is None:
            return "skipped"
        with translation.override(found.language):
            rounds = (
                batch_rounds(found.requested_by, found.region, found.framework, found.year)
                if found.region is not None and found.framework is not None
                else []
            )
            if not rounds or len(rounds) > MAX_CLUSTERS:
                found.status = ReportBatch.Status.FAILED
                found.finished_at = timezone.now()
                found.error = _(
                    "The clusters' rounds or your regions changed since the request. "
                    "Request the batch again."
                )
                found.save(update_fields=["status", "finished_at", "error"])
                return "failed"
            jobs = [
                _member_job(
                    found.requested_by, r, language=found.language, shareable=found.shareable
                )
                for r in rounds
            ]
        found.jobs.set(jobs)
        now = timezone.now()
        job_ids = sorted(j.pk for j in jobs if j.status in UNFINISHED)
        ReportBatch.objects.filter(pk=batch_id).update(
            status=ReportBatch.Status.RUNNING, total=len(jobs), error=""
        )
        ReportJob.objects.filter(pk__in=job_ids, status=ReportJob.Status.PENDING).update(
            queued_at=now, error=""
        )
    # Outside the transaction: the workers must find the jobs. Should the broker fail here
    # (it was up a moment ago), reports_requeue sends the jobs once it is back and
    # batches_tick finishes the batch.
    try:
        _send_group(batch_id, job_ids)
        # The members' annexes, beside the PDFs: not waited for by the batch. One that cannot
        # be sent stays queued, and reports_requeue sends it once the broker is back.
        for job_id in ReportJob.objects.filter(
            pk__in=job_ids,
            annex_status=ReportJob.AnnexStatus.PENDING,
            annex_queued_at__isnull=True,
        ).values_list("pk", flat=True):
            services._enqueue_annex(job_id)
    except Exception:
        log.warning("report batch %s: its group could not be sent", batch_id, exc_info=True)
        ReportJob.objects.filter(pk__in=job_ids, status=ReportJob.Status.PENDING).update(
            queued_at=None
        )
        return "unsent"
    return "started"


def batch_member_done(batch_id: int, job_id: int) -> str:
    """After a member's render: "waiting" while its job is still queued or running (another
    delivery holds it), "zip" when this was the last one and the zip task is sent, else
    "counted"."""
    status = ReportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status in UNFINISHED:
        return "waiting"
    return "zip" if batch_finish_if_complete(batch_id) else "counted"


def batch_finish_if_complete(batch_id: int) -> bool:
    """Send the zip task when every member job is finished and no zip is written or being
    written; True when sent. Two members finishing at once may both send it: the zip task's
    claim lets one through."""
    batch = ReportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ReportBatch.Status.RUNNING:
        return False
    if batch.zip_started_at is not None and batch.zip_started_at >= _dead_claim_before():
        return False
    if batch.jobs.filter(status__in=UNFINISHED).exists():
        return False
    _send_zip(batch_id)
    return True


# --- The zip --------------------------------------------------------------------------------


def _dead_claim_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=services.hard_time_limit()) - CLAIM_MARGIN


def batch_zip_claim(batch_id: int, *, task_id: str = "", redelivered: bool = False) -> bool:
    """Claim the writing of the batch's zip for this delivery, in one conditional UPDATE; False
    when the batch is finished or a live delivery holds it. A claim is taken over only when
    the broker redelivered the very task that holds it, or when it is older than the hard
    time limit (no live worker runs a task past it), as for report jobs."""
    claimable = Q(zip_started_at__isnull=True) | Q(zip_started_at__lt=_dead_claim_before())
    if redelivered and task_id:
        claimable |= Q(zip_claimed_by=task_id)
    return bool(
        ReportBatch.objects.filter(
            claimable,
            pk=batch_id,
            status__in=[ReportBatch.Status.PENDING, ReportBatch.Status.RUNNING],
        ).update(zip_started_at=timezone.now(), zip_claimed_by=task_id)
    )


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def member_file_name(job: ReportJob, taken: set[str]) -> str:
    """A readable, unique name for a member's PDF in the zip: "cluster · round.pdf" in the
    active language, with characters that file systems refuse replaced."""
    if job.round is not None:
        stem = f"{job.round.cluster.name} · {job.round.name}"
    else:
        stem = _("Cluster report %(n)s") % {"n": job.pk}
    stem = _UNSAFE.sub("_", stem).strip(" .")[:120] or str(job.pk)
    name, n = f"{stem}.pdf", 1
    while name.casefold() in taken:
        n += 1
        name = f"{stem} ({n}).pdf"
    taken.add(name.casefold())
    return name


def _member_label(job: ReportJob) -> str:
    if job.round is not None:
        return f"{job.round.cluster.name} · {job.round.name}"
    return _("Cluster report %(n)s") % {"n": job.pk}


def failures_file_name() -> str:
    """The name of the zip's text file that lists the failed cluster reports."""
    return _("failed-reports") + ".txt"


def _write_zip(batch: ReportBatch, out: Any) -> tuple[int, list[list[str]]]:
    """Stream the member PDFs into a zip written to `out`, one file at a time (never all in
    memory); returns the number of PDFs and the failures, [[cluster · round, why], …]."""
    failures: list[list[str]] = []
    written = 0
    taken: set[str] = set()
    jobs = list(batch_jobs(batch))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for job in jobs:
            if job.status != ReportJob.Status.DONE or not job.pdf:
                failures.append(
                    [_member_label(job), job.error or _("The report could not be rendered.")]
                )
                continue
            try:
                source = job.pdf.open("rb")
            except FileNotFoundError:
                failures.append(
                    [_member_label(job), _("Its file has expired. Request the report again.")]
                )
                continue
            with source, zf.open(member_file_name(job, taken), "w") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
            written += 1
        missing = batch.total - len(jobs)
        if missing > 0:  # jobs removed by the clean-up before the zip was written
            failures.append(
                [
                    _("%(n)s more cluster reports") % {"n": missing},
                    _("They expired before the zip was written. Request the batch again."),
                ]
            )
        if failures:
            lines = [
                _("These cluster reports are not in the zip:"),
                "",
                *(f"- {label}: {why}" for label, why in failures),
                "",
            ]
            zf.writestr(failures_file_name(), "\n".join(lines).encode("utf-8"))
    return written, failures


def _zip_name(batch: ReportBatch) -> str:
    return f"batch-{batch.pk}-{batch.language}{'-shareable' if batch.shareable else ''}.zip"


def batch_zip_run(batch_id: int, *, task_id: str = "", redelivered: bool = False) -> str:
    """Write the batch's zip once every member job is finished; returns "done", "failed" (no
    report at all could be rendered), "waiting" (members still rendering: nothing claimed) or
    "skipped" (finished, or another live delivery writes it)."""
    batch = ReportBatch.objects.select_related("region").filter(pk=batch_id).first()
    if batch is None:
        return "skipped"
    if batch.jobs.filter(status__in=UNFINISHED).exists():
        return "waiting"
    if not batch_zip_claim(batch_id, task_id=task_id, redelivered=redelivered):
        return "skipped"
    now = timezone.now()
    with translation.override(batch.language), tempfile.TemporaryFile(suffix=".zip") as out:
        written, failures = _write_zip(batch, out)
        if written == 0:
            ReportBatch.objects.filter(pk=batch_id, zip_claimed_by=task_id).update(
                status=ReportBatch.Status.FAILED,
                finished_at=now,
                failures=failures,
                error=_("No cluster report of this batch could be rendered."),
            )
            return "failed"
        out.seek(0)
        field = batch.zip
        target = field.field.generate_filename(batch, _zip_name(batch))
        if field.storage.exists(target):  # left by an attempt whose worker died
            field.storage.delete(target)
        field.save(_zip_name(batch), File(out, name=_zip_name(batch)), save=False)
    finished = ReportBatch.objects.filter(
        pk=batch_id,
        zip_claimed_by=task_id,
        status__in=[ReportBatch.Status.PENDING, ReportBatch.Status.RUNNING],
    ).update(
        status=ReportBatch.Status.DONE,
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.REPORT_TTL_HOURS),
        zip=batch.zip.name,
        failures=failures,
        error="",
    )
    if not finished:
        # Taken over meanwhile: keep the winner's file, remove ours if it is another one.
        stored = ReportBatch.objects.filter(pk=batch_id).values_list("zip", flat=True).first()
        if batch.zip.name != stored:
            batch.zip.delete(save=False)
        return "skipped"
    return "done"


# --- Upkeep (beat) --------------------------------------------------------------------------


def batches_tick(now: dt.datetime | None = None) -> dict[str, int]:
    """Send the batches whose start never reached the broker, send the zip task of running
    batches whose members all finished long enough ago (their chain was cut), and remove
    expired batches with their zips; returns the counts."""
    now = now or timezone.now()
    sent = finished = removed = 0
    unsent = ReportBatch.objects.filter(status=ReportBatch.Status.PENDING, queued_at__isnull=True)
    for batch_id in unsent.order_by("created_at").values_list("pk", flat=True)[:100]:
        if not batch_enqueue(batch_id):
            break  # the broker is still down: the next run tries again
        sent += 1
    running = ReportBatch.objects.filter(
        status=ReportBatch.Status.RUNNING, queued_at__lt=now - STALL_AFTER
    ).filter(Q(zip_started_at__isnull=True) | Q(zip_started_at__lt=_dead_claim_before()))
    for batch in running.iterator():
        last = batch.jobs.aggregate(
            open=Count("pk", filter=Q(status__in=UNFINISHED)),
            last=Max("finished_at"),
        )
        if last["open"] == 0 and (last["last"] is None or last["last"] < now - STALL_AFTER):
            _send_zip(batch.pk)
            finished += 1
    for batch in ReportBatch.objects.filter(expires_at__lt=now).iterator():
        if batch.zip:
            batch.zip.delete(save=False)
        batch.delete()
        removed += 1
    return {"sent": sent, "zips": finished, "removed": removed}
