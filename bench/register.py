"""Benchmark the register: import of a 10,000-row file, and seed_demo with 100,000 firms.

    .venv/bin/python bench/register.py [--rows 10000] [--firms 100000] [--repeat 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradient_bench .venv/bin/python bench/register.py

Runs against a throw-away test database (Django's test database creation), so it never touches
real data. Prints the median of --repeat runs for each step. Files are read, checked and
imported as an official of the cluster, as the web preview and commit do (the import changes
only firms in that official's scope). `--firms 0` skips the seeding step.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")
os.environ.setdefault("GRADIENT_VAR_DIR", tempfile.mkdtemp(prefix="gradient-bench-"))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from openpyxl import Workbook  # noqa: E402

HEADER = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "从业人员", "营业收入(万元)"]


def _rows(count: int, offset: int, bump: int = 0) -> list[list[object]]:
    from clusters.demo import demo_uscc

    rows = []
    for i in range(count):
        employees = 5 + (i * 37) % 900 + bump
        rows.append(
            [
                demo_uscc(offset + i, "320583", 99),
                f"基准测试制造有限公司{offset + i}" + ("（更新）" if bump else ""),
                "320583",
                f"C{13 + i % 31}",
                employees,
                round(employees * (20 + i % 60), 2),
            ]
        )
    return rows


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[object]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from django.contrib.auth import get_user_model

    from clusters import importing, selectors
    from clusters.demo import seed_register
    from clusters.models import Cluster, ClusterMembership, Firm, OfficialScope
    from clusters.services import region_create, register_import

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}")
        province = region_create(code="320000", name_zh="江苏省", level="province")
        city = region_create(code="320500", name_zh="苏州市", level="city", parent=province)
        county = region_create(code="320583", name_zh="昆山市", level="county", parent=city)
        cluster = Cluster.objects.create(slug="bench", name_zh="基准集群", region=county)
        official = get_user_model().objects.create_user("bench-official", password=None)
        OfficialScope.objects.create(user=official, cluster=cluster)
        results: dict[str, list[float]] = {}
        for run in range(args.repeat):
            for kind, build in (("xlsx", _xlsx), ("csv", _csv)):
                offset = (run * 2 + (kind == "csv")) * args.rows
                data = build(_rows(args.rows, offset))
                # The same firms with other figures: every row updates an existing firm.
                changed = build(_rows(args.rows, offset, bump=3))
                steps = [
                    (f"read and check {args.rows} rows, {kind}", data, False),
                    (f"import {args.rows} new firms, {kind}", data, True),
                    (f"import {args.rows} updates to existing firms, {kind}", changed, True),
                ]
                for name, payload, write in steps:
                    if write:
                        seconds = _timed(
                            lambda d=payload, k=kind: register_import(
                                cluster=cluster, data=d, filename=f"f.{k}", user=official
                            )
                        )
                    else:
                        seconds = _timed(
                            lambda d=payload, k=kind: importing.read_register(
                                d,
                                f"f.{k}",
                                visible=[
                                    selectors.cluster_firms(official, cluster),
                                    selectors.firms_visible_to(official),
                                ],
                            )
                        )
                    results.setdefault(name, []).append(seconds)
        for name, times in results.items():
            print(f"{name}: median {statistics.median(times):.2f} s over {len(times)} runs")
        if not args.firms:
            return

        ClusterMembership.objects.all().delete()
        Firm.objects.all().delete()
        Cluster.objects.all().delete()
        from clusters.models import Region

        for region in sorted(Region.objects.all(), key=lambda r: -len(r.path)):
            region.delete()
        seconds = _timed(lambda: seed_register(clusters=20, firms=args.firms, seed=1))
        print(f"seed_register {args.firms} firms, 20 clusters: {seconds:.1f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
