"""gunicorn's configuration for Gradient's web processes (docs/deploy.md).

    gunicorn -c gunicorn.conf.py gradient.wsgi     # `make serve` runs this on PostgreSQL

Every value can be changed from the environment (GUNICORN_*); gunicorn's own command-line
flags still win over this file. Behind the TLS proxy, the app sees the client through
X-Forwarded-For (TRUSTED_PROXY_COUNT in settings) and HTTPS through X-Forwarded-Proto.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, got {value}")
    return value


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


wsgi_app = "gradient.wsgi:application"

# Only the proxy on the same machine reaches the app by default; set GUNICORN_BIND to
# 0.0.0.0:8000 (or the private address) when the proxy runs on another machine.
bind = os.environ.get("GUNICORN_BIND", "") or "127.0.0.1:8000"

# Synchronous workers: each request holds one process. 2 x cores + 1, gunicorn's rule of thumb
# for a tier that waits on PostgreSQL; PDF rendering is in the Celery workers, not here.
workers = _int("GUNICORN_WORKERS", 2 * _cores() + 1)
worker_class = "sync"

# A report download streams a finished file (rendering happens in Celery), but a large XLSX
# annex to a slow intranet client may take a while: 60 s before a silent worker is killed,
# 30 s for a graceful stop (a deploy) to let running requests finish.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive to the proxy (nginx's upstream keepalive), shorter than its own timeout.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle each worker after about this many requests (jitter, so they do not all restart at
# once): a slow leak never grows for long.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The TLS proxy's address(es): only these may set X-Forwarded-Proto / X-Forwarded-For to
# gunicorn. Comma-separated; "*" when the proxy's address is not fixed (then only the proxy
# must be able to reach `bind`).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "") or "127.0.0.1,::1"

# Bounded request lines and headers (gunicorn's defaults, spelled out).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Logs on standard error, for journald or the container runtime. With LOG_FORMAT=json both
# are JSON lines; the access line carries the request id (gradient.logging.GunicornLogger).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL", "") or "info").lower()
logger_class = "gradient.logging.GunicornLogger"

# Load the app once in the master, then fork: faster start, less memory. Database
# connections are opened in each worker after the fork (Django opens them on first use).
preload_app = True

proc_name = "gradient-web"


def post_fork(server: object, worker: object) -> None:
    """A worker never shares a database connection that the master opened before the fork."""
    from django.db import connections

    connections.close_all()
