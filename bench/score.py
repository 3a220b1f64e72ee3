"""Scoring throughput: assessments scored per second, with random valid answers.

Usage: python bench/score.py [--answers N] [--runs R] [--seed S] [FILE...]

Scores each built-in framework (assessments/frameworks/*.yaml) plus any FILEs, in a single
process on one core (pinned with sched_setaffinity where the OS allows). Each run scores the
same N pre-generated answer sets; the table shows the median of R runs. Answers are drawn
uniformly: every question is answered (about 1 in 10 left blank), so show_if, count and
next_level work as they would on real submissions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessments.framework import (  # noqa: E402
    Framework,
    FrameworkError,
    Question,
    builtin_framework_paths,
    load_framework_file,
)
from assessments.scoring import score  # noqa: E402

EXPECTED_BUILTINS = ("miit-sme-2024.1.yaml", "edih-dma-2023.1.yaml", "eu-dii-2023.1.yaml")


def random_answer(q: Question, rng: random.Random) -> object:
    """A valid answer to q, or None (unanswered) one time in ten."""
    if rng.random() < 0.1:
        return None
    if q.type == "single":
        return rng.choice(q.options).code
    if q.type == "multi":
        plain = [o.code for o in q.options if not o.exclusive]
        exclusive = [o.code for o in q.options if o.exclusive]
        if exclusive and rng.random() < 0.15:
            return [rng.choice(exclusive)]
        return rng.sample(plain, rng.randint(0, len(plain)))
    if q.type == "yesno":
        return rng.random() < 0.5
    if q.type == "number":
        low = float(q.min) if q.min is not None else 0.0
        high = (
            float(q.max)
            if q.max is not None
            else max([float(b.upto) for b in q.bands if b.upto is not None] + [100.0]) * 1.2
        )
        if q.integer:
            return rng.randint(int(low), int(high))
        return round(rng.uniform(low, high), 2)
    if q.type == "level":
        return rng.choice(q.levels).value
    return "free text " * rng.randint(0, 3)


def answer_sets(fw: Framework, n: int, seed: int) -> list[dict]:
    """n random valid answer sets for fw."""
    rng = random.Random(seed)
    return [{q.code: random_answer(q, rng) for q in fw.questions} for _ in range(n)]


def bench(fw: Framework, sets: list[dict], runs: int) -> tuple[list[float], list[float]]:
    """Assessments per second of each run: by CPU time and by wall-clock time."""
    for answers in sets[:200]:  # warm up: compile the plan, fill caches
        score(fw, answers)
    cpu_rates, wall_rates = [], []
    for _ in range(runs):
        # CPU time of this process: on a shared machine wall time also counts the time other
        # processes hold the core. Both are reported.
        wall, cpu = time.perf_counter(), time.process_time()
        for answers in sets:
            score(fw, answers)
        cpu_rates.append(len(sets) / (time.process_time() - cpu))
        wall_rates.append(len(sets) / (time.perf_counter() - wall))
    return cpu_rates, wall_rates


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="extra framework files")
    parser.add_argument("--answers", type=int, default=5000, help="answer sets per run")
    parser.add_argument("--runs", type=int, default=7, help="runs per framework")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    paths = builtin_framework_paths()
    present = {p.name for p in paths}
    for name in EXPECTED_BUILTINS:
        if name not in present:
            print(f"note: built-in {name} is missing from assessments/frameworks/")
    paths += [Path(f) for f in args.files]
    if not paths:
        print("no framework files to benchmark", file=sys.stderr)
        return 2

    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, 1 core used; {args.answers} answer sets x {args.runs} runs"
    )
    header = (
        f"{'framework':<16} {'questions':>9} {'median/s (CPU)':>15} {'min..max (CPU)':>17} "
        f"{'median/s (wall)':>16}"
    )
    print(header)
    print("-" * len(header))
    for path in paths:
        try:
            fw = load_framework_file(path)
        except FrameworkError as exc:
            print(f"{path}: invalid, skipped ({exc.problems[0]})", file=sys.stderr)
            continue
        sets = answer_sets(fw, args.answers, args.seed)
        cpu, wall = bench(fw, sets, args.runs)
        name = f"{fw.slug} {fw.version}"
        spread = f"{min(cpu):,.0f}..{max(cpu):,.0f}"
        print(
            f"{name:<16} {len(fw.questions):>9} {statistics.median(cpu):>15,.0f} {spread:>17} "
            f"{statistics.median(wall):>16,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
