"""Celery entry points for reports: thin, idempotent, on the `reports` queue."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assessments.models import Round
from reports import dashboard, round_figures, services
from reports.models import ReportJob

log = logging.getLogger(__name__)

# A submission warms its round's dashboard this many seconds later; the submissions of a rush
# in between ride on the same warm-up (one task per round per window, not one per submission).
WARM_DELAY_SECONDS = 20


# Every task here goes to the `reports` queue through CELERY_TASK_ROUTES ("reports.tasks.*").
_RENDER_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.REPORT_SOFT_TIME_LIMIT,
    "time_limit": services.hard_time_limit(),
    "max_retries": 3,
}


def _delivery(task: object) -> dict[str, object]:
    """The task id and whether the broker redelivered it (its first worker died)."""
    request = task.request  # type: ignore[attr-defined]
    info = getattr(request, "delivery_info", None) or {}
    return {"task_id": request.id or "", "redelivered": bool(info.get("redelivered"))}


def _retry_or_fail(task: object, job_id: int, exc: Exception, fail: object, message: str) -> str:
    """Retry a transient failure with backoff; after the last retry, fail with `message`."""
    if task.request.retries >= task.max_retries:  # type: ignore[attr-defined]
        language = (
            ReportJob.objects.filter(pk=job_id).values_list("language", flat=True).first()
            or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            fail(job_id, _(message))  # type: ignore[operator]
        return "failed"
    raise task.retry(exc=exc, countdown=5 * 2**task.request.retries) from exc  # type: ignore[attr-defined]


@shared_task(**_RENDER_OPTIONS)
def render_report(self: object, job_id: int) -> str:
    """Render one report job's PDF; a duplicate delivery finds the row claimed and does
    nothing.

    A delivery the broker gave back after its worker died (SIGKILL, out of memory) comes
    marked redelivered with the same task id, and takes over the job its first run held."""
    try:
        return services.report_job_run(job_id, **_delivery(self))  # type: ignore[arg-type]
    except services.TransientReportError as exc:
        return _retry_or_fail(
            self,
            job_id,
            exc,
            services.report_job_fail,
            gettext_noop("The database was unavailable while rendering. Try again later."),
        )


@shared_task(**_RENDER_OPTIONS)
def render_annex(self: object, job_id: int) -> str:
    """Render one report job's XLSX annex, beside its PDF (sent with it); the same delivery
    rules as `render_report`, on the annex's own claim."""
    try:
        return services.report_annex_run(job_id, **_delivery(self))  # type: ignore[arg-type]
    except services.TransientReportError as exc:
        return _retry_or_fail(
            self,
            job_id,
            exc,
            services.report_annex_fail,
            gettext_noop(
                "The database was unavailable while preparing the XLSX annex. Request the "
                "report again later."
            ),
        )


@shared_task
def cleanup_reports() -> dict[str, int]:
    """Remove expired report files, send again jobs whose worker died, fail stuck ones."""
    return services.reports_cleanup()


@shared_task
def requeue_reports() -> int:
    """Send the tasks of queued jobs that could not be sent (the broker was down)."""
    return services.reports_requeue()


def _warm_key(round_id: int) -> str:
    return f"dashboard-warm:{round_id}"


def dashboard_warm_soon(round_id: int) -> bool:
    """Queue the round's dashboard warm-up unless one is already waiting; True when queued.

    The key outlives the delay, so a warm-up that waits in a long queue is not doubled; it is
    removed when the warm-up starts, and expires on its own should no worker ever run it."""
    key = _warm_key(round_id)
    if not cache.add(key, 1, WARM_DELAY_SECONDS * 10):
        return False
    try:
        dashboard_warm.apply_async(args=[round_id], countdown=WARM_DELAY_SECONDS)
    except Exception:
        cache.delete(key)  # the next submission tries again
        log.warning("could not queue the dashboard warm-up of round %s", round_id, exc_info=True)
        return False
    return True


@shared_task(
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=services.hard_time_limit(),
)
def dashboard_warm(round_id: int) -> int:
    """Assemble and cache the round's dashboard report in every language (what the first view
    after a submission would otherwise wait for), and bring its stored figures for the
    regional comparison up to date; returns how many reports were assembled."""
    # Submissions from now on are not in what is read below: let them queue the next one.
    cache.delete(_warm_key(round_id))
    round_ = (
        Round.objects.select_related("cluster__region", "framework_version__framework")
        .filter(pk=round_id)
        .first()
    )
    if round_ is None:
        return 0  # deleted meanwhile
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            dashboard.report_for(round_, language=code)
    round_figures.refresh([round_id])
    return len(settings.LANGUAGES)
