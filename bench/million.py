"""The overview pages at provincial scale: one million firms in 1,000 clusters.

    .venv/bin/python bench/million.py                        # seed (once) and measure
    .venv/bin/python bench/million.py --firms 100000 --clusters 100 --database gradient_million_100k
    .venv/bin/python bench/million.py --runs 5 --explain     # also EXPLAIN ANALYZE the heavy queries
    .venv/bin/python bench/million.py --report --runs 3      # the largest cluster's report

Seeds once with `seed_demo --clusters N --firms M` (the COPY path) into its own PostgreSQL
database (`gradient_million` on 127.0.0.1 by default; created if missing, never dropped), then
requests each overview page through Django's test client as the demo's provincial official
(`demo_region`, Zhejiang), a city official (`bench_city`, the city of the first cluster) and
the demo's cluster official: the regional comparison (`report-region`) of the province and of
the city, the largest cluster's dashboard (`report-dashboard`), the workspace home (`home`) and
the reports page (`report-index`). Each page: one warm-up request, then `--runs` timed requests
(median, range, number of queries). The dashboard is timed cold (cache cleared first: the
cluster report assembled from the database) and warm. Also prints the rows per table and the
database size. Copy the table to docs/benchmarks.md.

`--report` instead renders the cluster report of the largest cluster's latest round and of a
cluster of about 100 firms (the report's PDF pipeline and its XLSX annex, each as the worker
renders them: `render_cluster(with_xlsx=False)` and `render_cluster_annex`), `--runs` times
each, and prints the medians and the ratio largest ÷ small of PDF + annex.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "postgres://postgres@127.0.0.1:5432"


def _setup(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{HOST}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"{HOST}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(clusters: int, firms: int) -> None:
    from django.core.management import call_command

    from clusters.demo import demo_present

    call_command("migrate", verbosity=0)
    if demo_present():
        return
    t0 = time.perf_counter()
    call_command("seed_demo", clusters=clusters, firms=firms)
    print(f"seeded in {(time.perf_counter() - t0) / 60:.1f} min")


def sizes() -> list[tuple[str, int, str]]:
    """(table, rows, size on disk with its indexes) of the demo's tables, and the database."""
    from django.db import connection

    tables = [
        "clusters_firm",
        "clusters_clustermembership",
        "assessments_round",
        "assessments_invitation",
        "assessments_assessment",
        "assessments_answer",
        "assessments_dimensionscore",
        "assessments_questionattainment",
    ]
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
            )
            rows, size = cursor.fetchone()
            out.append((table, rows, size))
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        out.append(("(database)", 0, cursor.fetchone()[0]))
    return out


def _users() -> dict[str, object]:
    """The provincial, city and cluster officials (the city one is made here, once)."""
    from django.contrib.auth import get_user_model

    from clusters.models import Cluster, OfficialScope, Region

    users = get_user_model().objects
    first = Cluster.objects.select_related("region").get(slug="demo-001")
    province_id = int(first.region.path.strip("/").split("/")[0])
    city = Region.objects.get(pk=int(first.region.path.strip("/").split("/")[1]))
    city_user, _new = users.get_or_create(username="bench_city")
    OfficialScope.objects.get_or_create(user=city_user, region=city)
    return {
        "province": users.get(username="demo_region"),
        "city": city_user,
        "cluster": users.get(username="demo_cluster"),
        "province_id": province_id,
        "city_id": city.pk,
    }


def _largest_cluster() -> str:
    from django.db.models import Count

    from clusters.models import Cluster

    return (
        Cluster.objects.annotate(n=Count("memberships"))
        .order_by("-n", "slug")
        .values_list("slug", flat=True)
        .first()
    )


