"""Run in subprocesses by the fault tests, on the test's own database and broker.

python -m tests.faults.scripts seed                     # the worker test's cluster
python -m tests.faults.scripts request [shareable]      # prints the job id
python -m tests.faults.scripts send JOB_ID TASK_ID      # the render task, with that id
python -m tests.faults.scripts requeue                  # what beat runs every minute
"""

from __future__ import annotations

import sys

from tests.reports import worker_script  # sets Django up


def request(shareable: str = "") -> None:
    from django.contrib.auth import get_user_model

    from clusters.models import Cluster
    from reports import services

    user = get_user_model().objects.get(username="worker_official")
    job, how = services.report_request(
        user,
        kind="cluster",
        language="en",
        shareable=bool(shareable),
        cluster=Cluster.objects.get(slug=worker_script.SLUG),
    )
    assert how == "queued", how
    print(job.pk)


def send(job_id: str, task_id: str) -> None:
    from reports.tasks import render_report

    render_report.apply_async(args=[int(job_id)], task_id=task_id)


def draft(full: str = "") -> None:
    """A firm with two users (fault_firm and fault_colleague, password correct-horse-battery)
    and a draft in an open round of the questionnaire tests' framework, every question
    answered with `full`; prints the assessment id."""
    from tests.assessments.questionnaire_fixtures import DEMO_FILE, FULL_ANSWERS, make_round
    from tests.factories import (
        AssessmentFactory,
        ClusterFactory,
        FirmFactory,
        FirmMemberFactory,
        FrameworkVersionFactory,
        InvitationFactory,
        MembershipFactory,
        RegionFactory,
        UserFactory,
    )

    region = RegionFactory()
    cluster = ClusterFactory(slug="fault-cluster", region=region)
    firm = FirmFactory(region=region)
    MembershipFactory(cluster=cluster, firm=firm)
    FirmMemberFactory(user=UserFactory(username="fault_firm"), firm=firm)
    FirmMemberFactory(user=UserFactory(username="fault_colleague"), firm=firm)
    round_ = make_round(cluster, FrameworkVersionFactory(path=DEMO_FILE))
    InvitationFactory(round=round_, firm=firm, token=f"token-{firm.pk}-faults00")
    answers = dict(FULL_ANSWERS) if full else {}
    print(AssessmentFactory(round=round_, firm=firm, answers=answers).pk)


def requeue() -> None:
    from reports.tasks import requeue_reports

    print(requeue_reports())


if __name__ == "__main__":
    commands = {
        "seed": worker_script.seed,
        "request": request,
        "send": send,
        "requeue": requeue,
        "draft": draft,
    }
    commands[sys.argv[1]](*sys.argv[2:])
