"""Report batches (issue 14): scope, cap, empty selection, reuse, failed members, the zip's
contents, duplicate zip deliveries and the broker being down. Renders run in-process here;
tests/faults/test_batch_worker.py runs a batch on real workers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from pypdf import PdfReader

from gradient import audit
from reports import batch, batch_tasks, rendering, services, tasks
from reports.models import ReportBatch, ReportJob
from reports.selectors import NO_SUCH_REGION, TargetNotFound
from tests.factories import OfficialScopeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    """The groups handed to Celery, as (batch id, job ids); nothing runs."""
    groups: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(batch, "_send_start", batch.batch_start)  # as a worker would
    monkeypatch.setattr(batch, "_send_group", lambda b, jobs: groups.append((b, list(jobs))))
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    monkeypatch.setattr(services, "_send_annex", lambda job_id: None)
    return groups


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run each group in-process, the way the workers do: per job its render task, then the
    batch's member task; the zip task when it is sent. Returns the zip tasks' answers."""
    zips: list[str] = []

    def send_zip(batch_id: int) -> None:
        zips.append(batch_tasks.write_batch_zip.apply(args=[batch_id]).get())

    def send_group(batch_id: int, job_ids: list[int]) -> None:
        if not job_ids:
            send_zip(batch_id)
        for job_id in job_ids:
            tasks.render_report.apply(args=[job_id]).get()
            batch_tasks.batch_member_done.apply(args=[batch_id, job_id]).get()

    def send_start(batch_id: int) -> None:
        assert batch_tasks.start_batch.apply(args=[batch_id]).get() == "started"

    monkeypatch.setattr(batch, "_send_start", send_start)
    monkeypatch.setattr(batch, "_send_group", send_group)
    monkeypatch.setattr(batch, "_send_zip", send_zip)
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    monkeypatch.setattr(services, "_send_annex", lambda job_id: None)
    return zips


def request(user: Any, world: dict[str, Any], **kw: Any) -> tuple[ReportBatch, str]:
    return batch.report_batch_request(
        user,
        region=kw.pop("region", world["province_a"]),
        language=kw.pop("language", "en"),
        **kw,
    )


