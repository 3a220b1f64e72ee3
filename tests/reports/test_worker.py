"""A real Celery worker process on Redis renders a report job end to end.

The worker must see the same database as the code that requests the report, so this test
runs everything against a database of its own: a SQLite file on the SQLite pass, and a fresh
PostgreSQL database on the PostgreSQL pass (DATABASE_URL=postgres://...), as in production.
A subprocess migrates and seeds it, another requests the report through the service (which
enqueues on commit), and a `celery -A gradient worker -Q reports` subprocess renders it. The
worker is always stopped, and the PostgreSQL database dropped.
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


_JOB_QUERY = "SELECT status, progress, error, pdf FROM reports_reportjob WHERE id = {}"


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _job_row(database_url: str, job_id: int) -> tuple[str, int, str, str]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute(_JOB_QUERY.format("?"), (job_id,)).fetchone()
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(_JOB_QUERY.format("%s"), (job_id,)).fetchone()  # type: ignore[return-value]


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
    outer_url = os.environ.get("DATABASE_URL", "")
    on_postgres = outer_url.startswith(("postgres://", "postgresql://"))
    if on_postgres:
        # A database of its own beside the outer one, made fresh for this run.
        base, _, _name = outer_url.rpartition("/")
        name = f"gradient_worker_{broker}"  # fixed, so a rerun clears a leftover
        database_url = f"{base}/{name}"
        _pg_admin(outer_url, f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(outer_url, f'CREATE DATABASE "{name}"')
    else:
        database_url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "DATABASE_URL": database_url,
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
            row = _job_row(database_url, job_id)
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
        if on_postgres:
            _pg_admin(outer_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
