"""Structured logs: one request id per request, on every log line it causes, Celery tasks too.

- `RequestIdMiddleware` (gradient/middleware.py) takes the proxy's `X-Request-ID` when it is
  sane (`clean_request_id`), else makes one, and keeps it in a context variable for the
  request; the response carries it back in `X-Request-ID`.
- `ContextFilter` puts `request_id` (and inside a task `task_id`, `task_name`) on every log
  record, and drops or masks what must never reach a log: the request object (cookies, the
  session id), and any extra field whose name says secret, password, token, session or cookie.
- A task queued during a request carries the id in its message headers (`before_task_publish`)
  and the worker puts it back into the context while the task runs (`task_prerun`).
- `settings.LOGGING` picks the formatter: JSON (python-json-logger) with `LOG_FORMAT=json`,
  plain text otherwise. The worker keeps Django's logging config instead of Celery's own
  (`setup_logging`), so worker lines are JSON too.

This module shadows nothing: inside it, `import logging` is the standard library's.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import uuid
from typing import Any

from celery import signals
from django.core.signals import request_finished
from django.dispatch import receiver
from gunicorn import glogging

# The id a request or a task runs under; "-" outside both (start-up, management commands).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
task_var: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "task", default=None
)

# What a proxy may send: letters, digits and . _ : - only, at most 64 characters (a UUID is
# 36, nginx's $request_id 32). Anything else is replaced by an id of our own, so that a
# client cannot put a line break, a quote or a megabyte into every log line of its request.
REQUEST_ID_MAX_LENGTH = 64
_REQUEST_ID_RE = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}$")
HEADER_NAME = "request_id"  # the Celery message header

_SENSITIVE = re.compile(r"secret|passw|token|session|cookie|csrf|authorization", re.IGNORECASE)
REDACTED = "[redacted]"


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The proxy's id if it is sane, else a new one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


def current_request_id() -> str:
    return request_id_var.get()


class ContextFilter(logging.Filter):
    """Adds request_id/task_id/task_name to each record and keeps secrets out of it."""

    # Attributes of every LogRecord: never masked (their names are the standard library's).
    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message",
        "asctime",
    }

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        task = task_var.get()
        if task is not None:
            record.task_id, record.task_name = task
        # django.request and django.server attach the request (headers, cookies) and the
        # socket: the JSON formatter would print their reprs. The path is in the message.
        for name in ("request", "server_time"):
            record.__dict__.pop(name, None)
        # Paths with tokens, in the message's arguments ("Not Found: %s") or its text.
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif not record.args and isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.__dict__.get("args"), dict):
            record.args = {
                key: (REDACTED if _SENSITIVE.search(str(key)) else value)
                for key, value in record.args.items()  # type: ignore[union-attr]
            }
        for key in list(record.__dict__):
            if key not in self._STANDARD and _SENSITIVE.search(key):
                record.__dict__[key] = REDACTED
        return True


@receiver(request_finished)
def _request_done(**_: Any) -> None:
    """The request's id ends with its response (set by gradient.middleware.RequestIdMiddleware)."""
    request_id_var.set("-")


# --- Celery: carry the id from the request into the tasks it queues ---------------------------


@signals.before_task_publish.connect
def _add_request_id_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and HEADER_NAME not in headers:
        request_id = request_id_var.get()
        if request_id != "-":
            headers[HEADER_NAME] = request_id


_TASK_TOKENS: dict[str, tuple[contextvars.Token[str], contextvars.Token[Any]]] = {}


def _header_from(task: Any) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    # Celery copies unknown message headers onto the request; older paths keep them apart.
    value = getattr(request, HEADER_NAME, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(HEADER_NAME)
    return value if isinstance(value, str) else None


@signals.task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **_: Any) -> None:
    header = _header_from(task)
    # An eager task runs inside the request: it keeps the request's id.
    request_id = clean_request_id(header) if header else request_id_var.get()
    if request_id == "-":
        request_id = new_request_id()
    _TASK_TOKENS[task_id] = (
        request_id_var.set(request_id),
        task_var.set((task_id, getattr(task, "name", "?"))),
    )


@signals.task_postrun.connect
def _task_finished(task_id: str = "", **_: Any) -> None:
    tokens = _TASK_TOKENS.pop(task_id, None)
    if tokens is not None:
        request_token, task_token = tokens
        task_var.reset(task_token)
        request_id_var.reset(request_token)


@signals.setup_logging.connect
def _keep_django_logging(**_: Any) -> None:
    """Celery's worker would replace the root logger's handlers with its own plain ones; with
    a receiver here it leaves logging alone, and Django's LOGGING (applied by django.setup())
    stays: JSON lines with the task's request id."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


# --- Paths without secrets --------------------------------------------------------------------
# Paths that carry a secret: an invitation link's token and a password-reset link's token.
# Anywhere in a string: Django's "Not Found: /invite/…/" lines carry the path in their text.
_SECRET_PATHS = [
    re.compile(r"(?P<keep>/invite/)[^/?#\s\"']+"),
    re.compile(r"(?P<keep>/accounts/reset/[^/?#\s\"']+/)(?!set-password/)[^/?#\s\"']+"),
]


def redact_path(path: str) -> str:
    """The path as a log may show it: tokens of invitation and password-reset links masked."""
    for pattern in _SECRET_PATHS:
        path = pattern.sub(lambda m: m.group("keep") + REDACTED, path)
    return path


def redact_query(query: str) -> str:
    """The query string with the values of secret-looking keys masked."""
    if not query:
        return ""
    parts = []
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        parts.append(f"{key}{sep}{REDACTED}" if sep and _SENSITIVE.search(key) else item)
    return "&".join(parts)


# --- gunicorn's access log as JSON ------------------------------------------------------------
class GunicornLogger(glogging.Logger):
    """gunicorn's logger (gunicorn.conf.py `logger_class`): with LOG_FORMAT=json the error
    log and the access log are JSON lines, the access line with the request id the app
    answered in X-Request-ID, the method, the path (tokens masked), the status, the bytes,
    the duration in ms, the client address and the user agent. Never the cookies, the
    referrer (it may hold an invitation link) or any other header."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.json = (os.environ.get("LOG_FORMAT", "") or "plain") == "json"
        if self.json:
            from pythonjsonlogger.json import JsonFormatter

            formatter = JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.json:
            # Plain: gunicorn's own line, with the masked path in place of the raw one.
            environ = {**environ, "RAW_URI": redact_path(environ.get("RAW_URI", ""))}
            super().access(resp, req, environ, request_time)
            return
        if not (self.cfg.accesslog or self.cfg.logconfig_dict):
            return
        headers = {name.lower(): value for name, value in resp.headers}
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        self.access_log.info(
            "request",
            extra={
                "request_id": headers.get("x-request-id", "-"),
                "method": environ.get("REQUEST_METHOD"),
                "path": redact_path(environ.get("PATH_INFO", "")),
                "query": redact_query(environ.get("QUERY_STRING", "")),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            },
        )
