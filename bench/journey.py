"""Where the time of one firm session goes: queries and a profile of each of its three requests.

    .venv/bin/python bench/journey.py                     # queries per request, median times
    .venv/bin/python bench/journey.py --profile           # and a pyinstrument profile of each

The same session as `bench/load.py` (the review page, one htmx autosave, the submission), made
through Django's test client in one process with the production settings (DEBUG off) on
PostgreSQL (BENCH_DATABASE_URL, default gradient_bench_journey on 127.0.0.1, dropped and
re-created) with Redis as cache and session store (BENCH_CACHE_URL, default db 13, emptied). For each request: the number of queries and each query's first words, the median
wall time over `--firms` sessions, and with `--profile` pyinstrument's tree (needs the
`pyinstrument` of requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/gradient_bench_journey"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=40, help="sessions timed (one firm each)")
    parser.add_argument("--profile", action="store_true", help="print pyinstrument's trees")
    parser.add_argument("--sql", action="store_true", help="print every query of the last one")
    parser.add_argument("--all", action="store_true", help="profiles with library frames")
    parser.add_argument("--cprofile", metavar="STEP", help="cProfile one step (healthz, ...)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    args = parser.parse_args()
    if not 2 <= args.firms <= 500:
        raise SystemExit("bounded: 2-500 firms")
    db_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB
    sys.argv = sys.argv[:1]
    import load  # bench/load.py: the same seeding and settings

    env = load._env(db_url)
    env["ALLOWED_HOSTS"] = "testserver"
    env["GRADIENT_VAR_DIR"] = str(ROOT / "var" / "bench-journey")
    load._recreate_database(db_url)
    load._flush_cache(env["CACHE_URL"])
    load._manage(env, "migrate", "--noinput", "-v", "0")
    load._manage(env, "load_frameworks", "-v", "0")
    load._manage(env, "collectstatic", "--noinput", "-v", "0")
    seeded = subprocess.run(
        [sys.executable, "-c", load.SEED, str(args.firms + 1)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if seeded.returncode:
        raise SystemExit(f"seeding failed:\n{seeded.stderr[-3000:]}")
    os.environ.update(env)
    _measure(seeded.stdout.strip().splitlines()[-1], args)


def _measure(plan_json: str, args: argparse.Namespace) -> None:
    import json

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    plan: dict[str, Any] = json.loads(plan_json)
    question = plan["question"]
    times: dict[str, list[float]] = {"healthz": [], "review page": [], "autosave": [], "submit": []}
    # The app's own CPU time (this process; PostgreSQL's is not in it): steadier than the wall
    # time on a shared machine.
    cpus: dict[str, list[float]] = {name: [] for name in times}
    queries: dict[str, list[str]] = {}
    profiles: dict[str, Any] = {}
    profiler_cls: Any = None
    if args.profile:
        from pyinstrument import Profiler

        profiler_cls = Profiler
    import cProfile
    import pstats

    cprofiler = cProfile.Profile()
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-hans", "secure": True}
    # One client for all: its handler loads the middlewares once, as a server's worker does.
    client = Client()
    anonymous = Client()  # the yardstick: /healthz without a session, as bench/load.py asks it
    for index, firm in enumerate(plan["firms"]):
        warm = index == 0  # the first session fills the process's caches, as a warm worker has
        pk = firm["assessment"]
        client.cookies.clear()
        client.cookies["sessionid"] = firm["session"]
        review = f"/assessments/{pk}/review/"
        steps = [
            ("healthz", lambda: anonymous.get("/healthz", secure=True)),
            ("review page", lambda review=review: client.get(review, **headers)),
            (
                "autosave",
                lambda pk=pk: client.post(
                    f"/assessments/{pk}/answers/{question}/",
                    {"value": plan["option"], "base_revision": "0"},
                    HTTP_HX_REQUEST="true",
                    **headers,
                ),
            ),
            ("submit", lambda review=review: client.post(review, {"confirm": "yes"}, **headers)),
        ]
        for name, request in steps:
            # Every session after the warm-up in one profile per step (pyinstrument combines
            # the runs of one profiler): a sampled profile of one request is mostly noise.
            profiler = None
            if profiler_cls is not None and not warm:
                profiler = profiles.get(name) or profiler_cls(interval=0.0005)
                profiler.start()
            if args.cprofile == name and not warm:
                cprofiler.enable()
            with CaptureQueriesContext(connection) as captured:
                t0, c0 = time.perf_counter(), time.process_time()
                response = request()
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            if args.cprofile == name and not warm:
                cprofiler.disable()
            if profiler is not None:
                profiler.stop()
                profiles[name] = profiler
            expected = 302 if name == "submit" else 200
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code}\n{response.content[:2000]!r}")
            if name == "review page":
                client.cookies["csrftoken"] = response.cookies.get(
                    "csrftoken", client.cookies.get("csrftoken")
                )
            if not warm:
                times[name].append(elapsed)
                cpus[name].append(cpu)
            queries[name] = [q["sql"] for q in captured.captured_queries]
    print(f"{len(plan['firms']) - 1} sessions after a warm-up, one process, test client:")
    print("| request | queries | median | p95 | CPU median |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"| {name} | {len(queries[name])} | {statistics.median(values) * 1000:.1f} ms "
            f"| {p95 * 1000:.1f} ms | {statistics.median(cpus[name]) * 1000:.1f} ms |"
        )
    session = sum(statistics.median(cpus[n]) for n in times if n != "healthz")
    print(
        f"CPU of a session (three requests) {session * 1000:.1f} ms; healthz ÷ session: "
        f"{statistics.median(cpus['healthz']) / session:.3f} (the load ratio's in-process bound)"
    )
    for name, sqls in queries.items():
        print(f"\n{name}: {len(sqls)} queries")
        for sql in sqls:
            print("  ", sql if args.sql else sql[:150])
    if args.cprofile:
        print(f"\n===== cProfile of {args.cprofile} =====")
        stats = pstats.Stats(cprofiler).sort_stats(args.sort)
        stats.print_stats(70)
        stats.print_callers(12)
    for name, profiler in profiles.items():
        print(f"\n===== {name} =====")
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))


if __name__ == "__main__":
    main()