def _touch_a_submission(cluster_slug: str) -> None:
    """Change one submitted assessment of the cluster's latest round, as a submission would
    (its `updated_at`, part of the round's state)."""
    from django.utils import timezone

    from assessments.models import Assessment

    latest = (
        Assessment.objects.submitted()
        .filter(round__cluster__slug=cluster_slug)
        .order_by("-round__opens_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    Assessment.objects.filter(pk=latest).update(updated_at=timezone.now())


def measure(runs: int, language: str, only: str = "") -> list[dict[str, object]]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    who = _users()
    largest = _largest_cluster()
    region = lambda pk: reverse("report-region", kwargs={"region_id": pk})  # noqa: E731
    dash = reverse("report-dashboard", args=[largest])
    pages = [
        # "cold": the cache cleared before each request; "changed": also one submitted
        # assessment of the largest cluster touched, as a new submission would (its round's
        # stored figures are then stale and computed again: reports/round_figures.py).
        ("region page, province, changed", "province", region(who["province_id"]), "changed"),
        ("region page, province, cold", "province", region(who["province_id"]), True),
        ("region page, province", "province", region(who["province_id"]), False),
        ("region page, city", "city", region(who["city_id"]), False),
        (f"dashboard {largest}, cold", "province", dash, True),
        (f"dashboard {largest}, warm", "province", dash, False),
        (f"dashboard {largest}, cold", "city", dash, True),
        ("workspace home", "province", reverse("home"), False),
        ("workspace home", "city", reverse("home"), False),
        ("reports page", "province", reverse("report-index"), False),
        ("reports page", "city", reverse("report-index"), False),
    ]
    out = []
    for label, role, url, cold in pages:
        if only and only not in label:
            continue
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(who[role])
        warm_up = client.get(url)
        assert warm_up.status_code == 200, (label, role, warm_up.status_code)
        times, queries = [], []
        for _ in range(runs):
            if cold == "changed":
                _touch_a_submission(largest)
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (label, role, response.status_code)
            queries.append(len(ctx.captured_queries))
        out.append(
            {
                "page": label,
                "as": role,
                "median_ms": round(statistics.median(times)),
                "min_ms": round(min(times)),
                "max_ms": round(max(times)),
                "queries": "/".join(str(q) for q in sorted(set(queries))),
            }
        )
        print(out[-1], flush=True)
    return out


def report(runs: int, language: str) -> None:
    """The cluster report at the largest cluster against one of about 100 firms."""
    from django.db.models import Count

    from assessments.models import Round
    from clusters.models import Cluster
    from reports.rendering import render_cluster, render_cluster_annex

    sizes = dict(
        Cluster.objects.annotate(n=Count("memberships")).values_list("slug", "n").order_by()
    )
    largest = max(sizes, key=lambda slug: (sizes[slug], slug))
    small = min(sizes, key=lambda slug: (abs(sizes[slug] - 100), slug))
    rows = []
    for slug in (small, largest):
        round_ = Round.objects.latest_reportable_of(Cluster.objects.get(slug=slug))
        pdf, annex = [], []
        render_cluster(round_, language=language, with_xlsx=False)  # warm-up
        for _ in range(runs):
            t0 = time.perf_counter()
            render_cluster(round_, language=language, with_xlsx=False)
            pdf.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            render_cluster_annex(round_, language=language)
            annex.append(time.perf_counter() - t0)
        submitted = round_.assessments.filter(status="submitted").count()
        rows.append(
            (slug, sizes[slug], submitted, statistics.median(pdf), statistics.median(annex))
        )
        print(rows[-1], flush=True)
    print(
        "\n| cluster | firms | submitted | PDF | annex | PDF + annex |\n|---|---:|---:|---:|---:|---:|"
    )
    for slug, firms, submitted, pdf_s, annex_s in rows:
        print(
            f"| {slug} | {firms:,} | {submitted:,} | {pdf_s:.2f} s | {annex_s:.2f} s | {pdf_s + annex_s:.2f} s |"
        )
    (_s, _f, _n, p0, a0), (_s1, _f1, _n1, p1, a1) = rows
    print(f"\nlargest ÷ small: PDF {p1 / p0:.2f}, PDF + annex {(p1 + a1) / (p0 + a0):.2f}")


def explain() -> None:
    """EXPLAIN ANALYZE of the region page's heavy queries, for docs/queries.md: run the
    province's page once with every query captured, then explain the slowest ones."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    who = _users()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(who["province"])
    for url in (
        reverse("report-region", kwargs={"region_id": who["province_id"]}),
        reverse("report-dashboard", args=[_largest_cluster()]),
    ):
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        heavy = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:4]
        for query in heavy:
            print(f"\n-- {url}: {query['time']} s\n{query['sql']}\n")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                for (line,) in cursor.fetchall():
                    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="gradient_million")
    parser.add_argument("--language", default="zh-hans")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="", help="only the pages whose label contains this")
    parser.add_argument("--report", action="store_true", help="time the largest cluster's report")
    args = parser.parse_args()
    _setup(args.database)
    seed(args.clusters, args.firms)
    if args.report:
        report(args.runs, args.language)
        return
    print(f"database: {args.database}")
    print("| table | rows | size |\n|---|---:|---:|")
    if not args.only:
        for table, rows, size in sizes():
            print(f"| {table} | {rows:,} | {size} |")
    results = measure(args.runs, args.language, args.only)
    print("\n| page | as | median ms | range ms | queries |\n|---|---|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['page']} | {r['as']} | {r['median_ms']} | {r['min_ms']}–{r['max_ms']} "
            f"| {r['queries']} |"
        )
    if args.explain:
        explain()


if __name__ == "__main__":
    main()
