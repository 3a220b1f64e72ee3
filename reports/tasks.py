"""Celery entry points for reports: thin, idempotent, on the `reports` queue."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from reports import services
from reports.models import ReportJob


# Both tasks go to the `reports` queue through CELERY_TASK_ROUTES ("reports.tasks.*").
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=services.hard_time_limit(),
    max_retries=3,
)
def render_report(self: object, job_id: int) -> str:
    """Render one report job; a duplicate delivery finds the row claimed and does nothing."""
    try:
        return services.report_job_run(job_id)
    except services.TransientReportError as exc:
        if self.request.retries >= self.max_retries:  # type: ignore[attr-defined]
            language = (
                ReportJob.objects.filter(pk=job_id).values_list("language", flat=True).first()
                or settings.LANGUAGE_CODE
            )
            with translation.override(language):
                services.report_job_fail(
                    job_id, _("The database was unavailable while rendering. Try again later.")
                )
            return "failed"
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc  # type: ignore[attr-defined]


@shared_task
def cleanup_reports() -> dict[str, int]:
    """Remove expired report files and fail jobs that are stuck."""
    return services.reports_cleanup()
