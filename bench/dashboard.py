"""Benchmark of the cluster dashboard page at 10,000 firms, on PostgreSQL by default.

    .venv/bin/python bench/dashboard.py                    # seed (once) and measure
    .venv/bin/python bench/dashboard.py --firms 10000 --runs 9
    BENCH_DATABASE_URL=sqlite:///var/bench/dashboard.sqlite3 .venv/bin/python bench/dashboard.py

Seeds one cluster (`bench/report.py`'s seeding: the built-in MIIT 2024 framework, every firm
invited, about 90% submitted) into its own database, adds two earlier rounds on the same
framework for the trend and one target, then requests the dashboard with Django's test client
as an official of the cluster. "Cold" clears the cache before each request, so the cluster
report is assembled from the database (the benchmark snapshot of all clusters stays stored, as
it does between reports); "warm" is a repeated view, served from the cached report;
"after-submission" changes the round's inputs as a submission does (one submitted assessment's
`updated_at`, which the report fingerprint reads), runs the warm-up task a submission queues
(`reports.tasks.dashboard_warm`, both languages; its time is printed as "warm_task"), then
takes the first view. Prints the median and range in ms and the number of queries of each;
copy them to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gradient_bench_dashboard"
EARLIER = (("T-2", 2024, 0.35), ("T-1", 2025, 0.45))  # name, year, mean skill of the round


def _setup() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["BENCH_DATABASE_URL"] = url
    import report  # bench/report.py: its _setup points Django at BENCH_DATABASE_URL

    report._setup()
    return url


def seed(firms: int) -> None:
    """The cluster of `report.seed`, two earlier rounds with submissions, a target, a user."""
    import report
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from assessments.models import Assessment, Round
    from assessments.scoring import score
    from assessments.services import results_bulk_store
    from assessments.versions import framework_for
    from clusters.models import Firm, OfficialScope
    from reports.models import Target
    from tests.reports.builders import answers_for

    report.seed([firms])
    current = Round.objects.select_related("cluster", "framework_version").get(
        cluster__slug=f"bench-{firms}", name="T1"
    )
    cluster, version = current.cluster, current.framework_version
    fw = framework_for(version)
    rng = random.Random(7)
    ids = list(Firm.objects.filter(memberships__cluster=cluster).values_list("pk", flat=True))
    for name, year, skill in EARLIER:
        if Round.objects.filter(cluster=cluster, name=name).exists():
            continue
        t0 = time.perf_counter()
        opens = dt.datetime(year, 3, 1, tzinfo=dt.UTC)
        round_ = Round.objects.create(
            cluster=cluster,
            framework_version=version,
            name=name,
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=60),
        )
        profiles = [
            score(fw, answers_for(fw, rng.betavariate(4, 4) * skill * 2, rng)) for _ in range(200)
        ]
        with transaction.atomic():
            rows = Assessment.objects.bulk_create(
                [
                    Assessment(
                        round=round_,
                        firm_id=pk,
                        framework_version=version,
                        status=Assessment.Status.SUBMITTED,
                        submitted_at=opens + dt.timedelta(days=5),
                    )
                    for pk in ids
                    if rng.random() < 0.8
                ],
                batch_size=2000,
            )
            results_bulk_store([(row, fw, rng.choice(profiles)) for row in rows])
        print(f"seeded round {name}: {len(rows)} submitted in {time.perf_counter() - t0:.1f}s")
    if not Target.objects.filter(cluster=cluster).exists():
        Target.objects.create(
            cluster=cluster,
            framework=version.framework,
            level=fw.bands.basic,
            firms=int(firms * 0.8),
            deadline=dt.date(2027, 6, 30),
        )
    user, _new = get_user_model().objects.get_or_create(username="bench-official")
    OfficialScope.objects.get_or_create(user=user, cluster=cluster)


def measure(firms: int, runs: int) -> dict[str, object]:
    """Request the dashboard `runs` times cold and `runs` times warm; medians and queries."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from assessments.models import Assessment, Round
    from reports import dashboard, tasks

    setup_test_environment()
    current = Round.objects.get(cluster__slug=f"bench-{firms}", name="T1")
    touched = Assessment.objects.submitted().filter(round=current).order_by("id")[:1]
    task_times: list[float] = []
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(get_user_model().objects.get(username="bench-official"))
    url = reverse("report-dashboard", args=[f"bench-{firms}"])
    assert client.get(url).status_code == 200  # warm-up: imports, templates, benchmark snapshot
    out: dict[str, object] = {"firms": firms, "runs": runs}
    for mode in ("cold", "warm", "after-submission"):
        times, queries = [], []
        for _ in range(runs):
            if mode == "cold":
                cache.clear()
            elif mode == "after-submission":
                Assessment.objects.filter(pk__in=touched).update(updated_at=timezone.now())
                t0 = time.perf_counter()
                tasks.dashboard_warm(current.pk)
                task_times.append((time.perf_counter() - t0) * 1000)
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
            queries.append(len(ctx.captured_queries))
        out[mode] = {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
            "queries": sorted(set(queries)),
        }
    out["warm_task"] = {
        "median_ms": round(statistics.median(task_times), 1),
        "min_ms": round(min(task_times), 1),
        "max_ms": round(max(task_times), 1),
    }
    report = dashboard.report_for(current, language="zh-hans")
    out["support_entries"] = len(report.support)
    out["cached_report_kb"] = round(len(pickle.dumps(report)) / 1024)
    out["bytes"] = len(response.content)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    url = _setup()
    seed(args.firms)
    result = measure(args.firms, args.runs)
    print(f"database: {url.split('@')[-1]}")
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
