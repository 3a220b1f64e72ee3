"""A report batch on real workers: a region's three clusters fan out as a Celery group over a
worker with two pool processes (on a Redis broker of the test's own, and PostgreSQL in the
PostgreSQL pass), each cluster report renders once, and the last one's member task has the
zip written, once, even when the zip task is delivered again.

The subprocesses run this module: `python -m tests.faults.test_batch_worker seed|request|zip`.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

from tests.faults.live import renders, stack, start_redis, wait_for

CLUSTERS = 3
BATCH = "SELECT status, zip, error, total FROM reports_reportbatch WHERE id = ?"


@pytest.mark.worker
def test_a_batch_renders_every_cluster_on_live_workers_and_zips_them_once(
    tmp_path: Path,
) -> None:
    with stack(tmp_path, "report_batch") as s:
        start_redis(s)
        s.run("-m", "tests.faults.test_batch_worker", "seed")
        s.start_worker("worker", concurrency=2)
        batch_id = int(s.run("-m", "tests.faults.test_batch_worker", "request").strip())
        row = wait_for(
            lambda: (r := s.query(BATCH, batch_id)[0])[0] in {"done", "failed"} and r,
            timeout=240,
            what="the batch to finish\n" + s.log("worker"),
        )
        status, name, error, total = row
        assert (status, error, total) == ("done", "", CLUSTERS), s.log("worker")
        started, ended = renders(s)
        assert len(started) == len(ended) == CLUSTERS  # each cluster rendered once
        jobs = s.query(
            "SELECT j.status, j.attempts FROM reports_reportjob j JOIN "
            "reports_reportbatch_jobs l ON l.reportjob_id = j.id WHERE l.reportbatch_id = ?",
            batch_id,
        )
        assert sorted(jobs) == [("done", 1)] * CLUSTERS
        with zipfile.ZipFile(io.BytesIO((s.media / name).read_bytes())) as archive:
            names = sorted(archive.namelist())
            assert names == [f"Batch cluster {i} · Batch round.pdf" for i in range(CLUSTERS)]
            assert all(archive.read(n).startswith(b"%PDF") for n in names)
        # The zip task delivered again after the batch is done: skipped, no second zip.
        s.run("-m", "tests.faults.test_batch_worker", "zip", str(batch_id))
        wait_for(
            lambda: "'skipped'" in s.log("worker"),
            timeout=60,
            what="the duplicate zip task\n" + s.log("worker"),
        )
        assert [f for f in s.files() if f.endswith(".zip")] == [name]
        assert s.query(BATCH, batch_id)[0] == row


# --- Run in the subprocesses ----------------------------------------------------------------


def _seed() -> None:
    """Three clusters of 8 submitted firms in one city, and the city's official."""
    import datetime as dt
    import random

    from tests.factories import (
        ClusterFactory,
        FirmFactory,
        MembershipFactory,
        OfficialScopeFactory,
        RegionFactory,
        UserFactory,
    )
    from tests.reports.builders import answers_for, framework_version, make_round, submit_many

    rng = random.Random(5)
    version, fw = framework_version()
    city = RegionFactory(name_en="Batch city", level="city")
    opens = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    for i in range(CLUSTERS):
        cluster = ClusterFactory(slug=f"batch-{i}", name_en=f"Batch cluster {i}", region=city)
        firms = [FirmFactory(region=city) for _ in range(8)]
        for firm in firms:
            MembershipFactory(cluster=cluster, firm=firm)
        round_ = make_round(cluster, version, name="Batch round", opens=opens)
        submit_many(round_, fw, firms, [answers_for(fw, rng.random(), rng) for _ in firms])
    OfficialScopeFactory(user=UserFactory(username="batch_official"), region=city)


def _request() -> None:
    """Request the city's batch through the service, as the page does; prints its id."""
    from django.contrib.auth import get_user_model

    from clusters.models import Region
    from reports.batch import report_batch_request

    user = get_user_model().objects.get(username="batch_official")
    found, how = report_batch_request(
        user, region=Region.objects.get(name_en="Batch city"), language="en"
    )
    assert how == "queued", how
    print(found.pk)


def _zip(batch_id: str) -> None:
    from reports.batch_tasks import write_batch_zip

    write_batch_zip.delay(int(batch_id))


if __name__ == "__main__":
    from tests.reports import worker_script  # noqa: F401  (sets Django up)

    {"seed": _seed, "request": _request, "zip": _zip}[sys.argv[1]](*sys.argv[2:])
