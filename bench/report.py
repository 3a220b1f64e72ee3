"""Benchmark of the cluster report pipeline at 100, 1,000, 10,000 and 100,000 firms.

    .venv/bin/python bench/report.py                 # seed (once) and measure every size
    .venv/bin/python bench/report.py --sizes 100 10000 --runs 5
    .venv/bin/python bench/report.py --sizes 10000 --xlsx-compare   # XlsxWriter vs openpyxl
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradient_bench .venv/bin/python bench/report.py

The data lives in its own database: by default a SQLite file under var/bench/ (kept between
runs, so seeding happens once), or the database in BENCH_DATABASE_URL. Each size is measured
in a fresh subprocess so that its peak RSS is its own. Every run times the PDF pipeline
(aggregation, charts, HTML, PDF) and the annex (aggregation, XLSX) separately, then bare
WeasyPrint on the same HTML, for the ratio; then both again at once, in two worker processes,
as the two Celery tasks of a job run (issue 14): "PDF ready" and "annex ready" are the wall
times from the start until each is done, "end to end" until both are. Figures are medians
over the runs (fewer at 100,000 firms). Results go to stdout as a Markdown table; copy them
to docs/benchmarks.md.

`--xlsx-compare` writes the real annex of each size (same report, same rows) with XlsxWriter
in constant-memory mode and with openpyxl in write-only mode, checks that both files hold the
same cells, and prints the medians and the cells per second of each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
SIZES = [100, 1_000, 10_000, 100_000]
PROFILES = (
    400  # distinct scored answer sets, reused across firms (scoring is benchmarked elsewhere)
)


def _setup() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{VAR / 'bench.sqlite3'}"
    )
    os.environ["GRADIENT_VAR_DIR"] = str(VAR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(sizes: list[int]) -> None:
    """Create one cluster per size (if missing), all on the built-in MIIT 2024 framework."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import transaction

    from assessments.framework import builtin_framework_paths
    from assessments.models import Assessment, Invitation, Round
    from assessments.scoring import score
    from assessments.services import results_bulk_store
    from clusters.models import Cluster, ClusterMembership, Firm, Region
    from tests.factories import make_uscc
    from tests.reports.builders import answers_for, framework_version

    call_command("migrate", verbosity=0)
    version, fw = framework_version(next(p for p in builtin_framework_paths() if "miit" in p.name))
    rng = random.Random(42)
    profiles = [score(fw, answers_for(fw, rng.betavariate(2.5, 2.5), rng)) for _ in range(PROFILES)]
    region = Region.objects.filter(code="bench").first()
    if region is None:
        region = Region.objects.create(
            code="bench", name_zh="基准测试市", name_en="Bench City", level="city"
        )
        region.path = f"/{region.pk}/"
        region.save(update_fields=["path"])
    for size in sizes:
        slug = f"bench-{size}"
        if Cluster.objects.filter(slug=slug).exists():
            continue
        t0 = time.perf_counter()
        cluster = Cluster.objects.create(
            slug=slug, name_zh=f"基准集群{size}", name_en=f"Bench cluster {size}", region=region
        )
        opens = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        round_ = Round.objects.create(
            cluster=cluster,
            framework_version=version,
            name="T1",
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=60),
        )
        sizes_cls = ["micro", "small", "small", "medium", "large"]
        for chunk_start in range(0, size, 5000):
            chunk = range(chunk_start, min(size, chunk_start + 5000))
            with transaction.atomic():
                firms = Firm.objects.bulk_create(
                    [
                        Firm(
                            uscc=make_uscc(size * 10 + i),  # disjoint ranges per cluster size
                            name=f"基准企业{size}-{i:06d}",
                            size_class=sizes_cls[i % 5],
                            region=region,
                        )
                        for i in chunk
                    ],
                    batch_size=2000,
                )
                ClusterMembership.objects.bulk_create(
                    [
                        ClusterMembership(cluster=cluster, firm=f, start_date=dt.date(2024, 1, 1))
                        for f in firms
                    ],
                    batch_size=2000,
                )
                Invitation.objects.bulk_create(
                    [Invitation(round=round_, firm=f, token=f"b{round_.pk}-{f.pk}") for f in firms],
                    batch_size=2000,
                )
                done = [f for f in firms if rng.random() < 0.9]
                rows = Assessment.objects.bulk_create(
                    [
                        Assessment(
                            round=round_,
                            firm=f,
                            framework_version=version,
                            status=Assessment.Status.SUBMITTED,
                            submitted_at=opens + dt.timedelta(days=3),
                        )
                        for f in done
                    ],
                    batch_size=2000,
                )
                if rows and rows[0].pk is None:
                    ids = dict(
                        Assessment.objects.filter(round=round_, firm__in=done).values_list(
                            "firm_id", "pk"
                        )
                    )
                    for row in rows:
                        row.pk = row.id = ids[row.firm_id]
                results_bulk_store([(row, fw, rng.choice(profiles)) for row in rows])
        print(f"seeded {slug}: {size} firms in {time.perf_counter() - t0:.1f}s", flush=True)


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: after fork and exec, Linux
    reports the parent's larger high-water mark there, which hid the real figure."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bench_round(size: int) -> Any:
    from assessments.models import Round

    return Round.objects.select_related("cluster__region", "framework_version").get(
        cluster__slug=f"bench-{size}"
    )