def zip_of(found: ReportBatch) -> zipfile.ZipFile:
    found.refresh_from_db()
    with found.zip.open("rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


def test_a_batch_holds_one_cluster_report_per_cluster_round_of_the_region(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, how = request(regional_official, world)
    assert how == "queued" and found.total == 2
    jobs = {j.cluster.slug: j for j in found.jobs.select_related("cluster", "round")}
    # Alpha's latest round (T1, not T0), beta's only round; gamma lies in another province.
    assert {s: j.round.name for s, j in jobs.items()} == {"alpha": "Round T1", "beta": "Beta T0"}
    assert all(j.kind == "cluster" and j.language == "en" for j in jobs.values())
    assert sent == [(found.pk, sorted(j.pk for j in jobs.values()))]
    # Each member's XLSX annex is sent beside it, as for a single request.
    for job in found.jobs.all():
        assert job.annex_status == ReportJob.AnnexStatus.PENDING and job.annex_queued_at
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.RUNNING and found.queued_at is not None
    entry = LogEntry.objects.get(additional_data__event=audit.REPORT_REQUESTED)
    assert entry.actor == regional_official and entry.object_pk == str(found.pk)
    assert entry.additional_data["kind"] == "batch" and entry.additional_data["clusters"] == 2


def test_an_identical_batch_still_running_is_shared(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = request(regional_official, world)
        second, how = request(regional_official, world)
    assert how == "reused" and second.pk == first.pk and len(sent) == 1
    other, how = request(regional_official, world, shareable=True)
    assert how == "queued" and other.pk != first.pk


def test_a_sub_region_batch_covers_only_its_clusters(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world, region=world["county_a"])
    assert [j.cluster.slug for j in found.jobs.all()] == ["alpha"]


@pytest.mark.parametrize("who", ["cluster_official", "zhejiang_official", "outsider"])
def test_a_region_outside_the_scope_answers_like_one_that_does_not_exist(
    scored: Any, world: dict[str, Any], who: str, request: pytest.FixtureRequest, sent: list[Any]
) -> None:
    if who == "zhejiang_official":
        user = UserFactory(username="zhejiang_official")
        OfficialScopeFactory(user=user, region=world["province_b"])
    else:
        user = request.getfixturevalue(who)
    with pytest.raises(TargetNotFound) as refused:
        batch.report_batch_request(user, region=world["province_a"], language="en")
    assert refused.value.message == str(NO_SUCH_REGION)
    assert not ReportBatch.objects.exists() and not ReportJob.objects.exists()


def test_an_empty_selection_is_refused_with_a_clear_message(
    scored: Any, world: dict[str, Any], regional_official: Any, staff_user: Any, sent: list[Any]
) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as no_year:
        request(regional_official, world, year=2031)
    assert "opened in 2031" in no_year.value.messages[0]
    assert "no report to render" in no_year.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as no_rounds:
        request(staff_user, world, region=world["province_b"])  # gamma has no round at all
    assert "has an assessment round yet" in no_rounds.value.messages[0]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as chinese:
        request(regional_official, world, year=2031)
    assert "2031" in chinese.value.messages[0] and "集群" in chinese.value.messages[0]
    assert not ReportBatch.objects.exists() and not ReportJob.objects.exists()


def test_a_batch_above_the_cap_is_refused(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "MAX_CLUSTERS", 1)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        request(regional_official, world)
    assert "2 clusters" in refused.value.messages[0] and "at most 1" in refused.value.messages[0]
    assert not ReportJob.objects.exists()
    monkeypatch.setattr(batch, "MAX_CLUSTERS", 2)
    assert request(regional_official, world)[0].total == 2


def test_a_fresh_finished_report_is_reused_and_not_rendered_again(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    inline: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    single, _ = services.report_request(
        regional_official, kind="cluster", language="en", cluster=world["alpha"]
    )
    assert services.report_job_run(single.pk) == "done"
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    assert single.pk in set(found.jobs.values_list("pk", flat=True))
    single.refresh_from_db()
    assert single.attempts == 1  # served from its file, not claimed again
    assert inline == ["done"]


def test_the_zip_holds_one_pdf_per_cluster_with_readable_names(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    inline: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.DONE, found.error
    assert batch.batch_progress(found).finished == 2 and found.failures == []
    assert inline == ["done"]  # the last member sent the zip task, once
    archive = zip_of(found)
    alpha, beta = world["alpha"], world["beta"]
    expected = {f"{alpha.name_en} · Round T1.pdf", f"{beta.name_en} · Beta T0.pdf"}
    assert set(archive.namelist()) == expected
    for name in expected:
        data = archive.read(name)
        assert data.startswith(b"%PDF")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages[:1])
        cluster = alpha if "Round T1" in name else beta
        assert cluster.name_en in text
    assert found.expires_at is not None and found.finished_at is not None


def test_a_failed_cluster_report_does_not_sink_the_batch(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    inline: list[str],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    real = rendering.render_cluster

    def beta_breaks(round_: Any, **kwargs: Any) -> Any:
        if round_.cluster.slug == "beta":
            raise RuntimeError("the chart library choked")
        return real(round_, **kwargs)

    monkeypatch.setattr(rendering, "render_cluster", beta_breaks)
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.DONE
    progress = batch.batch_progress(found)
    assert (progress.done, progress.failed, progress.total) == (1, 1, 2)
    archive = zip_of(found)
    listing = archive.read("failed-reports.txt").decode()
    assert set(archive.namelist()) == {
        f"{world['alpha'].name_en} · Round T1.pdf",
        "failed-reports.txt",
    }
    assert f"{world['beta'].name_en} · Beta T0" in listing and "RuntimeError" in listing
    assert world["alpha"].name_en not in listing
    assert found.failures[0][0] == f"{world['beta'].name_en} · Beta T0"


def test_a_batch_where_every_report_failed_fails_without_a_zip(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    inline: list[str],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("broken")

    monkeypatch.setattr(rendering, "render_cluster", broken)
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.FAILED and not found.zip
    assert "No cluster report" in found.error and len(found.failures) == 2


def test_a_chinese_batch_names_its_files_in_chinese(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    inline: list[str],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    real = rendering.render_cluster

    def beta_breaks(round_: Any, **kwargs: Any) -> Any:
        if round_.cluster.slug == "beta":
            raise RuntimeError("broken")
        return real(round_, **kwargs)

    monkeypatch.setattr(rendering, "render_cluster", beta_breaks)
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world, language="zh-hans")
    names = set(zip_of(found).namelist())
    assert f"{world['alpha'].name_zh} · Round T1.pdf" in names
    assert "未能生成的报告.txt" in names
    listing = zip_of(found).read("未能生成的报告.txt").decode()
    assert listing.startswith("以下集群报告不在压缩包中") and world["beta"].name_zh in listing


def test_a_duplicate_delivery_of_the_zip_task_writes_no_second_zip(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    job_ids = sent[0][1]
    # Not all rendered yet: the zip task waits and claims nothing.
    assert batch_tasks.write_batch_zip.apply(args=[found.pk], task_id="zip-1").get() == "waiting"
    for job_id in job_ids:
        assert services.report_job_run(job_id, task_id=f"render-{job_id}") == "done"
    first = batch_tasks.write_batch_zip.apply(args=[found.pk], task_id="zip-1").get()
    again = batch_tasks.write_batch_zip.apply(args=[found.pk], task_id="zip-1").get()
    other = batch_tasks.write_batch_zip.apply(args=[found.pk], task_id="zip-2").get()
    assert (first, again, other) == ("done", "skipped", "skipped")
    media = Path(settings.MEDIA_ROOT)
    zips = sorted(p.name for p in media.rglob("*.zip"))
    assert zips == [Path(ReportBatch.objects.get(pk=found.pk).zip.name).name]


def test_a_live_zip_claim_is_not_taken_over_but_a_redelivery_of_it_is(
    scored: Any, world: dict[str, Any], regional_official: Any, sent: list[Any]
) -> None:
    found, _ = request(regional_official, world)
    assert batch.batch_zip_claim(found.pk, task_id="a")
    assert not batch.batch_zip_claim(found.pk, task_id="b")
    assert not batch.batch_zip_claim(found.pk, task_id="b", redelivered=True)
    assert batch.batch_zip_claim(found.pk, task_id="a", redelivered=True)


def test_the_broker_down_queues_the_batch_and_it_starts_when_the_broker_is_back(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def down(batch_id: int, job_ids: list[int]) -> None:
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(batch, "_send_start", lambda batch_id: down(batch_id, []))
    monkeypatch.setattr(services, "_send", lambda job_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        found, how = request(regional_official, world)  # no exception reaches the official
    found.refresh_from_db()
    assert how == "queued" and found.status == ReportBatch.Status.PENDING
    assert found.queued_at is None and "cannot be reached" in found.error
    assert found.jobs.count() == 0 and not ReportJob.objects.exists()
    assert batch.batches_tick() == {"sent": 0, "zips": 0, "removed": 0}  # still down
    with django_capture_on_commit_callbacks(execute=True):  # the same request again: saved
        again, how = request(regional_official, world)
    assert how == "reused" and again.pk == found.pk
    assert ReportBatch.objects.get(pk=found.pk).queued_at is None
    groups: list[Any] = []
    monkeypatch.setattr(batch, "_send_start", batch.batch_start)  # the broker is back
    monkeypatch.setattr(batch, "_send_group", lambda b, jobs: groups.append((b, jobs)))
    assert batch.batches_tick()["sent"] == 1
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.RUNNING and found.error == ""
    assert groups == [(found.pk, sorted(found.jobs.values_list("pk", flat=True)))]


def test_the_tick_finishes_a_batch_whose_chain_was_cut_and_removes_expired_zips(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    import datetime as dt

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    for job_id in sent[0][1]:
        services.report_job_run(job_id, task_id="t")  # rendered, but no member task ran
    zips: list[int] = []
    monkeypatch.setattr(batch, "_send_zip", zips.append)
    assert batch.batches_tick()["zips"] == 0  # too early: the member tasks may still come
    later = timezone.now() + batch.STALL_AFTER + dt.timedelta(seconds=5)
    assert batch.batches_tick(later)["zips"] == 1 and zips == [found.pk]
    assert batch.batch_zip_run(found.pk, task_id="z") == "done"
    path = Path(settings.MEDIA_ROOT) / ReportBatch.objects.get(pk=found.pk).zip.name
    assert path.exists()
    far = timezone.now() + dt.timedelta(hours=settings.REPORT_TTL_HOURS + 1)
    assert batch.batches_tick(far)["removed"] == 1
    assert not path.exists() and not ReportBatch.objects.filter(pk=found.pk).exists()


def test_a_member_whose_job_another_delivery_holds_waits_for_it(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    first, second = sorted(found.jobs.values_list("pk", flat=True))
    zips: list[int] = []
    monkeypatch.setattr(batch, "_send_zip", zips.append)
    ReportJob.objects.filter(pk=first).update(status=ReportJob.Status.RUNNING)
    assert batch.batch_member_done(found.pk, first) == "waiting"
    assert services.report_job_run(second) == "done"
    assert batch.batch_member_done(found.pk, second) == "counted"  # the first still runs
    ReportJob.objects.filter(pk=first).update(status=ReportJob.Status.DONE)
    assert batch.batch_member_done(found.pk, first) == "zip" and zips == [found.pk]


def test_a_duplicate_start_creates_no_second_set_of_jobs(
    scored: Any,
    world: dict[str, Any],
    regional_official: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        found, _ = request(regional_official, world)
    assert batch_tasks.start_batch.apply(args=[found.pk]).get() == "skipped"
    assert ReportJob.objects.count() == 2 and len(sent) == 1


def test_a_batch_whose_requester_lost_the_region_fails_when_it_starts(
    scored: Any, world: dict[str, Any], regional_official: Any, sent: list[Any]
) -> None:
    found, _ = request(regional_official, world, language="en")
    from clusters.models import OfficialScope

    OfficialScope.objects.filter(user=regional_official).delete()  # no longer over the region
    assert batch.batch_start(found.pk) == "failed"
    found.refresh_from_db()
    assert found.status == ReportBatch.Status.FAILED and "changed" in found.error
    assert sent == []
