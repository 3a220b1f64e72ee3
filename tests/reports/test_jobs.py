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
    assert (job.cluster_id, job.round_id, job.region_id) == (
        scored.round.cluster_id,
        scored.round.pk,
        None,
    )
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
    assert job.pdf.read().startswith(b"%PDF") and not job.xlsx  # the annex's task writes it
    assert set(job.timings) >= {"aggregate", "charts", "html", "pdf", "total"}
    assert "xlsx" not in job.timings
    assert job.expires_at > timezone.now()
    # A duplicate delivery finds the row claimed and does nothing.
    assert services.report_job_run(job.pk) == "skipped"
    assert services.report_annex_run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.annex_status, job.annex_attempts, job.annex_error) == ("done", 1, "")
    assert job.xlsx.read().startswith(b"PK") and job.pdf.name.endswith(".pdf")
    assert set(job.annex_timings) == {"aggregate", "xlsx", "total"}
    assert services.report_annex_run(job.pk) == "skipped"


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


def test_cleanup_removes_expired_files_requeues_dead_jobs_and_fails_stuck_ones(
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
        round=job.round,
        cluster=job.cluster,
        fingerprint="x" * 64,
        status="running",
        language="en",
        started_at=now - dt.timedelta(hours=2),
        attempts=services.MAX_ATTEMPTS,  # its workers died every time: given up
    )
    # Its worker died once: sent again, as a new task.
    dead = ReportJob.objects.create(
        kind="cluster",
        round=job.round,
        cluster=job.cluster,
        fingerprint="w" * 64,
        status="running",
        language="en",
        started_at=now - dt.timedelta(hours=2),
        attempts=1,
        claimed_by="old-task",
    )
    waiting = ReportJob.objects.create(
        kind="cluster", round=job.round, fingerprint="y" * 64, language="zh-hans"
    )
    ReportJob.objects.filter(pk=waiting.pk).update(created_at=now - dt.timedelta(days=1))
    busy = ReportJob.objects.create(
        kind="cluster",
        round=job.round,
        fingerprint="z" * 64,
        status="running",
        started_at=now - dt.timedelta(minutes=1),
    )
    counts = services.reports_cleanup(now=now)
    assert counts == {
        "removed": 1,
        "requeued": 1,
        "stuck_running": 1,
        "stuck_pending": 1,
        "annex_requeued": 0,
        "annex_failed": 0,
    }
    dead.refresh_from_db()
    assert (dead.status, dead.claimed_by) == ("pending", "") and enqueued[-1] == dead.pk
    assert not ReportJob.objects.filter(pk=job.pk).exists()
    assert not path.exists()
    for row in (stuck, waiting, busy):
        row.refresh_from_db()
    assert stuck.status == "failed" and "worker stopped" in stuck.error
    with translation.override("zh-hans"):
        expected = gettext("No worker picked up this report. Ask the administrator to start one.")
    assert (waiting.status, waiting.error) == ("failed", expected)
    assert busy.status == "running"


def _empty_round(scored: Any) -> Any:
    """A later round of the same cluster with nothing submitted (so it may be deleted)."""
    from tests.reports.builders import make_round

    return make_round(
        scored.round.cluster,
        scored.round.framework_version,
        name="Round T2",
        opens=scored.round.opens_at + dt.timedelta(days=400),
    )


def test_deleting_the_round_fails_and_expires_its_jobs(
    scored: Any, cluster_official: Any, enqueued: list[int]
) -> None:
    """on_delete=SET_NULL: the job stays in its owner's list, failed with the reason, and its
    files are no longer served (the next clean-up removes them)."""
    later = _empty_round(scored)
    done, _ = request(cluster_official, scored, round_=later)
    assert services.report_job_run(done.pk) == "done"
    queued, _ = request(cluster_official, scored, round_=later, language="zh-hans")
    other, _ = request(cluster_official, scored, round_=scored.round)  # untouched
    later.delete()
    for job in (done, queued, other):
        job.refresh_from_db()
    assert (done.round_id, done.cluster_id) == (None, scored.round.cluster_id)
    assert done.status == queued.status == "failed"
    assert "no longer exists" in done.error and done.expires_at <= timezone.now()
    message = "The round or region of this report no longer exists. Request it again."
    with translation.override("zh-hans"):
        assert queued.error == gettext(message) != message
    assert services.report_job_run(queued.pk) == "skipped"
    assert other.status == "pending" and other.round_id == scored.round.pk
    path = Path(done.pdf.path)
    assert services.reports_cleanup()["removed"] == 2 and not path.exists()


def test_a_job_whose_round_is_gone_fails_with_that_reason(
    scored: Any, cluster_official: Any, enqueued: list[int]
) -> None:
    job, _ = request(cluster_official, scored)
    # As a row migrated from a dangling id, or a link nulled without the signal.
    ReportJob.objects.filter(pk=job.pk).update(round=None)
    assert services.report_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "no longer exists" in job.error


