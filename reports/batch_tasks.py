"""Celery entry points for report batches (reports/batch.py), on the `reports` queue.

Imported by ReportsConfig.ready(), so that the workers register them (autodiscovery imports
only reports.tasks); CELERY_TASK_ROUTES sends "reports.batch_tasks.*" to the `reports` queue.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from reports import batch, services

# A member whose job another delivery holds is looked at again this often, for at most as
# long as a render may run (then batches_tick finishes the batch).
MEMBER_WAIT_SECONDS = 5


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=services.hard_time_limit(),
)
def start_batch(batch_id: int) -> str:
    """Resolve the batch's member jobs and fan them out; a duplicate delivery skips."""
    return batch.batch_start(batch_id)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=services.hard_time_limit() // MEMBER_WAIT_SECONDS + 12,
)
def batch_member_done(self: object, batch_id: int, job_id: int) -> str:
    """After a member's render: send the zip task if it was the last; wait for a job that
    another delivery holds (a single request's task, or a duplicate)."""
    state = batch.batch_member_done(batch_id, job_id)
    if state == "waiting":
        try:
            raise self.retry(countdown=MEMBER_WAIT_SECONDS)  # type: ignore[attr-defined]
        except MaxRetriesExceededError:
            return "gave up"  # batches_tick finishes the batch
    return state


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=services.hard_time_limit(),
)
def write_batch_zip(self: object, batch_id: int) -> str:
    """Write the batch's zip; a duplicate delivery finds the batch claimed or done and skips."""
    request = self.request  # type: ignore[attr-defined]
    delivery = getattr(request, "delivery_info", None) or {}
    return batch.batch_zip_run(
        batch_id, task_id=request.id or "", redelivered=bool(delivery.get("redelivered"))
    )


@shared_task
def tick_report_batches() -> dict[str, int]:
    """Send unsent batches, finish those whose chain was cut, remove expired zips."""
    return batch.batches_tick()
