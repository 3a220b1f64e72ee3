"""Structured logs: a request id on every line of a request and of the tasks it queues, JSON
lines with LOG_FORMAT=json, and no secrets (passwords, session ids, link tokens) in any line."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from gradient import logging as glog

ROOT = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).with_name("celery")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The production handler (the settings' JSON formatter and context filter) on the root
    logger, writing into a buffer; yields the buffer."""
    options = dict(settings.LOGGING["formatters"]["json"])
    options.pop("()")
    fmt = options.pop("format")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter(fmt, **options))
    handler.addFilter(glog.ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _records(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# --- The id -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_response_carries_a_new_request_id(client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
def test_a_sane_request_id_from_the_proxy_is_kept(client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="nginx-7f3a.b2:01")
    assert response["X-Request-ID"] == "nginx-7f3a.b2:01"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent",
    ["a" * 65, "abc def", 'abc"}{', "abc\nforged line", "", "请求"],
    ids=["too-long", "space", "json-breaking", "line-break", "empty", "non-ascii"],
)
def test_an_insane_request_id_is_replaced(client, sent: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_longest_accepted_id_is_64_characters() -> None:
    assert glog.clean_request_id("a" * 64) == "a" * 64
    assert glog.clean_request_id("a" * 65) != "a" * 65


# --- Every line of a request ------------------------------------------------------------------


@pytest.mark.django_db
def test_every_line_of_a_request_is_json_with_its_id(client, json_lines) -> None:
    # A 404 logs "Not Found" after the middlewares ran; a failed log-in logs through axes.
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    client.post(
        "/accounts/login/",
        {"username": "nobody", "password": "Wrong-Password-123"},
        HTTP_X_REQUEST_ID="req-login",
    )
    records = _records(json_lines)
    by_id = {record["request_id"] for record in records}
    assert {"req-404", "req-login"} <= by_id
    assert by_id <= {"req-404", "req-login"}, records  # no line without its request's id
    not_found = [r for r in records if r["logger"] == "django.request"]
    assert not_found and not_found[0]["request_id"] == "req-404"
    assert not_found[0]["level"] == "WARNING"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", not_found[0]["time"])


def test_outside_a_request_the_id_is_a_dash(json_lines) -> None:
    logging.getLogger("gradient.test").info("start-up line")
    assert _records(json_lines)[-1]["request_id"] == "-"


@pytest.mark.django_db
def test_no_password_or_session_id_reaches_the_log(client, json_lines) -> None:
    from tests.factories import UserFactory

    user = UserFactory(username="logger_user")
    user.set_password("Right-Password-456")
    user.save()
    client.post("/accounts/login/", {"username": "logger_user", "password": "Wrong-Pass-789"})
    response = client.post(
        "/accounts/login/", {"username": "logger_user", "password": "Right-Password-456"}
    )
    assert response.status_code == 302
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/no-such-page/")  # a signed-in request that logs
    logging.getLogger("gradient.test").info(
        "extra fields", extra={"password": "Extra-Secret-1", "session_key": session_id}
    )
    text = json_lines.getvalue()
    assert text  # the requests did log
    for secret in ("Wrong-Pass-789", "Right-Password-456", "Extra-Secret-1", session_id):
        assert secret not in text
    assert "WSGIRequest" not in text  # the request object (headers, cookies) is dropped
    assert _records(json_lines)[-1]["password"] == glog.REDACTED


@pytest.mark.django_db
def test_link_tokens_are_masked_in_log_lines(client, json_lines) -> None:
    client.get("/invite/Secret-Invitation-Token/")
    client.get("/accounts/reset/MQ/c2x-Secret-Reset-Token/")
    text = json_lines.getvalue()
    assert "Secret-Invitation-Token" not in text and "Secret-Reset-Token" not in text
    assert "/invite/[redacted]" in text


def test_redaction_keeps_ordinary_paths_and_queries() -> None:
    assert glog.redact_path("/clusters/alpha/import/") == "/clusters/alpha/import/"
    assert glog.redact_path("/accounts/reset/MQ/set-password/") == (
        "/accounts/reset/MQ/set-password/"
    )
    assert glog.redact_query("page=2&token=abc&q=x") == "page=2&token=[redacted]&q=x"


# --- The format switch ------------------------------------------------------------------------


def _log_one_line(log_format: str) -> str:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('gradient.check').warning('one line %s', 'here')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "gradient.settings", "LOG_FORMAT": log_format},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_log_format_json_writes_json_lines() -> None:
    record = json.loads(_log_one_line("json"))
    assert record["message"] == "one line here"
    assert record["level"] == "WARNING" and record["logger"] == "gradient.check"
    assert record["request_id"] == "-"


def test_log_format_plain_is_for_people() -> None:
    line = _log_one_line("plain")
    assert "WARNING gradient.check [-] one line here" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


# --- gunicorn's access line -------------------------------------------------------------------


def test_gunicorn_access_line_is_json_with_the_request_id(monkeypatch) -> None:
    from gunicorn.config import Config

    monkeypatch.setenv("LOG_FORMAT", "json")
    config = Config()
    config.set("accesslog", "-")
    logger = glog.GunicornLogger(config)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)  # type: ignore[attr-defined]
    response = SimpleNamespace(
        status="404 Not Found",
        headers=[("Content-Type", "text/html"), ("X-Request-ID", "abc-1")],
        sent=1467,
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/invite/Secret-Token/",
        "QUERY_STRING": "password=x&page=2",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_COOKIE": "sessionid=Secret-Session",
        "HTTP_REFERER": "https://x/invite/Other-Secret/",
        "HTTP_USER_AGENT": "test",
        "RAW_URI": "/invite/Secret-Token/?password=x&page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    line = buffer.getvalue().strip()
    record = json.loads(line)
    assert record["request_id"] == "abc-1" and record["status"] == 404
    assert record["path"] == "/invite/[redacted]/" and record["duration_ms"] == 12.0
    assert record["query"] == "password=[redacted]&page=2"
    for secret in ("Secret-Token", "Secret-Session", "Other-Secret"):
        assert secret not in line


# --- Celery: the id travels with the task -----------------------------------------------------


def test_a_task_published_in_a_request_carries_its_id_in_the_headers() -> None:
    token = glog.request_id_var.set("req-for-task")
    try:
        headers: dict[str, str] = {}
        glog._add_request_id_header(headers=headers)
    finally:
        glog.request_id_var.reset(token)
    assert headers == {"request_id": "req-for-task"}
    outside: dict[str, str] = {}
    glog._add_request_id_header(headers=outside)
    assert outside == {}  # no request, no header: the worker makes one per task


@pytest.mark.worker
def test_a_real_worker_logs_the_task_with_the_request_id(tmp_path: Path, redis_url: str) -> None:
    """A task queued inside a request id (a subprocess, as a web process would) runs in a real
    `celery worker` on Redis; the worker's JSON lines for that task carry the id."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GRADIENT_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [str(CELERY), "-A", "gradient", "worker", "-Q", "reports", "--concurrency", "1"]
            + ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            publish = (
                "import django; django.setup(); from gradient.logging import request_id_var; "
                "from reports.tasks import cleanup_reports; request_id_var.set('req-celery-42'); "
                "print(cleanup_reports.delay().id)"
            )
            sent = subprocess.run(
                [sys.executable, "-c", publish],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert sent.returncode == 0, sent.stderr[-2000:]
            task_id = sent.stdout.strip().splitlines()[-1]
            deadline = time.monotonic() + 90
            done: list[dict] = []
            while time.monotonic() < deadline and not done:
                assert worker.poll() is None, log_path.read_text()[-3000:]
                for line in log_path.read_text().splitlines():
                    if line.startswith("{") and "succeeded" in line and task_id in line:
                        done.append(json.loads(line))
                time.sleep(0.3)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
    assert done, log_path.read_text()[-3000:]
    assert done[0]["request_id"] == "req-celery-42"
    assert done[0]["task_id"] == task_id
    assert done[0]["task_name"] == "reports.tasks.cleanup_reports"
