"""Load benchmark of the firm journey on gunicorn + PostgreSQL, with /healthz as the yardstick.

    .venv/bin/python bench/load.py                        # 600 firms, 8 clients, 3 runs
    .venv/bin/python bench/load.py --clients 8 --seconds 15 --runs 5 --workers 4

A firm session is what a browser does to finish a questionnaire: the review page (GET), one
autosave of the last missing answer (the htmx POST of the question, with the CSRF token and
its base revision), and the submission (the review POST with the confirmation box). Each
client runs sessions back to back, one firm each, until the time or the firms run out.

Per run, on one gunicorn server (sync workers) on 127.0.0.1 against PostgreSQL:
1. `/healthz` hammered by the same number of clients for the same time: requests per second;
2. firm sessions: sessions per second, and p50/p95 of each step;
3. the check: every firm whose session completed has exactly one submitted assessment, its
   autosaved answer stored once with the value sent, and the firms not reached are untouched
   drafts. Nothing missing, nothing doubled, or the run fails.

The figure that counts is the ratio sessions/s ÷ healthz requests/s of the same run (the
machine is shared and noisy: absolute rates move, the ratio much less). Medians over the runs.
The database (BENCH_DATABASE_URL, default gradient_bench_load on 127.0.0.1) is dropped and
re-created each time; the cache (BENCH_CACHE_URL, default Redis database 13 on 127.0.0.1, as
production's CACHE_URL: it holds the sessions too) is emptied. Logins happen before the clock
starts: sessions are made directly in the configured session store, as a login would, so
that password hashing is not what is measured. gunicorn reads gunicorn.conf.py (as in
production); its log goes to var/bench-load/gunicorn.log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/gradient_bench_load"
# Several web processes share one cache in production (settings CACHE_URL): Redis, which also
# holds the sessions (cached_db). Emptied at the start of each run.
DEFAULT_CACHE = "redis://127.0.0.1:6379/13"
SECRET = "bench-load-secret-key-not-for-production-0123456789abcdef"


def _env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        CACHE_URL=os.environ.get("BENCH_CACHE_URL") or DEFAULT_CACHE,
        DJANGO_SETTINGS_MODULE="gradient.settings",
        DEBUG="false",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        GRADIENT_VAR_DIR=str(ROOT / "var" / "bench-load"),
    )
    return env


def _recreate_database(db_url: str) -> None:
    import psycopg

    name = db_url.rsplit("/", 1)[1]
    admin = db_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _flush_cache(cache_url: str) -> None:
    """Empty the bench's Redis database (its number is in the URL; nothing else uses it)."""
    import redis

    redis.Redis.from_url(cache_url).flushdb()


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


SEED = r"""
import datetime as dt, json, random, sys
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from importlib import import_module
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # as a log-in stores it
from django.db import transaction
from django.utils import timezone
from assessments.demo import answers_for
from assessments.framework import builtin_framework_paths
from assessments.models import Answer, Assessment, FrameworkVersion, Round
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, Region
from tests.factories import make_uscc
from assessments.versions import framework_for

firms_n = int(sys.argv[1])
version = FrameworkVersion.objects.get(framework__slug="miit-sme", status="published")
fw = framework_for(version)
rng = random.Random(7)
region = Region.objects.create(code="load", name_zh="压测市", name_en="Load City", level="city")
region.path = f"/{region.pk}/"; region.save(update_fields=["path"])
cluster = Cluster.objects.create(slug="load", name_zh="压测集群", region=region)
now = timezone.now()
round_ = Round.objects.create(cluster=cluster, framework_version=version, name="T1",
                              opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30))
# The autosaved question: a required single choice that always applies.
target = next(q for q in fw.questions if q.type == "single" and q.required and not q.show_if)
User = get_user_model()
out = []
with transaction.atomic():
    firms = Firm.objects.bulk_create([Firm(uscc=make_uscc(500_000 + i), name=f"压测企业{i:05d}", region=region)
                                      for i in range(firms_n)])
    ClusterMembership.objects.bulk_create([ClusterMembership(cluster=cluster, firm=f, start_date=dt.date(2025, 1, 1)) for f in firms])
    users = User.objects.bulk_create([User(username=f"load{i:05d}", password="!") for i in range(firms_n)])
    FirmMember.objects.bulk_create([FirmMember(user=u, firm=f, role="owner") for u, f in zip(users, firms)])
    drafts = Assessment.objects.bulk_create([Assessment(round=round_, firm=f, framework_version=version) for f in firms])
    rows = []
    for d in drafts:
        answers = answers_for(fw, rng.random(), rng)
        answers.pop(target.code, None)
        rows += [Answer(assessment=d, question_code=c, value=v) for c, v in answers.items()]
    Answer.objects.bulk_create(rows, batch_size=5000)
for user, draft in zip(users, drafts):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    out.append({"session": s.session_key, "assessment": draft.pk})
print(json.dumps({"question": target.code, "option": target.options[0].code,
                  "options": [o.code for o in target.options], "firms": out}))
"""