def _task_pdf(size: int) -> tuple[float, float]:
    """What the PDF task does, in a pool process: load the round, render the PDF; when it
    finished, and the CPU seconds it took."""
    from reports.rendering import render_cluster

    cpu = time.process_time()
    render_cluster(_bench_round(size), language="zh-hans", with_xlsx=False)
    return time.perf_counter(), time.process_time() - cpu


def _task_annex(size: int) -> tuple[float, float]:
    """What the annex task does, in a pool process: load the round, render the annex."""
    from reports.rendering import render_cluster_annex

    cpu = time.process_time()
    render_cluster_annex(_bench_round(size), language="zh-hans")
    return time.perf_counter(), time.process_time() - cpu


def _both_at_once(pool: Any, size: int) -> tuple[float, float, float, float]:
    """(PDF ready, annex ready, end to end, CPU end to end) in seconds, both tasks started
    together. "CPU end to end" is the larger of the two tasks' CPU times: the end to end
    with two free cores, which the other load on a shared machine does not inflate."""
    t0 = time.perf_counter()
    pdf_done = pool.submit(_task_pdf, size)
    annex_done = pool.submit(_task_annex, size)
    # Each task reports when it finished (perf_counter is system-wide on Linux).
    (pdf_at, pdf_cpu), (annex_at, annex_cpu) = pdf_done.result(), annex_done.result()
    end = time.perf_counter()
    return pdf_at - t0, annex_at - t0, end - t0, max(pdf_cpu, annex_cpu)


def measure(size: int, runs: int) -> dict[str, object]:
    """Render the cluster report of the bench cluster `runs` times: PDF pipeline and annex
    alone, then both at once in two processes; medians and peak RSS."""
    import io
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections
    from pypdf import PdfReader

    from reports import pdf
    from reports.rendering import render_cluster, render_cluster_annex

    round_ = _bench_round(size)
    render_cluster(round_, language="zh-hans")  # warm-up: imports, fonts, template cache
    steps: dict[str, list[float]] = {}
    bare: list[float] = []
    pages = 0
    for _ in range(runs):
        out = render_cluster(round_, language="zh-hans", with_xlsx=False)
        for name, seconds in out.timings.items():
            steps.setdefault(f"pdf_{name}" if name == "total" else name, []).append(seconds)
        annex = render_cluster_annex(round_, language="zh-hans")
        steps.setdefault("annex_aggregate", []).append(annex.timings["aggregate"])
        steps.setdefault("xlsx", []).append(annex.timings["xlsx"])
        steps.setdefault("annex_total", []).append(annex.timings["total"])
        t0 = time.perf_counter()
        pdf.html_to_pdf(out.html)
        bare.append(time.perf_counter() - t0)
        pages = len(PdfReader(io.BytesIO(out.pdf)).pages)
    result: dict[str, object] = {name: statistics.median(v) for name, v in steps.items()}
    result["bare_weasyprint"] = statistics.median(bare)
    result["peak_rss_mb"] = _peak_rss_mb()  # of the renders above, one at a time
    # The two tasks of a job at once, in two worker processes (forked from this warm one).
    connections.close_all()
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    with pool:
        list(pool.map(_task_pdf, [size, size]))  # warm each process: fonts, templates
        list(pool.map(_task_annex, [size, size]))
        both = [_both_at_once(pool, size) for _ in range(runs)]
    result["pdf_ready"] = statistics.median(b[0] for b in both)
    result["annex_ready"] = statistics.median(b[1] for b in both)
    result["end_to_end"] = statistics.median(b[2] for b in both)
    result["end_to_end_runs"] = [round(b[2], 3) for b in both]
    result["cpu_end_to_end"] = statistics.median(b[3] for b in both)
    result["pages"] = pages
    result["runs"] = runs
    result["size"] = size
    return result


def _rstrip(row: tuple[object, ...]) -> tuple[object, ...]:
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def xlsx_compare(size: int, runs: int) -> dict[str, object]:
    """The annex of the bench cluster written by each writer `runs` times (same report, same
    rows from the database); medians, cells, and whether both files hold the same cells."""
    import io

    from openpyxl import load_workbook

    from reports import context, xlsx

    round_ = _bench_round(size)
    report = context.cluster_report(round_, language="zh-hans")
    times: dict[str, list[float]] = {w: [] for w in xlsx.WRITERS}
    files: dict[str, bytes] = {}
    xlsx.render_xlsx(report, round_)  # warm-up
    for _ in range(runs):
        for writer in xlsx.WRITERS:
            t0 = time.perf_counter()
            files[writer] = xlsx.render_xlsx(report, round_, writer=writer)
            times[writer].append(time.perf_counter() - t0)
    cells: dict[str, list[list[object]]] = {}
    for writer, data in files.items():
        book = load_workbook(io.BytesIO(data), read_only=True)
        # Trailing empty cells differ only in the sheet's declared dimension: left out.
        cells[writer] = [
            [ws.title, *_rstrip(row)]
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
        ]
    count = sum(sum(v is not None for v in row[1:]) for row in cells["xlsxwriter"])
    result: dict[str, object] = {
        "size": size,
        "runs": runs,
        "cells": count,
        "same_cells": cells["xlsxwriter"] == cells["openpyxl"],
        "bytes": {w: len(d) for w, d in files.items()},
    }
    for writer in xlsx.WRITERS:
        result[writer] = statistics.median(times[writer])
    return result


