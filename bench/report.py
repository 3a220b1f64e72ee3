"""Benchmark of the cluster report pipeline at 100, 1,000, 10,000 and 100,000 firms.

    .venv/bin/python bench/report.py                 # seed (once) and measure every size
    .venv/bin/python bench/report.py --sizes 100 10000 --runs 5
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradient_bench .venv/bin/python bench/report.py

The data lives in its own database: by default a SQLite file under var/bench/ (kept between
runs, so seeding happens once), or the database in BENCH_DATABASE_URL. Each size is measured
in a fresh subprocess so that its peak RSS is its own. Every run times aggregation, charts,
HTML, PDF and XLSX separately, then bare WeasyPrint on the same HTML, for the ratio.
Figures are medians over the runs (fewer at 100,000 firms). Results go to stdout as a
Markdown table; copy them to docs/benchmarks.md.
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


def measure(size: int, runs: int) -> dict[str, object]:
    """Render the cluster report of the bench cluster `runs` times; medians and peak RSS."""
    from assessments.models import Round
    from reports import pdf
    from reports.rendering import render_cluster

    round_ = Round.objects.select_related("cluster__region", "framework_version").get(
        cluster__slug=f"bench-{size}"
    )
    render_cluster(round_, language="zh-hans")  # warm-up: imports, fonts, template cache
    steps: dict[str, list[float]] = {}
    bare: list[float] = []
    pages = 0
    for _ in range(runs):
        out = render_cluster(round_, language="zh-hans")
        for name, seconds in out.timings.items():
            steps.setdefault(name, []).append(seconds)
        t0 = time.perf_counter()
        pdf.html_to_pdf(out.html)
        bare.append(time.perf_counter() - t0)
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(out.pdf)).pages)
    result: dict[str, object] = {name: statistics.median(v) for name, v in steps.items()}
    result["bare_weasyprint"] = statistics.median(bare)
    result["pages"] = pages
    result["runs"] = runs
    result["peak_rss_mb"] = _peak_rss_mb()
    result["size"] = size
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
    args = parser.parse_args()
    _setup()
    if args.fonts:
        fonts(args.runs)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    seed(args.sizes)
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
        "| firms | aggregate | charts | HTML | PDF | XLSX | total | bare WeasyPrint | "
        "total ÷ bare | PDF ÷ bare | pages | peak RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']:,} | {r['aggregate']:.2f} s | {r['charts']:.3f} s | {r['html']:.3f} s "
            f"| {r['pdf']:.2f} s | {r['xlsx']:.2f} s | {r['total']:.2f} s "
            f"| {r['bare_weasyprint']:.2f} s | {r['total'] / r['bare_weasyprint']:.2f} "
            f"| {(r['total'] - r['xlsx']) / r['bare_weasyprint']:.2f} | {r['pages']} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
