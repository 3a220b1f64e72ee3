"""A real Celery worker whose report renders are counted, and slowed for a fault test.

    python -m tests.faults.worker_main -Q reports --concurrency 1 ...   # celery worker args

Each render of a cluster report appends "start PID" to FAULT_RENDER_LOG, sleeps
FAULT_RENDER_DELAY seconds (so that a test can kill the worker mid-render), renders for real,
then appends "end PID". The hook lives here, in the test's worker process, never in the
production code path.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradient.settings")

import django  # noqa: E402

django.setup()

from reports import rendering  # noqa: E402

_render_cluster = rendering.render_cluster


def _note(what: str) -> None:
    # One short write with O_APPEND: lines of several pool processes never interleave.
    with open(os.environ["FAULT_RENDER_LOG"], "a") as log:
        log.write(f"{what} {os.getpid()}\n")


def counted_render_cluster(*args: Any, **kwargs: Any) -> Any:
    _note("start")
    time.sleep(float(os.environ.get("FAULT_RENDER_DELAY", "0")))
    rendered = _render_cluster(*args, **kwargs)
    _note("end")
    return rendered


# reports.services imports render_cluster from the module at each call: this is what runs.
rendering.render_cluster = counted_render_cluster

if __name__ == "__main__":
    from gradient.celery import app

    app.worker_main(["worker", *sys.argv[1:]])