def test_a_key_error_while_rendering_is_not_taken_for_a_deleted_round(
    scored: Any,
    cluster_official: Any,
    enqueued: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    job, _ = request(cluster_official, scored)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("weight")

    logged: list[Any] = []
    monkeypatch.setattr("reports.rendering.render_cluster", broken)
    monkeypatch.setattr(
        services.log, "exception", lambda *a, **k: logged.append((a, sys.exc_info()[0]))
    )
    assert services.report_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert "no longer exists" not in job.error
    assert "could not be rendered (KeyError)" in job.error and str(job.pk) in job.error
    assert logged == [(("report job %s failed", job.pk), KeyError)]  # with the traceback


def test_a_missing_row_other_than_the_subject_is_a_generic_failure(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments.models import Assessment

    job, _ = request(cluster_official, scored)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise Assessment.DoesNotExist

    monkeypatch.setattr("reports.rendering.render_cluster", broken)
    assert services.report_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert "could not be rendered (DoesNotExist)" in job.error


def test_the_soft_time_limit_is_caught_by_type(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    job, _ = request(cluster_official, scored)

    class Slow(SoftTimeLimitExceeded):
        """A subclass, named otherwise: a check by name would miss it."""

    def slow(*args: Any, **kwargs: Any) -> None:
        raise Slow()

    monkeypatch.setattr("reports.rendering.render_cluster", slow)
    assert services.report_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert "took longer than" in job.error


def test_a_job_failed_while_rendering_does_not_become_done(
    scored: Any, cluster_official: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subject deleted (or the job given up as stuck) during the render: the job stays
    failed and the files written for it are removed."""
    from reports import rendering

    job, _ = request(cluster_official, scored)
    real = rendering.render_cluster

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        services.report_job_fail(job.pk, "stopped")
        return out

    monkeypatch.setattr(rendering, "render_cluster", meanwhile)
    media = Path(ReportJob().pdf.storage.location)
    before = set(media.rglob("*.pdf")) if media.exists() else set()
    assert services.report_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error, job.pdf.name) == ("failed", "stopped", "")
    assert set(media.rglob("*.pdf")) == before


def test_hard_time_limit_is_written_once(settings: Any) -> None:
    assert tasks.render_report.time_limit == services.hard_time_limit()
    assert services.hard_time_limit() > tasks.render_report.soft_time_limit
    settings.REPORT_HARD_TIME_LIMIT = 1234
    assert services.hard_time_limit() == 1234


def test_fingerprint_follows_the_benchmark_key(
    scored: Any, cluster_official: Any, enqueued: list[int], world: Any
) -> None:
    """A submission elsewhere on the same framework version changes the benchmark, so the
    cluster's cached report is not served."""
    job, _ = request(cluster_official, scored)
    assert services.report_job_run(job.pk) == "done"
    from tests.reports.builders import make_round

    beta = world["beta"]
    other = make_round(
        beta, scored.round.framework_version, name="Beta", opens=scored.round.opens_at
    )
    firm = FirmFactory()
    MembershipFactory(cluster=beta, firm=firm)
    submit_many(other, scored.fw, [firm], [answers_for(scored.fw, 0.5, random.Random(2))])
    again, how = request(cluster_official, scored)
    assert how == "queued" and again.pk != job.pk


@pytest.mark.django_db(transaction=True)
def test_migration_fills_the_links_from_params_and_back() -> None:
    """reports 0005 on the database in use (SQLite, and PostgreSQL on that pass)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests.factories import ClusterFactory, RegionFactory
    from tests.reports.builders import framework_version, make_round

    version, _fw = framework_version()
    region = RegionFactory()
    x, y = ClusterFactory(region=region), ClusterFactory(region=region)
    rx = make_round(x, version, name="X", opens=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    before = [("reports", "0004_reportjob_subject_links")]
    latest = [("reports", "0006_drop_reportjob_params")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("reports", "ReportJob")
        made = {
            name: old.objects.create(kind=kind, params=params, fingerprint=name).pk
            for name, kind, params in [
                ("cluster", "cluster", {"cluster_id": x.pk, "round_id": rx.pk}),
                # The round's cluster wins over a stray cluster id.
                ("stray", "cluster", {"cluster_id": y.pk, "round_id": rx.pk}),
                ("gone", "cluster", {"cluster_id": y.pk, "round_id": 987_654}),
                ("region", "region", {"region_id": region.pk}),
                ("region-gone", "region", {"region_id": 987_654}),
                ("empty", "region", {}),
                ("firm", "firm", {"assessment_id": 1}),
            ]
        }
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        # The model as of `latest`: later migrations may add columns the table lacks here.
        at_latest = executor.loader.project_state(latest).apps.get_model("reports", "ReportJob")
        links = {
            job.fingerprint: (job.kind, job.round_id, job.cluster_id, job.region_id)
            for job in at_latest.objects.all()
        }
        assert links == {
            "cluster": ("cluster", rx.pk, x.pk, None),
            "stray": ("cluster", rx.pk, x.pk, None),
            "gone": ("cluster", None, y.pk, None),
            "region": ("region", None, None, region.pk),
            "region-gone": ("region", None, None, None),
            "empty": ("region", None, None, None),
        }
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("reports", "ReportJob")
        params = dict(old.objects.values_list("fingerprint", "params"))
        assert params["cluster"] == {"cluster_id": x.pk, "round_id": rx.pk}
        assert params["gone"] == {"cluster_id": y.pk}
        assert params["region"] == {"region_id": region.pk}
        assert set(params) == set(links) and made["firm"] not in set(
            old.objects.values_list("pk", flat=True)
        )
    finally:
        # Back to the newest schema (later migrations included), for the tests that follow.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
