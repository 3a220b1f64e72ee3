"""Fault: the broker is down when an official requests a report.

A real web server (gunicorn) runs against a broker URL where nothing listens. The request
is saved as a queued job whose page and API answer say, in the official's language, that
the queue cannot be reached and that the report starts by itself once it is back; never a
500, and it answers within seconds. Then a private Redis server comes up on that port with
a worker, and both ways of sending the saved jobs are checked: the same request made again,
and requeue_reports (what beat runs every minute). Both jobs are rendered, once each.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.faults.live import (
    free_port,
    job_finished,
    job_row,
    port_open,
    redis_server_binary,
    renders,
    stack,
    start_redis,
    wait_for,
)

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DOWN_EN = "The task queue cannot be reached right now."
DOWN_ZH = "暂时无法连接任务队列"


def _login(base: str, language: str) -> requests.Session:
    web = requests.Session()
    web.headers["Accept-Language"] = language
    web.get(f"{base}/accounts/login/", timeout=20)
    answer = web.post(
        f"{base}/accounts/login/",
        data={
            "username": "worker_official",
            "password": "correct-horse-battery",
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    return web


def _request_on_page(web: requests.Session, base: str) -> tuple[int, float]:
    """POST the reports page's form; the job id it redirects to, and how long it took."""
    web.get(f"{base}/reports/", timeout=20)
    began = time.monotonic()
    answer = web.post(
        f"{base}/reports/request/",
        data={
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
            "kind": "cluster",
            "cluster": "worker-cluster",
            "language": "en",
        },
        allow_redirects=False,
        timeout=60,
    )
    took = time.monotonic() - began
    assert answer.status_code == 302, f"{answer.status_code}: {answer.text[-2000:]}"
    found = re.fullmatch(r"/reports/jobs/(\d+)/", answer.headers["Location"])
    assert found, answer.headers["Location"]
    return int(found[1]), took


@pytest.mark.worker
def test_a_report_requested_while_the_broker_is_down_waits_and_runs_when_it_is_back(
    tmp_path: Path,
) -> None:
    redis_server_binary()
    broker_port, web_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    with stack(
        tmp_path, "broker_down", CELERY_BROKER_URL=f"redis://127.0.0.1:{broker_port}/0"
    ) as s:
        s.run("-m", "tests.faults.scripts", "seed")
        s.start(
            "web",
            [GUNICORN, "gradient.wsgi", "-b", f"127.0.0.1:{web_port}", "-w", "1", "-t", "60"],
        )
        wait_for(lambda: port_open(web_port), timeout=60, what="gunicorn\n" + s.log("web"))
        official = _login(base, "en")

        # The page: a redirect to the job, saved and queued, saying why it waits.
        job_id, took = _request_on_page(official, base)
        assert took < 15
        page = official.get(f"{base}/reports/jobs/{job_id}/", timeout=20)
        assert page.status_code == 200 and DOWN_EN in page.text
        fragment = official.get(f"{base}/reports/jobs/{job_id}/progress/", timeout=20)
        assert DOWN_EN in fragment.text and "hx-trigger" in fragment.text  # still polling

        # The API, in Chinese, for the shareable variant: 202 with the queued job.
        chinese = _login(base, "zh-hans")
        chinese.get(f"{base}/reports/", timeout=20)
        answer = chinese.post(
            f"{base}/api/v1/reports/",
            json={
                "kind": "cluster",
                "cluster": "worker-cluster",
                "language": "en",
                "shareable": True,
            },
            headers={"X-CSRFToken": chinese.cookies["csrftoken"]},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text[-2000:]
        body = answer.json()
        api_job = body["id"]
        assert body["status"] == "pending" and body["served"] == "queued"
        detail = chinese.get(f"{base}/api/v1/reports/{api_job}/", timeout=20).json()
        assert DOWN_ZH in detail["error"]

        # Asking again while it is still down: the same job, nothing lost or doubled.
        assert _request_on_page(official, base)[0] == job_id
        for job in (job_id, api_job):
            row = job_row(s, job)
            assert (row["status"], row["queued_at"]) == ("pending", None)
        assert s.query("SELECT COUNT(*) FROM reports_reportjob")[0][0] == 2
        assert "Internal Server Error" not in s.log("web")

        # The broker is back, with a worker.
        start_redis(s, broker_port)
        s.start_worker("worker")
        # 1. The official asks again: the saved job's task is sent now.
        assert _request_on_page(official, base)[0] == job_id
        done = wait_for(
            lambda: (r := job_row(s, job_id))["status"] in {"done", "failed"} and r,
            timeout=120,
            what="the page's job\n" + s.log("worker") + s.log("web"),
        )
        assert done["status"] == "done" and done["error"] == ""
        # The annex's task was saved and sent with it, and runs as well.
        annex = job_finished(s, job_id, timeout=120, what="the annex\n" + s.log("worker"))
        assert annex["annex_status"] == "done" and annex["annex_error"] == ""
        page = official.get(f"{base}/reports/jobs/{job_id}/", timeout=20).text
        assert "Download the PDF" in page and DOWN_EN not in page
        # 2. Nobody asks again for the other: beat's requeue_reports sends it.
        assert job_row(s, api_job)["status"] == "pending"
        assert s.run("-m", "tests.faults.scripts", "requeue").strip() == "1"
        done = wait_for(
            lambda: (r := job_row(s, api_job))["status"] in {"done", "failed"} and r,
            timeout=120,
            what="the API's job\n" + s.log("worker"),
        )
        assert done["status"] == "done"
        assert len(renders(s)[1]) == 2  # each rendered once
        assert s.run("-m", "tests.faults.scripts", "requeue").strip() == "0"
