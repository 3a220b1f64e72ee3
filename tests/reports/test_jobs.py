"""Report jobs: the three request rules, claiming, progress, failures, retries and clean-up."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone, translation
from django.utils.translation import gettext

from reports import services, tasks
from reports.models import ReportJob
from tests.factories import FirmFactory, MembershipFactory
from tests.reports.builders import answers_for, submit_many

pytestmark = pytest.mark.django_db


def request(user: Any, scored: Any, **kw: Any) -> tuple[ReportJob, str]:
    return services.report_request(
        user,
        kind="cluster",
        language=kw.pop("language", "en"),
        cluster=scored.round.cluster,
        **kw,
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Job ids handed to Celery (nothing runs)."""
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    return sent


def test_request_enqueues_after_commit(
    scored: Any,
    cluster_official: Any,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job, how = request(cluster_official, scored)
    assert how == "queued" and job.status == ReportJob.Status.PENDING
    assert job.params == {"cluster_id": scored.round.cluster_id, "round_id": scored.round.pk}
    assert enqueued == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [job.pk]


def test_identical_active_job_is_reused(
    scored: Any,
    cluster_official: Any,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = request(cluster_official, scored)
        second, how = request(cluster_official, scored)
    assert how == "reused" and second.pk == first.pk
    assert enqueued == [first.pk]
    other_language, how = request(cluster_official, scored, language="zh-hans")
    assert how == "queued" and other_language.pk != first.pk


def test_finished_job_is_served_from_cache_until_inputs_change(
    scored: Any,
    cluster_official: Any,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = request(cluster_official, scored)
    assert services.report_job_run(job.pk) == "done"
    again, how = request(cluster_official, scored)
    assert how == "cached" and again.pk == job.pk
    # A new submission changes the inputs: the cache no longer applies.
    firm = FirmFactory()
    MembershipFactory(cluster=scored.round.cluster, firm=firm)
    submit_many(scored.round, scored.fw, [firm], [answers_for(scored.fw, 0.5, random.Random(1))])
    fresh, how = request(cluster_official, scored)
    assert how == "queued" and fresh.pk != job.pk
    # An expired cached job is not served either.
    ReportJob.objects.filter(pk=fresh.pk).update(
        status="done", pdf="x.pdf", expires_at=timezone.now() - dt.timedelta(1)
    )
    newest, how = request(cluster_official, scored)
    assert how == "queued" and newest.pk not in {job.pk, fresh.pk}


def test_request_outside_scope_or_with_bad_input_is_refused(
    scored: Any, outsider: Any, cluster_official: Any, world: Any, enqueued: list[int]
) -> None:
    # Outside the scope is answered as not found (no hint that the cluster exists).
    with pytest.raises(services.ReportTargetNotFound):
        request(outsider, scored)
    with pytest.raises(services.ReportTargetNotFound):
        services.report_request(
            cluster_official, kind="cluster", language="en", cluster=world["gamma"]
        )
    with pytest.raises(ValidationError):
        request(cluster_official, scored, language="fr")
    with pytest.raises(services.ReportTargetNotFound):  # a round of a cluster out of scope
        request(cluster_official, scored, round_=_other_round(world, scored))
    assert ReportJob.objects.count() == 0


def _other_round(world: Any, scored: Any) -> Any:
    from tests.reports.builders import make_round

    return make_round(
        world["gamma"], scored.round.framework_version, name="Gamma", opens=scored.round.opens_at
    )


def test_job_is_claimed_once_and_reaches_100(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = request(cluster_official, scored)
    seen: list[int] = []
    real = services._set_progress

    def spy(job_id: int, percent: int) -> None:
        real(job_id, percent)
        seen.append(ReportJob.objects.get(pk=job_id).progress)

    monkeypatch.setattr(services, "_set_progress", spy)
    assert services.report_job_run(job.pk) == "done"
    assert seen == sorted(seen) and len(seen) >= 4 and 0 < seen[0] < seen[-1] < 100
    job.refresh_from_db()
    assert (job.status, job.progress, job.error) == ("done", 100, "")
    assert job.pdf.read().startswith(b"%PDF") and job.xlsx
    assert set(job.timings) >= {"aggregate", "charts", "html", "pdf", "xlsx", "total"}
    assert job.expires_at > timezone.now()
    # A duplicate delivery finds the row claimed and does nothing.
    assert services.report_job_run(job.pk) == "skipped"


def test_deterministic_failure_marks_the_job_failed_with_a_message(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = request(cluster_official, scored)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("boom")

    monkeypatch.setattr("reports.rendering.render_cluster", broken)
    assert tasks.render_report.apply(args=[job.pk]).get() == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert "could not be rendered (ValueError)" in job.error and str(job.pk) in job.error


def test_transient_error_is_retried_then_succeeds(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = request(cluster_official, scored)
    from reports import rendering

    real = rendering.render_cluster
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(rendering, "render_cluster", flaky)
    with pytest.raises(services.TransientReportError):
        services.report_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == "pending"  # released, so that the retry can claim it
    # Eager mode runs the retry in place.
    monkeypatch.setattr(
        tasks.render_report,
        "retry",
        lambda exc, countdown: tasks.render_report.apply(args=[job.pk]).get(),
    )
    assert services.report_job_run(job.pk) == "done"
    assert len(calls) == 2


def test_transient_error_after_the_last_retry_fails_the_job(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = request(cluster_official, scored)

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr("reports.rendering.render_cluster", locked)
    result = tasks.render_report.apply(args=[job.pk], retries=tasks.render_report.max_retries)
    assert result.get() == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "database was unavailable" in job.error


def test_cleanup_removes_expired_files_and_fails_stuck_jobs(
    scored: Any, cluster_official: Any, enqueued: list[int]
) -> None:
    job, _ = request(cluster_official, scored)
    services.report_job_run(job.pk)
    job.refresh_from_db()
    path = Path(job.pdf.path)
    assert path.exists()
    now = timezone.now()
    ReportJob.objects.filter(pk=job.pk).update(expires_at=now - dt.timedelta(seconds=1))
    stuck = ReportJob.objects.create(
        kind="cluster",
        params=job.params,
        fingerprint="x" * 64,
        status="running",
        language="en",
        started_at=now - dt.timedelta(hours=2),
    )
    waiting = ReportJob.objects.create(
        kind="cluster", params=job.params, fingerprint="y" * 64, language="zh-hans"
    )
    ReportJob.objects.filter(pk=waiting.pk).update(created_at=now - dt.timedelta(days=1))
    busy = ReportJob.objects.create(
        kind="cluster",
        params=job.params,
        fingerprint="z" * 64,
        status="running",
        started_at=now - dt.timedelta(minutes=1),
    )
    counts = services.reports_cleanup(now=now)
    assert counts == {"removed": 1, "stuck_running": 1, "stuck_pending": 1}
    assert not ReportJob.objects.filter(pk=job.pk).exists()
    assert not path.exists()
    for row in (stuck, waiting, busy):
        row.refresh_from_db()
    assert stuck.status == "failed" and "worker stopped" in stuck.error
    with translation.override("zh-hans"):
        expected = gettext("No worker picked up this report. Ask the administrator to start one.")
    assert (waiting.status, waiting.error) == ("failed", expected)
    assert busy.status == "running"