CHECK = r"""
import json, sys
import django
django.setup()
from assessments.models import Answer, Assessment
expect = json.load(sys.stdin)
done = {int(k): v for k, v in expect["done"].items()}
question = expect["question"]
problems = []
ids = [f["assessment"] for f in expect["firms"]]
rows = {a.pk: a for a in Assessment.objects.filter(pk__in=ids)}
answers = {}
for aid, value in Answer.objects.filter(assessment_id__in=ids, question_code=question).values_list("assessment_id", "value"):
    answers.setdefault(aid, []).append(value)
for aid in ids:
    a = rows.get(aid)
    if a is None:
        problems.append(f"assessment {aid} missing"); continue
    if aid in done:
        if a.status != "submitted": problems.append(f"{aid}: sent and not submitted ({a.status})")
        if answers.get(aid) != [done[aid]]: problems.append(f"{aid}: answer {answers.get(aid)} != [{done[aid]!r}]")
        if a.result is None or a.level_rank is None: problems.append(f"{aid}: no stored result")
    elif a.status != "draft" or aid in answers:
        problems.append(f"{aid}: not sent, yet {a.status} with {answers.get(aid)}")
submitted = Assessment.objects.filter(pk__in=ids, status="submitted").count()
print(json.dumps({"problems": problems[:20], "problem_count": len(problems), "submitted": submitted}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log_path = Path(env["GRADIENT_VAR_DIR"]) / "gunicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "gradient.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        # gunicorn.conf.py (read from ROOT, as in production) writes an access line per
        # request: kept, as production pays for it, but in a file instead of the terminal.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start within 30 s (see {log_path})")


@dataclass
class Timings:
    steps: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, step: str, seconds: float) -> None:
        self.steps.setdefault(step, []).append(seconds)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _healthz(base: str, clients: int, seconds: float) -> tuple[float, int]:
    import aiohttp

    count = 0
    failures = 0
    stop = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal count, failures
        while time.perf_counter() < stop:
            async with session.get(f"{base}/healthz", headers=PROXY) as response:
                await response.read()
                if response.status == 200:
                    count += 1
                else:
                    failures += 1

    timeout = aiohttp.ClientTimeout(total=30)
    start = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return count / (time.perf_counter() - start), failures


PROXY = {"X-Forwarded-Proto": "https"}
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def _sessions(
    base: str, plan: dict[str, Any], clients: int, seconds: float
) -> tuple[float, dict[int, str], Timings]:
    import aiohttp

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for firm in plan["firms"]:
        queue.put_nowait(firm)
    question = plan["question"]
    rng = random.Random(11)
    done: dict[int, str] = {}
    timings = Timings()
    stop = time.perf_counter() + seconds

    async def one(firm: dict[str, Any]) -> None:
        # Behind the TLS proxy of production: the proxy's header, and the (Secure) cookies
        # sent by hand, since a client jar keeps Secure cookies off plain http.
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            pk = firm["assessment"]
            review = f"{base}/assessments/{pk}/review/"
            referer = review.replace("http://", "https://", 1)
            cookies = {"sessionid": firm["session"]}
            common = {"Accept-Language": "zh-hans", "X-Forwarded-Proto": "https"}

            def cookie_header() -> str:
                return "; ".join(f"{k}={v}" for k, v in cookies.items())

            t0 = time.perf_counter()
            async with session.get(review, headers={**common, "Cookie": cookie_header()}) as r:
                body = await r.text()
                if r.status != 200:
                    raise RuntimeError(f"review page {r.status}")
                if "csrftoken" in r.cookies:
                    cookies["csrftoken"] = r.cookies["csrftoken"].value
            timings.add("review page", time.perf_counter() - t0)
            token = _CSRF.search(body)
            if token is None:
                raise RuntimeError("no CSRF token on the review page")
            csrf = token.group(1)
            value = rng.choice(plan["options"])
            headers = {
                **common,
                "X-CSRFToken": csrf,
                "HX-Request": "true",
                "Referer": referer,
                "Cookie": cookie_header(),
            }
            t0 = time.perf_counter()
            async with session.post(
                f"{base}/assessments/{pk}/answers/{question}/",
                data={"value": value, "base_revision": "0"},
                headers=headers,
            ) as r:
                text = await r.text()
                if r.status != 200 or "saved" not in text:
                    raise RuntimeError(f"autosave {r.status}")
            timings.add("autosave", time.perf_counter() - t0)
            t0 = time.perf_counter()
            async with session.post(
                review,
                data={"csrfmiddlewaretoken": csrf, "confirm": "yes"},
                headers={**common, "Referer": referer, "Cookie": cookie_header()},
                allow_redirects=False,
            ) as r:
                await r.read()
                if r.status != 302 or "/result/" not in r.headers.get("Location", ""):
                    raise RuntimeError(f"submission {r.status}")
            timings.add("submit", time.perf_counter() - t0)
            done[pk] = value

    async def client() -> None:
        while time.perf_counter() < stop and not queue.empty():
            firm = queue.get_nowait()
            t0 = time.perf_counter()
            try:
                await one(firm)
            except Exception as exc:  # a failed session is counted and reported
                timings.errors.append(f"{firm['assessment']}: {exc}")
                continue
            timings.add("session", time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return len(done) / elapsed, done, timings


def run_once(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    import json

    env = _env(db_url)
    _recreate_database(db_url)
    _flush_cache(env["CACHE_URL"])
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "load_frameworks", "-v", "0")
    # DEBUG off serves hashed static names from the manifest (settings STATIC_MANIFEST): the
    # pages fail without one. collectstatic is incremental: a few seconds after the first run.
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(args.firms)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if seeded.returncode:
        raise SystemExit(f"seeding failed:\n{seeded.stderr[-3000:]}")
    plan = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    server = _start_gunicorn(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(_healthz(base, args.clients, 2))  # warm-up: workers import everything
        healthz_rps, healthz_failures = asyncio.run(_healthz(base, args.clients, args.seconds))
        rate, done, timings = asyncio.run(_sessions(base, plan, args.clients, args.seconds))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    check = subprocess.run(
        [sys.executable, "-c", CHECK],
        env=env,
        cwd=ROOT,
        input=json.dumps({"question": plan["question"], "firms": plan["firms"], "done": done}),
        check=True,
        capture_output=True,
        text=True,
    )
    verdict = json.loads(check.stdout.strip().splitlines()[-1])
    if verdict["problem_count"] or verdict["submitted"] != len(done):
        raise SystemExit(f"stored rows do not match what was sent: {verdict}")
    return {
        "healthz_rps": healthz_rps,
        "healthz_failures": healthz_failures,
        "sessions_per_s": rate,
        "sessions": len(done),
        "errors": timings.errors,
        "ratio": rate / healthz_rps,
        "p50": {k: _pct(v, 0.5) for k, v in timings.steps.items()},
        "p95": {k: _pct(v, 0.95) for k, v in timings.steps.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=600, help="drafts seeded per run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=15, help="length of each phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 120 or args.runs > 10:
        raise SystemExit("bounded: 1-64 clients, 1-120 s a phase, at most 10 runs")
    db_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB
    results = []
    for i in range(args.runs):
        result = run_once(args, db_url)
        results.append(result)
        print(
            f"run {i + 1}: healthz {result['healthz_rps']:.0f}/s, sessions "
            f"{result['sessions_per_s']:.1f}/s ({result['sessions']} done, "
            f"{len(result['errors'])} failed), ratio {result['ratio']:.3f}, submit p95 "
            f"{result['p95'].get('submit', float('nan')) * 1000:.0f} ms",
            flush=True,
        )
        for error in result["errors"][:5]:
            print("   failed:", error)
    med = statistics.median
    print()
    print(
        "| clients | workers | healthz req/s | sessions/s | ratio | review p95 | autosave "
        "p95 | submit p50 | submit p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.clients} | {args.workers} | {med(r['healthz_rps'] for r in results):.0f} | "
        f"{med(r['sessions_per_s'] for r in results):.1f} | "
        f"{med(r['ratio'] for r in results):.3f} | "
        f"{med(r['p95']['review page'] for r in results) * 1000:.0f} ms | "
        f"{med(r['p95']['autosave'] for r in results) * 1000:.0f} ms | "
        f"{med(r['p50']['submit'] for r in results) * 1000:.0f} ms | "
        f"{med(r['p95']['submit'] for r in results) * 1000:.0f} ms |"
    )
    print(f"(medians of {args.runs} runs of {args.seconds:.0f} s a phase)")


if __name__ == "__main__":
    main()
