"""Report batch pages: the request panel on the reports page, the batch page and its polled
progress, the zip download; a batch outside the user's regions is a 404 like a missing one."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from gradient import audit
from reports import batch, services
from reports.models import ReportBatch, ReportJob
from tests.factories import OfficialScopeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    groups: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(batch, "_send_start", batch.batch_start)  # as a worker would
    monkeypatch.setattr(batch, "_send_group", lambda b, jobs: groups.append((b, list(jobs))))
    monkeypatch.setattr(batch, "_send_zip", lambda b: None)
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    return groups


def login(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def post_batch(client: Client, region: Any, **extra: str) -> Any:
    return client.post(
        reverse("report-batch-request"), {"region": region.pk, "language": "en", **extra}
    )


@pytest.fixture
def requested(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> ReportBatch:
    client = login(regional_official)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(client, world["province_a"])
    found = ReportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("report-batch", args=[found.pk])
    return found


def test_the_reports_page_offers_the_batch_to_a_regional_official_only(
    scored: Any, world: dict[str, Any], regional_official: Any, cluster_official: Any
) -> None:
    page = login(regional_official).get(reverse("report-index")).content.decode()
    assert "Render every cluster report" in page
    assert reverse("report-batch-request") in page and world["province_a"].name_en in page
    chinese = login(regional_official, "zh-hans").get(reverse("report-index")).content.decode()
    assert "生成全部集群报告" in chinese
    other = login(cluster_official).get(reverse("report-index")).content.decode()
    assert reverse("report-batch-request") not in other


def test_the_batch_page_polls_its_progress_and_lists_each_cluster(
    requested: ReportBatch, world: dict[str, Any], regional_official: Any, sent: list[Any]
) -> None:
    client = login(regional_official)
    page = client.get(reverse("report-batch", args=[requested.pk])).content.decode()
    assert "0 of 2 cluster reports finished" in page
    assert f'hx-get="{reverse("report-batch-progress", args=[requested.pk])}"' in page
    assert world["alpha"].name_en in page and world["beta"].name_en in page
    assert "<style" not in page and "style=" not in page  # the CSP allows no inline style
    job = requested.jobs.order_by("pk").first()
    assert job is not None
    assert services.report_job_run(job.pk) == "done"
    fragment = client.get(reverse("report-batch-progress", args=[requested.pk])).content.decode()
    assert "1 of 2 cluster reports finished" in fragment and 'aria-valuenow="50"' in fragment
    assert "hx-trigger" in fragment
    assert client.get(reverse("report-batch-download", args=[requested.pk])).status_code == 409
    for other in requested.jobs.exclude(pk=job.pk):
        services.report_job_run(other.pk)
    assert batch.batch_zip_run(requested.pk, task_id="z") == "done"
    fragment = client.get(reverse("report-batch-progress", args=[requested.pk])).content.decode()
    assert "hx-trigger" not in fragment  # polling stops when the zip is ready
    assert reverse("report-batch-download", args=[requested.pk]) in fragment
    chinese = login(regional_official, "zh-hans")
    body = chinese.get(reverse("report-batch", args=[requested.pk])).content.decode()
    assert "下载压缩包" in body and "已处理 2 / 2 份集群报告" in body


def test_the_zip_download_is_audited_and_holds_every_pdf(
    requested: ReportBatch, regional_official: Any
) -> None:
    for job in requested.jobs.all():
        services.report_job_run(job.pk)
    batch.batch_zip_run(requested.pk, task_id="z")
    answer = login(regional_official).get(reverse("report-batch-download", args=[requested.pk]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 2
    entry = LogEntry.objects.get(additional_data__event=audit.REPORT_DOWNLOADED)
    assert entry.actor == regional_official and entry.object_pk == str(requested.pk)
    assert entry.additional_data["format"] == "zip"


@pytest.mark.parametrize("who", ["cluster_official", "zhejiang_official", "outsider"])
def test_a_batch_outside_the_users_regions_is_a_404(
    requested: ReportBatch, world: dict[str, Any], who: str, request: pytest.FixtureRequest
) -> None:
    if who == "zhejiang_official":
        user = UserFactory(username="zhejiang_official")
        OfficialScopeFactory(user=user, region=world["province_b"])
    else:
        user = request.getfixturevalue(who)
    client = login(user)
    missing = requested.pk + 1000
    for name in ("report-batch", "report-batch-progress", "report-batch-download"):
        assert client.get(reverse(name, args=[requested.pk])).status_code == 404
        assert client.get(reverse(name, args=[missing])).status_code == 404


def test_a_county_official_cannot_see_the_provincial_batch(
    requested: ReportBatch, world: dict[str, Any]
) -> None:
    county = UserFactory(username="county_official")
    OfficialScopeFactory(user=county, region=world["county_a"])
    assert login(county).get(reverse("report-batch", args=[requested.pk])).status_code == 404


def test_a_request_for_a_region_outside_the_scope_is_refused_like_a_missing_one(
    scored: Any, world: dict[str, Any], cluster_official: Any, sent: list[Any]
) -> None:
    zhejiang = UserFactory(username="zhejiang_official")
    OfficialScopeFactory(user=zhejiang, region=world["province_b"])
    missing = type(world["province_a"])(pk=world["province_a"].pk + 1000)
    for user, says in ((zhejiang, "No such region."), (cluster_official, "Your account has none.")):
        client = login(user)
        outside, absent = post_batch(client, world["province_a"]), post_batch(client, missing)
        assert outside.status_code == absent.status_code == 400
        assert says in outside.content.decode() and says in absent.content.decode()
    assert not ReportBatch.objects.exists() and not ReportJob.objects.exists()


def test_an_empty_selection_answers_400_with_its_reason(
    scored: Any, world: dict[str, Any], regional_official: Any, sent: list[Any]
) -> None:
    response = post_batch(login(regional_official), world["province_a"], year="2031")
    body = response.content.decode()
    assert response.status_code == 400 and "opened in 2031" in body
    assert "Render every cluster report" in body  # the form again, to change the choice
    assert not ReportBatch.objects.exists()


def test_the_broker_down_page_says_the_batch_waits(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def down(batch_id: int, job_ids: list[int]) -> None:
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(batch, "_send_start", lambda batch_id: down(batch_id, []))
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    client = login(regional_official)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(client, world["province_a"])
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "The task queue cannot be reached right now." in page and "hx-trigger" in page
