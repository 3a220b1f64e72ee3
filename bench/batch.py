"""Benchmark of a report batch (issue 14): every cluster report of a region, one worker
process against two.

    .venv/bin/python bench/batch.py                      # 100 clusters of 20 firms, 2 runs each
    .venv/bin/python bench/batch.py --clusters 100 --firms 20 --runs 3
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME BENCH_BROKER_URL=redis://… …

The data lives in its own PostgreSQL database (`gradient_bench_batch` on 127.0.0.1 by default,
created if missing and seeded once: one city, `--clusters` clusters of `--firms` submitted
firms each, on the built-in MIIT 2024 framework, and the city's official). Each run deletes
the report jobs and batches of the previous one (so that every report renders, none is served
from its file), starts a real Celery worker on the `reports` queue with `--concurrency 1` or
`--concurrency 2` (prefork: one or two pool processes), requests the batch through the
service as the page does, and times it until the zip is written (the batch's status, polled
every 0.2 s). The runs alternate between one and two processes, so that a change in the
machine's load hits both; `uptime` is printed before and after. Results go to stdout; copy
them to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/gradient_bench_batch"
DEFAULT_BROKER = "redis://127.0.0.1:6379/12"
CITY = "bench-batch"
PROFILES = 200  # distinct scored answer sets, reused across firms


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB,
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL") or DEFAULT_BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "GRADIENT_VAR_DIR": str(VAR),
        "MEDIA_ROOT": str(VAR / "batch-media"),
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def _create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    env = _env()
    if env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        _create_database(env["DATABASE_URL"])
    os.environ.update({k: env[k] for k in _env_keys()})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")
    import django

    django.setup()


def _env_keys() -> set[str]:
    return {
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CELERY_TASK_ALWAYS_EAGER",
        "GRADIENT_VAR_DIR",
        "MEDIA_ROOT",
        "LOG_LEVEL",
    }


def seed(clusters: int, firms: int) -> None:
    """One city with `clusters` clusters of `firms` submitted firms each (once)."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from assessments.framework import builtin_framework_paths
    from assessments.models import Assessment, Invitation, Round
    from assessments.scoring import score
    from assessments.services import results_bulk_store
    from clusters.models import Cluster, ClusterMembership, Firm, OfficialScope, Region
    from tests.factories import make_uscc
    from tests.reports.builders import answers_for, framework_version

    call_command("migrate", verbosity=0)
    region = Region.objects.filter(code=CITY).first()
    if region is not None and Cluster.objects.filter(region=region).count() == clusters:
        return
    assert region is None, "the bench database holds another size: drop it or pick another"
    t0 = time.perf_counter()
    version, fw = framework_version(next(p for p in builtin_framework_paths() if "miit" in p.name))
    rng = random.Random(7)
    profiles = [score(fw, answers_for(fw, rng.betavariate(2.5, 2.5), rng)) for _ in range(PROFILES)]
    with transaction.atomic():
        region = Region.objects.create(
            code=CITY, name_zh="批量测试市", name_en="Batch bench city", level="city"
        )
        region.path = f"/{region.pk}/"
        region.save(update_fields=["path"])
        opens = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        sizes = ["micro", "small", "small", "medium", "large"]
        for c in range(clusters):
            cluster = Cluster.objects.create(
                slug=f"batch-{c:03d}",
                name_zh=f"批量集群{c:03d}",
                name_en=f"Batch cluster {c:03d}",
                region=region,
            )
            round_ = Round.objects.create(
                cluster=cluster,
                framework_version=version,
                name="T1",
                opens_at=opens,
                closes_at=opens + dt.timedelta(days=60),
            )
            rows = Firm.objects.bulk_create(
                [
                    Firm(
                        uscc=make_uscc(7_000_000 + c * firms + i),
                        name=f"批量企业{c:03d}-{i:03d}",
                        size_class=sizes[i % 5],
                        region=region,
                    )
                    for i in range(firms)
                ]
            )
            ClusterMembership.objects.bulk_create(
                [
                    ClusterMembership(cluster=cluster, firm=f, start_date=dt.date(2024, 1, 1))
                    for f in rows
                ]
            )
            Invitation.objects.bulk_create(
                [Invitation(round=round_, firm=f, token=f"bb{round_.pk}-{f.pk}") for f in rows]
            )
            assessments = Assessment.objects.bulk_create(
                [
                    Assessment(
                        round=round_,
                        firm=f,
                        framework_version=version,
                        status=Assessment.Status.SUBMITTED,
                        submitted_at=opens + dt.timedelta(days=3),
                    )
                    for f in rows
                ]
            )
            results_bulk_store([(a, fw, rng.choice(profiles)) for a in assessments])
        user = get_user_model().objects.create_user(username="batch_bench_official")
        OfficialScope.objects.create(user=user, region=region)
    print(f"seeded {clusters} clusters of {firms} firms in {time.perf_counter() - t0:.1f} s")