def fonts(runs: int) -> None:
    """Time a ~50-page Chinese table with each candidate CJK font (medians of `runs`)."""
    import io

    from pypdf import PdfReader

    from reports import pdf

    rng = random.Random(1)
    words = "数字化转型基础管理成效设备上云网络安全生产管控采购仓储物流质量能源研发设计营销服务"
    rows = "".join(
        f"<tr><td>{i}</td><td>{''.join(rng.choice(words) for _ in range(14))}有限公司</td>"
        f"<td>{rng.uniform(0, 100):.2f}</td><td>{''.join(rng.choice(words) for _ in range(24))}"
        "</td></tr>"
        for i in range(2600)
    )
    for family in ("WenQuanYi Micro Hei", "Noto Sans CJK SC"):
        html = (
            f"<html><head><style>@page {{ size: A4; margin: 15mm }} html {{ font-family: "
            f"'{family}'; font-size: 9pt }} td {{ border-bottom: .5pt solid #ccc }}</style>"
            f"</head><body><table><thead><tr><th>#</th><th>企业</th><th>得分</th><th>说明</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></body></html>"
        )
        times, size, pages = [], 0, 0
        for _ in range(runs):
            t0 = time.perf_counter()
            data = pdf.html_to_pdf(html)
            times.append(time.perf_counter() - t0)
            size, pages = len(data), len(PdfReader(io.BytesIO(data)).pages)
        print(
            f"| {family} | {pages} | {statistics.median(times):.2f} s | {times[0]:.2f} s "
            f"| {size / 1e6:.2f} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fonts", action="store_true", help="compare the CJK fonts instead")
    parser.add_argument(
        "--xlsx-compare",
        action="store_true",
        help="compare XlsxWriter (constant memory) with openpyxl (write-only) on the annex",
    )
    args = parser.parse_args()
    _setup()
    if args.fonts:
        fonts(args.runs)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    seed(args.sizes)
    if args.xlsx_compare:
        _print_xlsx_compare([xlsx_compare(size, args.runs) for size in args.sizes])
        return
    rows = []
    for size in args.sizes:
        runs = max(2, args.runs // 2) if size >= 100_000 else args.runs
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(size), "--runs", str(runs)],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ.copy(),
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print()
    print(
        "| firms | aggregate | charts | HTML | PDF | PDF pipeline | bare WeasyPrint "
        "| PDF ÷ bare | annex: aggregate | annex: XLSX | annex | both at once: PDF ready "
        "| annex ready | end to end | CPU end to end | pages | peak RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']:,} | {r['aggregate']:.2f} s | {r['charts']:.3f} s | {r['html']:.3f} s "
            f"| {r['pdf']:.2f} s | {r['pdf_total']:.2f} s | {r['bare_weasyprint']:.2f} s "
            f"| {r['pdf_total'] / r['bare_weasyprint']:.2f} | {r['annex_aggregate']:.2f} s "
            f"| {r['xlsx']:.2f} s | {r['annex_total']:.2f} s | {r['pdf_ready']:.2f} s "
            f"| {r['annex_ready']:.2f} s | {r['end_to_end']:.2f} s "
            f"| {r['cpu_end_to_end']:.2f} s | {r['pages']} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    by_size = {r["size"]: r for r in rows}
    if 100 in by_size:
        base = by_size[100]
        for size, r in sorted(by_size.items()):
            if size != 100:
                print(
                    f"end to end {size:,} ÷ 100: {r['end_to_end'] / base['end_to_end']:.2f} "
                    f"(runs {r['end_to_end_runs']} vs {base['end_to_end_runs']}); "
                    f"CPU end to end: {r['cpu_end_to_end'] / base['cpu_end_to_end']:.2f}"
                )


def _print_xlsx_compare(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        print(json.dumps(r), flush=True)
    print()
    print(
        "| firms | cells | openpyxl write-only | XlsxWriter constant memory | openpyxl ÷ XlsxWriter "
        "| cells/s openpyxl | cells/s XlsxWriter | same cells |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|:--|")
    for r in rows:
        o, x = r["openpyxl"], r["xlsxwriter"]
        print(
            f"| {r['size']:,} | {r['cells']:,} | {o:.2f} s | {x:.2f} s | {o / x:.2f} "
            f"| {r['cells'] / o:,.0f} | {r['cells'] / x:,.0f} | {'yes' if r['same_cells'] else 'NO'} |"
        )


if __name__ == "__main__":
    main()
