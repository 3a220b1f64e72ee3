"""Benchmark the round page and its bulk actions at 10,000 firms (issue 10, part 3).

    .venv/bin/python bench/rounds.py [--firms 10000] [--repeat 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradient_bench .venv/bin/python bench/rounds.py

On a throw-away test database: one cluster of --firms firms (nine in ten with a contact e-mail),
a round on the MIIT framework. Times "invite every firm not yet invited" (the request's part:
the invitations and the queued e-mails; sending is the worker's), the round page (all firms, a
status filter, a search, the last page) with its query count, and "remind" (every firm e-mailed
within the day, so all are skipped: the request's cost). Medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from assessments import services
    from assessments.framework import builtin_framework_paths, load_framework_file
    from assessments.models import Round
    from assessments.versions import framework_version_load
    from clusters.demo import demo_uscc
    from clusters.models import Cluster, ClusterMembership, Firm, OfficialScope
    from clusters.services import region_create

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}, firms: {args.firms}")
        county = region_create(code="320583", name_zh="昆山市", level="county")
        cluster = Cluster.objects.create(slug="bench", name_zh="基准集群", region=county)
        firms = Firm.objects.bulk_create(
            [
                Firm(
                    uscc=demo_uscc(i, "320583", 99),
                    name=f"基准测试制造有限公司{i:05d}",
                    contact_email=f"office{i}@example.com" if i % 10 else "",
                )
                for i in range(args.firms)
            ],
            batch_size=2000,
        )
        today = timezone.localdate()
        ClusterMembership.objects.bulk_create(
            [ClusterMembership(cluster=cluster, firm=f, start_date=today) for f in firms],
            batch_size=2000,
        )
        path = next(p for p in builtin_framework_paths() if "miit" in p.name)
        version, _status = framework_version_load(load_framework_file(path), publish=True)
        now = timezone.now()
        round_ = Round.objects.create(
            cluster=cluster,
            framework_version=version,
            name="基准轮次",
            opens_at=now - dt.timedelta(days=1),
            closes_at=now + dt.timedelta(days=30),
        )
        official = get_user_model().objects.create_user("bench-official", password=None)
        OfficialScope.objects.create(user=official, cluster=cluster)

        # The request's part only: the worker sends the e-mails (dispatch is not timed).
        services.invitation_messages_dispatch = lambda ids: 0  # type: ignore[assignment]
        seconds, outcome = _timed(lambda: services.round_invite(round_, user=official))
        print(
            f"invite all not yet invited: {seconds:.2f} s "
            f"({outcome.invited} invitations, {outcome.queued} e-mails queued)"
        )
        seconds, outcome = _timed(lambda: services.round_invite(round_, user=official))
        print(f"invite all again (nothing to do): {seconds:.2f} s")

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(official)
        url = f"/rounds/{round_.pk}/"
        last = (args.firms + 49) // 50
        for label, query in (
            ("round page, all firms, page 1 of 50 rows", {}),
            ("round page, status filter", {"status": "invited"}),
            ("round page, search by name", {"q": "00042"}),
            (f"round page, page {last}", {"page": str(last)}),
            ("round page, 100 rows", {"size": "100"}),
        ):
            client.get(url, query)  # warm
            times, queries = [], 0
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as captured:
                    seconds, response = _timed(lambda q=query: client.get(url, q))
                assert response.status_code == 200, response.status_code
                times.append(seconds)
                queries = len(captured.captured_queries)
            print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, {queries} queries")
        seconds, outcome = _timed(lambda: services.round_remind(round_, user=official))
        print(
            f"remind (all e-mailed today, so skipped): {seconds:.2f} s, skipped {outcome.skipped}"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
