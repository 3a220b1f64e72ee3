"""A real Celery worker process on Redis renders a report job end to end.

The worker must see the same database as the code that requests the report, so this test
runs everything against its own SQLite file (on both CI passes): a subprocess migrates and
seeds it, another requests the report through the service (which enqueues on commit), and a
`celery -A gradient worker -Q reports` subprocess renders it. The worker is always stopped.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    "broker",
    [
        pytest.param("redis", marks=pytest.mark.worker),
        # The embedded default (kombu's filesystem transport under var/): what `make demo` runs.
        pytest.param("filesystem"),
    ],
)
def test_real_worker_renders_a_report_end_to_end(
    broker: str, tmp_path: Path, redis_url: str
) -> None:
    if broker == "redis":
        import redis

        redis.Redis.from_url(redis_url).flushdb()  # no stale tasks from an earlier run
        broker_url = redis_url
    else:
        broker_url = "filesystem://"
    database = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "GRADIENT_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONPATH": str(ROOT),
    }
    _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
    _run(env, "-m", "tests.reports.worker_script", "seed")
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "gradient",
            "worker",
            "-Q",
            "reports",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        job_id = int(_run(env, "-m", "tests.reports.worker_script", "request").strip())
        seen: set[int] = set()
        row = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with sqlite3.connect(database) as db:
                row = db.execute(
                    "SELECT status, progress, error, pdf FROM reports_reportjob WHERE id = ?",
                    (job_id,),
                ).fetchone()
            seen.add(row[1])
            if row[0] in {"done", "failed"}:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.3)
        status, progress, error, pdf = row
        assert status == "done", (
            f"{status}: {error}\n" + (tmp_path / "worker.log").read_text()[-3000:]
        )
        assert progress == 100
        text = "".join(p.extract_text() for p in PdfReader(tmp_path / "media" / pdf).pages)
        assert "Worker test cluster" in text and "Headline figures" in text
        assert "12 / 12 invited" in text
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
