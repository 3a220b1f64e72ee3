"""Fault: a worker is killed (SIGKILL) in the middle of a render.

The report task is acks_late with reject_on_worker_lost, so its message is not lost:
- the whole worker killed (its process group: the machine died, `kill -9` of the service):
  the message stays unacknowledged in Redis and is redelivered, marked redelivered, once the
  visibility timeout has passed (kept above the hard time limit by settings);
- only the pool process killed (the OOM killer): the worker sees it lost and puts the message
  straight back.
The redelivered task has the same id as the one that holds the job, and takes it over
(reports.services.report_job_claim). The job is done once, with one PDF and one XLSX (the
annex's own task, sent beside the render, follows the same rules: report_annex_claim), and
no file of the killed attempt is left in MEDIA_ROOT.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults.live import job_finished, job_row, renders, stack, start_redis, wait_for

# Limits short enough for the redelivery to come within the test, long enough for a real
# render on a loaded CI machine: hard limit 45 + 3 s, visibility timeout 50 s; the render
# sleeps 6 s first, long enough to be killed in.
VISIBILITY_TIMEOUT = 50
LIMITS = {
    "REPORT_SOFT_TIME_LIMIT": "45",
    "REPORT_HARD_TIME_MARGIN": "3",
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    "FAULT_RENDER_DELAY": "6",
}


@pytest.mark.worker
@pytest.mark.parametrize("kill", ["worker-group", "pool-process"])
def test_a_report_whose_worker_is_killed_mid_render_completes_once_with_one_file_each(
    kill: str, tmp_path: Path
) -> None:
    with stack(tmp_path, f"killed_{kill.replace('-', '_')}", **LIMITS) as s:
        start_redis(s)
        s.run("-m", "tests.faults.scripts", "seed")
        first = s.start_worker("first")
        job_id = int(s.run("-m", "tests.faults.scripts", "request").strip())
        started, _ended = wait_for(
            lambda: renders(s)[0] and renders(s),
            timeout=60,
            what="the first render to start\n" + s.log("first"),
        )
        delivered = time.monotonic()
        assert job_row(s, job_id)["status"] == "running"
        if kill == "worker-group":
            s.stop(first, kill=True)  # SIGKILL to the worker and its pool process
            assert first.returncode == -signal.SIGKILL
            time.sleep(1)
            row = job_row(s, job_id)
            assert row["status"] == "running" and row["attempts"] == 1  # nobody knows yet
            # Redis gives the message back once the visibility timeout has passed since it
            # was delivered; a new worker restores such messages when it starts.
            time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
            s.start_worker("second")
        else:
            os.kill(started[0], signal.SIGKILL)  # only the pool process rendering
        row = job_finished(
            s, job_id, timeout=120, what="the job to finish\n" + s.log("first") + s.log("second")
        )
        assert row["status"] == "done", row["error"] + s.log("first") + s.log("second")
        assert row["annex_status"] == "done", row["annex_error"] + s.log("first")
        assert row["attempts"] == 2 and row["progress"] == 100
        # The annex's task was queued behind the killed render (one process) or ran beside
        # it: either way it ran to the end once more at most, and its file is the only one.
        assert row["annex_attempts"] in {1, 2}
        started, ended = renders(s)
        assert len(started) == 2 and len(ended) == 1  # killed once, rendered to the end once
        assert started[0] != started[1]  # another process took it over
        # Exactly the job's two files, nothing of the killed attempt beside them.
        assert s.files() == sorted([row["pdf"], row["xlsx"]])
        assert row["pdf"].endswith(f"cluster-{job_id}-en.pdf")
        assert row["xlsx"].endswith(f"cluster-{job_id}-en.xlsx")
        assert (s.media / row["pdf"]).read_bytes().startswith(b"%PDF")
        # A late duplicate of the same message does nothing more.
        s.run("-m", "tests.faults.scripts", "send", str(job_id), row["claimed_by"])
        time.sleep(3)
        assert renders(s)[1] == ended and job_row(s, job_id) == row
