"""The audit trail (issue 14, part 5): who did what, when and from where.

Each event writes one entry with its actor, the client's address and the object; bulk actions
write one summary entry; no entry holds a password, a hash, a token or a session key; the
autosave writes none; staff read the trail in the admin; a cluster's officials see who
downloaded its reports, and nobody else does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token

from assessments.models import Assessment, FrameworkVersion, Invitation
from assessments.services import assessment_submit
from assessments.versions import framework_version_load, framework_version_publish
from clusters.models import OfficialScope
from clusters.services import OPERATOR, register_import
from gradient import audit
from reports import downloads
from reports.models import ReportJob
from tests.assessments.questionnaire_fixtures import DEMO_FILE, FULL_ANSWERS, answer_all
from tests.factories import OfficialScopeFactory, UserFactory, make_uscc

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
GOOD = "correct-horse-battery"
ADDRESS = "203.0.113.7"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()  # log-in throttles count in the cache


def _client(user: Any = None, language: str = "en") -> Client:
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def _entries(event: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__event=event).order_by("pk"))


def _only(event: str) -> LogEntry:
    found = _entries(event)
    assert len(found) == 1, f"{event}: {len(found)} entries"
    return found[0]


def _is_about(entry: LogEntry, obj: Any) -> bool:
    return (
        entry.content_type == ContentType.objects.get_for_model(type(obj))
        and entry.object_id == obj.pk
    )


def _done_job(cluster: Any, round_: Any, user: Any, language: str = "en") -> ReportJob:
    now = timezone.now()
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.CLUSTER,
        cluster=cluster,
        round=round_,
        language=language,
        requested_by=user,
        fingerprint=f"test-{cluster.pk}-{round_.pk}-{language}",
        status=ReportJob.Status.DONE,
        progress=100,
        finished_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    job.pdf.save(f"job-{job.pk}.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    job.xlsx.save(f"job-{job.pk}.xlsx", ContentFile(b"PK test"), save=False)
    job.save(update_fields=["pdf", "xlsx"])
    return job


@pytest.fixture
def submitted(draft: Assessment, firm_user: Any) -> Assessment:
    answer_all(draft, FULL_ANSWERS, firm_user)
    return assessment_submit(draft, user=firm_user)


@pytest.fixture
def job(world: dict[str, Any], submitted: Assessment, cluster_official: Any) -> ReportJob:
    return _done_job(world["alpha"], submitted.round, cluster_official)


# --- Log-ins, log-outs, failures and lock-outs -----------------------------------------------


def test_log_in_is_recorded_with_the_user_and_the_address(firm_user: Any) -> None:
    response = _client().post(LOGIN, {"username": "firm_user", "password": GOOD})
    assert response.status_code == 302
    entry = _only(audit.LOGIN)
    assert entry.actor == firm_user and entry.remote_addr == ADDRESS
    assert _is_about(entry, firm_user) and entry.action == LogEntry.Action.ACCESS
    # last_login changes at every log-in: the log-in entry says it, not a second entry.
    assert not LogEntry.objects.filter(action=LogEntry.Action.UPDATE).exists()


def test_log_out_is_recorded(firm_user: Any) -> None:
    client = _client(firm_user)
    assert client.post("/accounts/logout/").status_code in (200, 302)
    entry = _only(audit.LOGOUT)
    assert entry.actor == firm_user and entry.remote_addr == ADDRESS
    assert _is_about(entry, firm_user)


def test_failed_log_in_names_the_account_and_never_the_password(firm_user: Any) -> None:
    typed = "Wrong-Pass-4711"
    _client().post(LOGIN, {"username": "firm_user", "password": typed})
    _client().post(LOGIN, {"username": "nobody-here", "password": typed})
    known, unknown = _entries(audit.LOGIN_FAILED)
    assert _is_about(known, firm_user) and known.remote_addr == ADDRESS
    assert known.actor is None  # nobody is signed in
    assert unknown.object_id is None and unknown.object_repr == "nobody-here"
    assert unknown.additional_data["username"] == "nobody-here"
    assert typed not in _all_entries_text()


def test_lock_out_is_recorded(firm_user: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    client = _client()
    for _ in range(3):
        client.post(LOGIN, {"username": "firm_user", "password": "wrong"})
    assert client.post(LOGIN, {"username": "firm_user", "password": GOOD}).status_code == 429
    entry = _entries(audit.LOCKED_OUT)[0]
    assert _is_about(entry, firm_user) and entry.remote_addr == ADDRESS
    assert len(_entries(audit.LOGIN_FAILED)) >= 3
    assert not _entries(audit.LOGIN)


def test_a_forged_forwarded_for_header_does_not_set_the_address(firm_user: Any) -> None:
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR="198.51.100.66")
    client.post(LOGIN, {"username": "firm_user", "password": GOOD})
    assert _only(audit.LOGIN).remote_addr == ADDRESS  # no trusted proxy: the header is ignored


def test_behind_a_trusted_proxy_the_proxys_entry_is_the_address(
    firm_user: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.66")
    client.post(LOGIN, {"username": "firm_user", "password": GOOD})
    assert _only(audit.LOGIN).remote_addr == "198.51.100.66"


# --- Submissions and verifications ----------------------------------------------------------


def test_submission_on_the_review_page_is_recorded(firm_user: Any, draft: Assessment) -> None:
    answer_all(draft, FULL_ANSWERS, firm_user)
    client = _client(firm_user)
    response = client.post(reverse("assessments:review", args=[draft.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    entry = _only(audit.SUBMITTED)
    assert entry.actor == firm_user and entry.remote_addr == ADDRESS
    assert _is_about(entry, draft) and entry.action == LogEntry.Action.UPDATE
    assert entry.changes == {"status": ["draft", "submitted"]}
    assert entry.additional_data["level"] == "L3"
    assert draft.firm.name in entry.object_repr


def test_submission_through_the_api_names_the_token_user(firm_user: Any, draft: Assessment) -> None:
    answer_all(draft, FULL_ANSWERS, firm_user)
    token = Token.objects.create(user=firm_user)
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        reverse("assessments:api-assessment-submit", args=[draft.pk]),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    entry = _only(audit.SUBMITTED)
    assert entry.actor == firm_user and entry.remote_addr == ADDRESS
    assert token.key not in _all_entries_text()


def test_a_completed_verification_is_tagged(world: dict[str, Any], submitted: Assessment) -> None:
    from programmes import services as programme_services
    from programmes.models import AssessorScope

    assessor = UserFactory(username="assessor")
    AssessorScope.objects.create(user=assessor, region=world["province_a"])
    with set_actor(assessor, remote_addr=ADDRESS):
        verification = programme_services.verification_start(submitted, user=assessor)
        programme_services.verification_confirm_rest(verification, user=assessor)
        programme_services.verification_complete(verification, user=assessor)
    entry = _only(audit.VERIFIED)
    assert _is_about(entry, verification) and entry.action == LogEntry.Action.UPDATE
    assert entry.actor == assessor and entry.remote_addr == ADDRESS
    assert entry.changes["status"] == ["in_progress", "completed"]
    with translation.override("en"):
        assert audit.event_label(entry) == "Verification completed"
    with translation.override("zh-hans"):
        assert audit.event_label(entry) == "核验完成"


# --- Reports: requests and downloads --------------------------------------------------------


def test_report_request_on_the_page_is_recorded(
    world: dict[str, Any], submitted: Assessment, cluster_official: Any
) -> None:
    client = _client(cluster_official)
    response = client.post(
        reverse("report-request"), {"kind": "cluster", "cluster": "alpha", "language": "en"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = _only(audit.REPORT_REQUESTED)
    job = ReportJob.objects.get()
    assert _is_about(entry, job) and entry.action == LogEntry.Action.CREATE
    assert entry.actor == cluster_official and entry.remote_addr == ADDRESS
    assert entry.additional_data["served"] == "queued"
    assert entry.additional_data["cluster"] == world["alpha"].pk
    # The same request again is served by the same job: recorded too, as a read.
    client.post(
        reverse("report-request"), {"kind": "cluster", "cluster": "alpha", "language": "en"}
    )
    again = _entries(audit.REPORT_REQUESTED)[1]
    assert again.additional_data["served"] == "reused" and again.action == LogEntry.Action.ACCESS


def test_download_on_the_page_is_recorded(job: ReportJob, cluster_official: Any) -> None:
    response = _client(cluster_official).get(reverse("report-download", args=[job.pk, "xlsx"]))
    assert response.status_code == 200
    entry = _only(audit.REPORT_DOWNLOADED)
    assert _is_about(entry, job) and entry.action == LogEntry.Action.ACCESS
    assert entry.actor == cluster_official and entry.remote_addr == ADDRESS
    assert entry.additional_data["format"] == "xlsx" and entry.additional_data["via"] == "page"


def test_download_through_the_api_is_recorded_with_the_token_user(
    job: ReportJob, cluster_official: Any
) -> None:
    token = Token.objects.create(user=cluster_official)
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(reverse("api-report-file", args=[job.pk, "pdf"]))
    assert response.status_code == 200
    entry = _only(audit.REPORT_DOWNLOADED)
    assert entry.actor == cluster_official and entry.remote_addr == ADDRESS
    assert entry.additional_data["via"] == "api" and entry.additional_data["format"] == "pdf"


def test_a_refused_or_unready_download_is_not_recorded(
    job: ReportJob, world: dict[str, Any], cluster_official: Any
) -> None:
    gamma_official = UserFactory(username="gamma_official")
    OfficialScopeFactory(user=gamma_official, cluster=world["gamma"])
    assert (
        _client(gamma_official).get(reverse("report-download", args=[job.pk, "pdf"])).status_code
        == 404
    )
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING)
    assert (
        _client(cluster_official).get(reverse("report-download", args=[job.pk, "pdf"])).status_code
        == 409
    )
    assert not _entries(audit.REPORT_DOWNLOADED)


# --- The cluster's downloads page -----------------------------------------------------------


def test_officials_of_the_cluster_see_who_downloaded_its_reports(
    job: ReportJob, world: dict[str, Any], cluster_official: Any, regional_official: Any
) -> None:
    cluster_official.first_name, cluster_official.last_name = "Mei", "Chen"
    cluster_official.save()
    _client(regional_official).get(reverse("report-download", args=[job.pk, "pdf"]))
    _client(cluster_official).get(reverse("report-download", args=[job.pk, "xlsx"]))
    # A report of another cluster is not listed.
    gamma_round = submitted_round_of(world["gamma"], job.round.framework_version)
    other = _done_job(world["gamma"], gamma_round, regional_official)
    staff = UserFactory(username="staff_user", is_staff=True, is_superuser=True)
    _client(staff).get(reverse("report-download", args=[other.pk, "pdf"]))
    body = _client(cluster_official).get(reverse("report-downloads", args=["alpha"]))
    assert body.status_code == 200
    text = body.content.decode()
    assert "Mei Chen" in text and "regional_official" in text and "staff_user" not in text
    assert text.index("Mei Chen") < text.index("regional_official")  # newest first
    assert "XLSX" in text and "PDF" in text and job.round.name in text
    zh = _client(cluster_official, "zh-hans").get(reverse("report-downloads", args=["alpha"]))
    assert "报告下载记录" in zh.content.decode()


def submitted_round_of(cluster: Any, version: FrameworkVersion) -> Any:
    from tests.assessments.questionnaire_fixtures import make_round

    return make_round(cluster, version, name="Gamma 2026")


def _same_page(body: str) -> str:
    """The page without its per-response CSRF tokens (64 letters and digits)."""
    return re.sub(r"[A-Za-z0-9]{64}", "<TOKEN>", body)


def test_the_downloads_page_outside_the_scope_is_the_unknown_twin(
    job: ReportJob, world: dict[str, Any], cluster_official: Any, firm_user: Any
) -> None:
    gamma_official = UserFactory(username="gamma_official")
    OfficialScopeFactory(user=gamma_official, cluster=world["gamma"])
    _client(cluster_official).get(reverse("report-download", args=[job.pk, "pdf"]))
    for user in (gamma_official, firm_user):
        client = _client(user)
        out = client.get(reverse("report-downloads", args=["alpha"]))
        missing = client.get(reverse("report-downloads", args=["no-such-cluster"]))
        assert out.status_code == missing.status_code == 404
        # The same page, but for the address it was asked at (the language switch's "next").
        assert _same_page(out.content.decode().replace("alpha", "no-such-cluster")) == _same_page(
            missing.content.decode()
        )
        assert "cluster_official" not in out.content.decode()


def test_the_downloads_page_is_paginated_and_says_when_there_is_none(
    job: ReportJob, cluster_official: Any
) -> None:
    client = _client(cluster_official)
    empty = client.get(reverse("report-downloads", args=["alpha"])).content.decode()
    assert "Nobody has downloaded a report of this cluster yet" in empty
    for _ in range(downloads.PAGE_SIZE + 2):
        client.get(reverse("report-download", args=[job.pk, "pdf"]))
    first = client.get(reverse("report-downloads", args=["alpha"])).content.decode()
    assert "Page 1 of 2" in first and first.count("<tr>") == downloads.PAGE_SIZE + 1  # + head
    second = client.get(reverse("report-downloads", args=["alpha"]) + "?page=2").content.decode()
    assert second.count("<tr>") == 2 + 1
    # The page's queries do not grow with the trail.
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("report-downloads", args=["alpha"]))
    for _ in range(10):
        client.get(reverse("report-download", args=[job.pk, "xlsx"]))
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("report-downloads", args=["alpha"]))
    assert len(before) == len(after)


# --- Register imports, invitations ----------------------------------------------------------


def _csv(*codes: str) -> bytes:
    rows = "".join(f"{code},公司{i},{10 + i},100\n" for i, code in enumerate(codes))
    return ("统一社会信用代码,企业名称,从业人员,营业收入(万元)\n" + rows).encode()


def test_an_import_on_the_page_is_one_summary_entry(
    world: dict[str, Any], cluster_official: Any
) -> None:
    client = _client(cluster_official)
    data = _csv(make_uscc(600_001), make_uscc(600_002), make_uscc(600_003))
    upload = SimpleUploadedFile("firms.csv", data, content_type="text/csv")
    assert (
        client.post(reverse("clusters:import", args=["alpha"]), {"file": upload}).status_code == 200
    )
    from clusters.models import RegisterUpload

    pending = RegisterUpload.objects.latest("pk")
    commit = client.post(reverse("clusters:import_commit", args=["alpha", pending.pk]))
    assert commit.status_code == 302
    entry = _only(audit.REGISTER_IMPORTED)
    assert _is_about(entry, world["alpha"]) and entry.action == LogEntry.Action.CREATE
    assert entry.actor == cluster_official and entry.remote_addr == ADDRESS
    details = entry.additional_data
    assert (details["rows"], details["created"], details["joined"]) == (3, 3, 3)


def test_a_command_line_import_has_no_actor_and_a_dry_run_no_entry(world: dict[str, Any]) -> None:
    data = _csv(make_uscc(600_011))
    register_import(
        cluster=world["alpha"], user=OPERATOR, data=data, filename="f.csv", dry_run=True
    )
    assert not _entries(audit.REGISTER_IMPORTED)
    register_import(cluster=world["alpha"], user=OPERATOR, data=data, filename="f.csv")
    entry = _only(audit.REGISTER_IMPORTED)
    assert entry.actor is None and entry.remote_addr is None
    assert entry.additional_data["by"] == "command line"


def test_inviting_and_reminding_are_summary_entries(
    world: dict[str, Any], open_round: Any, cluster_official: Any
) -> None:
    for index, firm in enumerate(world["firms"]["alpha"]):
        firm.contact_email = f"contact{index}@example.com"
        firm.save()
    client = _client(cluster_official)
    url = reverse("assessments:round", args=[open_round.pk])
    assert client.post(url, {"action": "invite_all"}).status_code == 302
    assert len(mail.outbox) == 3
    created = _only(audit.INVITATIONS_CREATED)
    assert _is_about(created, open_round) and created.action == LogEntry.Action.CREATE
    assert created.actor == cluster_official and created.remote_addr == ADDRESS
    assert (created.additional_data["invited"], created.additional_data["queued"]) == (3, 3)
    sent = _only(audit.INVITATIONS_SENT)
    assert sent.additional_data["sent"] == 3 and sent.additional_data["failed"] == 0
    assert sent.actor == cluster_official
    # Reminding within a day skips every firm; the click is recorded with its counts.
    assert client.post(url, {"action": "remind"}).status_code == 302
    reminded = _only(audit.INVITATIONS_REMINDED)
    assert reminded.additional_data["queued"] == 0 and reminded.additional_data["skipped"] == 3
    tokens = list(Invitation.objects.values_list("token", flat=True))
    text = _all_entries_text()
    assert tokens and not any(token in text for token in tokens)


# --- Users, scopes and framework versions ---------------------------------------------------


def test_a_scope_added_in_the_admin_is_recorded(world: dict[str, Any]) -> None:
    staff = UserFactory(username="staff_user", is_staff=True, is_superuser=True)
    official = UserFactory(username="new_official")
    client = _client(staff)
    response = client.post(
        reverse("admin:clusters_officialscope_add"),
        {"user": official.pk, "cluster": world["beta"].pk, "region": ""},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    scope = OfficialScope.objects.get(user=official)
    entry = LogEntry.objects.get_for_object(scope).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == staff and entry.remote_addr == ADDRESS
    pk = scope.pk
    scope.delete()
    assert LogEntry.objects.filter(object_id=pk, action=LogEntry.Action.DELETE).exists()


def test_a_password_change_is_recorded_masked(firm_user: Any) -> None:
    old_hash = firm_user.password
    firm_user.set_password("Brand-New-Secret-99")
    with set_actor(firm_user, remote_addr=ADDRESS):
        firm_user.save()
    entry = LogEntry.objects.get_for_object(firm_user).get(action=LogEntry.Action.UPDATE)
    assert entry.changes["password"] == ["********", "********"]
    text = _all_entries_text()
    for secret in ("Brand-New-Secret-99", old_hash, firm_user.password):
        assert secret not in text
    for part in (old_hash[-20:], firm_user.password[-20:]):  # not half a hash either
        assert part not in text


def test_publishing_a_framework_version_is_tagged(staff_user: Any) -> None:
    from assessments.framework import load_framework_file

    version, _ = framework_version_load(load_framework_file(DEMO_FILE), publish=False)
    assert version.status == FrameworkVersion.Status.DRAFT
    with set_actor(staff_user, remote_addr=ADDRESS):
        framework_version_publish(version)
    entry = _only(audit.FRAMEWORK_PUBLISHED)
    assert _is_about(entry, version) and entry.actor == staff_user
    assert entry.changes["status"] == ["draft", "published"]
    assert "definition" not in json.dumps(LogEntry.objects.get_for_object(version)[0].changes)


# --- No secrets, anywhere -------------------------------------------------------------------


def _all_entries_text() -> str:
    rows = LogEntry.objects.values_list(
        "changes", "changes_text", "object_repr", "object_pk", "additional_data", "serialized_data"
    )
    return json.dumps([list(row) for row in rows], default=str, ensure_ascii=False)


def test_no_entry_holds_a_password_token_or_session_key(
    firm_user: Any, draft: Assessment, cluster_official: Any, job: ReportJob
) -> None:
    client = _client()
    client.post(LOGIN, {"username": "firm_user", "password": GOOD})
    client.post(LOGIN, {"username": "cluster_official", "password": "not-" + GOOD})
    session_key = client.session.session_key
    official = _client(cluster_official)
    official.get(reverse("report-download", args=[job.pk, "pdf"]))
    token = Token.objects.create(user=cluster_official)
    Client(HTTP_AUTHORIZATION=f"Token {token.key}").get(
        reverse("api-report-file", args=[job.pk, "pdf"])
    )
    assert LogEntry.objects.count() >= 5
    text = _all_entries_text()
    secrets = [GOOD, "not-" + GOOD, token.key, session_key, official.session.session_key]
    secrets += [u.password for u in (firm_user, cluster_official)]
    assert not [s for s in secrets if s and s in text]


# --- Hot paths ------------------------------------------------------------------------------

# Measured before the audit trail (main at 1e49802, SQLite): autosave 11 queries, submission
# 16. The audit adds no query to the autosave and one INSERT to the submission (its firm is
# read in the same query as the locked draft; the content type is cached after its first use).
AUTOSAVE_QUERIES = 11
SUBMIT_QUERIES = 17


def test_the_autosave_writes_no_entry_and_the_submission_one(
    firm_user: Any, draft: Assessment
) -> None:
    ContentType.objects.get_for_model(Assessment)  # cached as in a running server
    answer_all(draft, {k: v for k, v in FULL_ANSWERS.items() if k != "B1"}, firm_user)
    client = _client(firm_user)
    client.get(reverse("assessments:questionnaire", args=[draft.pk]))
    with CaptureQueriesContext(connection) as autosave:
        response = client.post(
            reverse("assessments:answer", args=[draft.pk, "B1"]),
            {"value": "55", "base_revision": "0"},
            **HTMX,
        )
    assert response.status_code == 200 and "st-saved" in response.content.decode()
    client.get(reverse("assessments:review", args=[draft.pk]))
    with CaptureQueriesContext(connection) as submit:
        response = client.post(reverse("assessments:review", args=[draft.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    audit_writes = [q for q in autosave if "auditlog_logentry" in q["sql"]]
    assert audit_writes == [] and len(autosave) <= AUTOSAVE_QUERIES
    submit_writes = [q for q in submit if "auditlog_logentry" in q["sql"]]
    assert len(submit_writes) == 1 and submit_writes[0]["sql"].startswith("INSERT")
    assert len(submit) <= SUBMIT_QUERIES, [q["sql"][:120] for q in submit]
    print(f"\naudit figures: autosave {len(autosave)} queries, submission {len(submit)} queries")


# --- The admin ------------------------------------------------------------------------------


def test_staff_read_and_filter_the_trail_in_the_admin_in_both_languages(
    firm_user: Any, cluster_official: Any, job: ReportJob
) -> None:
    Client(REMOTE_ADDR=ADDRESS).post(LOGIN, {"username": "firm_user", "password": GOOD})
    _client(cluster_official).get(reverse("report-download", args=[job.pk, "pdf"]))
    staff = UserFactory(username="staff_user", is_staff=True, is_superuser=True)
    url = reverse("admin:auditlog_logentry_changelist")
    en = _client(staff).get(url, {"event": audit.REPORT_DOWNLOADED}).content.decode()
    assert "Report download" in en and ADDRESS in en and "cluster_official" in en
    assert "Log-in" in en  # the event filter offers every event
    assert "By actor" in en and 'name="actor"' in en
    by_actor = _client(staff).get(url, {"actor": "firm_user"}).content.decode()
    assert "firm_user" in by_actor and "Report download</td>" not in by_actor
    zh = _client(staff, "zh-hans").get(url).content.decode()
    for text in ("审计记录", "事件", "登录", "报告下载", "操作人"):
        assert text in zh, text
    entry = _only(audit.REPORT_DOWNLOADED)
    detail = _client(staff, "zh-hans").get(
        reverse("admin:auditlog_logentry_change", args=[entry.pk])
    )
    assert detail.status_code == 200 and ADDRESS in detail.content.decode()
    assert "<code>format</code>: pdf" in detail.content.decode()