def _reset() -> None:
    """Remove every report job and batch with their files: the next batch renders them all."""
    from reports.models import ReportBatch, ReportJob

    for job in ReportJob.objects.all().iterator():
        for f in (job.pdf, job.xlsx):
            if f:
                f.delete(save=False)
    for found in ReportBatch.objects.all().iterator():
        if found.zip:
            found.zip.delete(save=False)
    ReportBatch.objects.all().delete()
    ReportJob.objects.all().delete()


def _purge_queue() -> None:
    from gradient.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("reports")


def _start_worker(concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "gradient",
            "worker",
            "-Q",
            "reports",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-batch-{concurrency}@%h",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    from gradient.celery import app

    deadline = time.monotonic() + 120
    name = f"bench-batch-{concurrency}@"
    # Ready when it answers a ping (remote control stays on without gossip and mingle).
    while True:
        nodes = [node for reply in app.control.ping(timeout=0.5) for node in reply]
        if any(name in node for node in nodes):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    others = [node for node in nodes if name not in node]
    if others:  # another worker on this broker would take (and skew) the batch's tasks
        _stop(proc)
        raise SystemExit(f"other workers consume this broker: {others}")
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def run_once(concurrency: int, timeout: float) -> dict[str, float]:
    """One batch on a fresh worker with `concurrency` pool processes; its timings."""
    from django.contrib.auth import get_user_model

    from clusters.models import Region
    from reports.batch import batch_progress, report_batch_request
    from reports.models import ReportBatch

    _reset()
    _purge_queue()
    proc = _start_worker(concurrency, VAR / f"batch-worker-{concurrency}.log")
    try:
        user = get_user_model().objects.get(username="batch_bench_official")
        region = Region.objects.get(code=CITY)
        t0 = time.perf_counter()
        found, how = report_batch_request(user, region=region, language="zh-hans")
        requested = time.perf_counter() - t0
        assert how == "queued", how
        deadline = t0 + timeout
        while True:
            found.refresh_from_db()
            if found.status in (ReportBatch.Status.DONE, ReportBatch.Status.FAILED):
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"the batch did not finish in {timeout} s")
            time.sleep(0.2)
        total = time.perf_counter() - t0
        progress = batch_progress(found)
        assert found.status == ReportBatch.Status.DONE, found.error
        assert progress.done == found.total, progress
        zip_mb = found.zip.size / 1e6
    finally:
        _stop(proc)
    return {"seconds": total, "request": requested, "zip_mb": zip_mb, "reports": found.total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--firms", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2, help="runs per worker size (>= 2)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    _setup()
    seed(args.clusters, args.firms)
    # Warm the framework's benchmark snapshot (shared by every cluster report) once.
    from assessments.models import Round
    from reports.rendering import render_cluster

    first = Round.objects.filter(cluster__region__code=CITY).first()
    assert first is not None
    render_cluster(first, language="zh-hans")
    before = subprocess.run(
        ["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()
    print(f"uptime before: {before}", flush=True)
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for run in range(args.runs):
        for concurrency in (1, 2) if run % 2 == 0 else (2, 1):
            out = run_once(concurrency, args.timeout)
            results[concurrency].append(out)
            load = os.getloadavg()[0]
            print(
                f"run {run + 1}, {concurrency} process(es): {out['seconds']:.1f} s for "
                f"{out['reports']:.0f} reports (request {out['request']:.2f} s, zip "
                f"{out['zip_mb']:.1f} MB), load {load:.2f}",
                flush=True,
            )
    after = subprocess.run(
        ["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()
    print(f"uptime after: {after}")
    one = statistics.median(r["seconds"] for r in results[1])
    two = statistics.median(r["seconds"] for r in results[2])
    print()
    print("| worker processes | runs | median s | per report s | ratio to one |")
    print("|---|---|---|---|---|")
    for n, median in ((1, one), (2, two)):
        secs = ", ".join(f"{r['seconds']:.1f}" for r in results[n])
        print(
            f"| {n} | {secs} | {median:.1f} | {median / args.clusters:.2f} | {median / one:.2f} |"
        )
    # Each run's pair ran back to back, under much the same load: their ratios say more on a
    # shared machine than the ratio of the medians, whose runs may be minutes apart.
    pairs = [b["seconds"] / a["seconds"] for a, b in zip(results[1], results[2], strict=True)]
    print(f"\nratio two ÷ one, of the medians: {two / one:.2f} (goal ≤ 0.6)")
    print(
        "ratio two ÷ one, per run: "
        + ", ".join(f"{r:.2f}" for r in pairs)
        + f"; median {statistics.median(pairs):.2f}"
    )


if __name__ == "__main__":
    main()
