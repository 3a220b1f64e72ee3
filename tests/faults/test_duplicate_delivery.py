"""Fault: a report task is delivered twice.

The job row is claimed with one conditional UPDATE (PENDING → RUNNING, reports.services.
report_job_claim): whichever delivery comes second finds it held or finished and does
nothing. Checked on a live worker with two pool processes (the duplicate arrives while the
first copy renders, and again after it finished), and in-process by calling the task twice.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from reports import services, tasks
from reports.models import ReportJob
from tests.faults.live import job_finished, job_row, renders, stack, start_redis, wait_for
from tests.reports.test_jobs import request


@pytest.mark.worker
def test_a_task_delivered_twice_to_a_live_worker_renders_once_and_writes_one_pair(
    tmp_path: Path,
) -> None:
    with stack(tmp_path, "duplicate", FAULT_RENDER_DELAY="4") as s:
        start_redis(s)
        s.run("-m", "tests.faults.scripts", "seed")
        s.start_worker("worker", concurrency=2)  # a free process for the duplicate
        job_id = int(s.run("-m", "tests.faults.scripts", "request").strip())
        wait_for(lambda: renders(s)[0], timeout=60, what="the render\n" + s.log("worker"))
        task_id = job_row(s, job_id)["claimed_by"]
        assert task_id  # the delivery that holds the job
        # The same message again (same task id and arguments) while the first renders.
        s.run("-m", "tests.faults.scripts", "send", str(job_id), task_id)
        row = job_finished(s, job_id, timeout=120, what="the job to finish\n" + s.log("worker"))
        assert row["status"] == "done", row["error"] + s.log("worker")
        assert row["annex_status"] == "done", row["annex_error"] + s.log("worker")
        # And once more after it finished.
        s.run("-m", "tests.faults.scripts", "send", str(job_id), task_id)
        wait_for(  # the render, the annex and both duplicates
            lambda: s.log("worker").count("succeeded") >= 4,
            timeout=60,
            what="both duplicates to be handled\n" + s.log("worker"),
        )
        started, ended = renders(s)
        assert (len(started), len(ended)) == (1, 1)
        assert s.log("worker").count("'skipped'") == 2
        assert job_row(s, job_id) == row and row["attempts"] == row["annex_attempts"] == 1
        assert s.files() == sorted([row["pdf"], row["xlsx"]])


def test_the_render_task_called_twice_in_process_renders_once(
    scored: Any,
    cluster_official: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(services, "_send", sent.append)
    from reports import rendering

    real = rendering.render_cluster
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rendering, "render_cluster", counted)
    with django_capture_on_commit_callbacks(execute=True):
        job, how = request(cluster_official, scored)
    assert how == "queued" and sent == [job.pk]
    first = tasks.render_report.apply(args=[job.pk], task_id="delivery-1").get()
    second = tasks.render_report.apply(args=[job.pk], task_id="delivery-1").get()
    # A redelivery flag does not let a copy redo a finished job either.
    third = services.report_job_run(job.pk, task_id="delivery-1", redelivered=True)
    assert (first, second, third) == ("done", "skipped", "skipped")
    # The annex task, twice as well, and once more marked redelivered.
    annex = [tasks.render_annex.apply(args=[job.pk], task_id="annex-1").get() for _ in (1, 2)]
    annex.append(services.report_annex_run(job.pk, task_id="annex-1", redelivered=True))
    assert annex == ["done", "skipped", "skipped"]
    assert len(calls) == 1
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and job.attempts == 1
    assert job.annex_status == ReportJob.AnnexStatus.DONE and job.annex_attempts == 1
    media = Path(job.pdf.storage.location)
    files = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    assert files == sorted([job.pdf.name, job.xlsx.name])
    # Requesting the same report again serves the finished job: nothing is sent or rendered.
    with django_capture_on_commit_callbacks(execute=True):
        again, how = request(cluster_official, scored)
    assert (again.pk, how) == (job.pk, "cached") and sent == [job.pk] and len(calls) == 1


def test_a_running_job_is_not_taken_over_by_a_copy_that_was_not_redelivered(
    scored: Any, cluster_official: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    job, _how = request(cluster_official, scored)
    assert services.report_job_claim(job.pk, task_id="t1")
    assert not services.report_job_claim(job.pk, task_id="t1")  # a plain duplicate
    assert not services.report_job_claim(job.pk, task_id="t2", redelivered=True)  # another task
    assert services.report_job_claim(job.pk, task_id="t1", redelivered=True)  # its own, given back
    # A claim older than the hard time limit is dead, whoever asks.
    old = time.time() - services.hard_time_limit() - 60

    ReportJob.objects.filter(pk=job.pk).update(started_at=dt.datetime.fromtimestamp(old, tz=dt.UTC))
    assert services.report_job_claim(job.pk, task_id="t3")
    job.refresh_from_db()
    assert (job.claimed_by, job.attempts) == ("t3", 3)
    # Three attempts used: a fourth is refused and the job failed as given up.
    ReportJob.objects.filter(pk=job.pk).update(started_at=dt.datetime.fromtimestamp(old, tz=dt.UTC))
    assert services.report_job_run(job.pk, task_id="t4") == "skipped"
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and "worker stopped" in job.error
