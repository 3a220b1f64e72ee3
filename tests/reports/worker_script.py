"""Run inside a subprocess by the real-worker test: seed its database, then request a report.

    python -m tests.reports.worker_script seed      # prints nothing; exits 0
    python -m tests.reports.worker_script request   # prints the job id

The environment (DATABASE_URL, CELERY_BROKER_URL, MEDIA_ROOT) comes from the test.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from clusters.models import Cluster  # noqa: E402
from reports import services  # noqa: E402
from tests.factories import (  # noqa: E402
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
)
from tests.reports.builders import answers_for, framework_version, make_round, submit_many  # noqa: E402

SLUG = "worker-cluster"


def seed() -> None:
    """A cluster of 12 submitted firms and its official."""
    rng = random.Random(3)
    version, fw = framework_version()
    cluster = ClusterFactory(slug=SLUG, name_en="Worker test cluster", region=RegionFactory())
    firms = [FirmFactory() for _ in range(12)]
    for firm in firms:
        MembershipFactory(cluster=cluster, firm=firm)
    round_ = make_round(
        cluster, version, name="Worker round", opens=dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    )
    submit_many(round_, fw, firms, [answers_for(fw, rng.random(), rng) for _ in firms])
    OfficialScopeFactory(user=UserFactory(username="worker_official"), cluster=cluster)


def request() -> None:
    """Request the cluster report through the service, as the web page does."""
    user = get_user_model().objects.get(username="worker_official")
    job, how = services.report_request(
        user, kind="cluster", language="en", cluster=Cluster.objects.get(slug=SLUG)
    )
    assert how == "queued", how
    print(job.pk)


if __name__ == "__main__":
    {"seed": seed, "request": request}[sys.argv[1]]()
