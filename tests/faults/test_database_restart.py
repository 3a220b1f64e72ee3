"""Fault: the database restarts while firms autosave.

A private PostgreSQL server (never the shared one) serves a real web server (gunicorn). A
firm's client saves answers the way the questionnaire page does (session, CSRF, htmx POSTs
carrying the revision it last saw, sending a failed save again), while the server is
stopped and started under it. While it is down every save answers 503 with a message in the
user's language (never a 500 page), the page and the API answer 503 too; afterwards every
answer sent is stored exactly once with its last value, and its revision counts each value.
A restart with no request in between is invisible: the next save succeeds at once
(CONN_HEALTH_CHECKS replaces the dead persistent connection).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.live import Stack, free_port, port_open, private_postgres, stack, wait_for

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# Each question's answers, in the order sent: every value differs from the one before.
SEQUENCES: dict[str, list[str]] = {
    "B1": [str(n) for n in (10, 20, 30, 40, 50, 60, 70, 80)],
    "O6": [f"第 {n} 稿：仓库用扫码枪登记" for n in range(1, 9)],
    "B3": ["none", "office", "full", "office", "none", "full", "office", "full"],
    "O4": ["paper", "sheet", "erp", "sheet", "paper", "erp", "sheet", "erp"],
}
DOWN_ZH = "暂时无法连接数据库"
DOWN_EN = "cannot reach its database"


def login(base: str, language: str) -> requests.Session:
    web = requests.Session()
    web.headers["Accept-Language"] = language
    web.get(f"{base}/accounts/login/", timeout=20)
    answer = web.post(
        f"{base}/accounts/login/",
        data={
            "username": "fault_firm",
            "password": "correct-horse-battery",
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    return web


@dataclass
class Autosaver:
    """Sends answers as the page does; a save that fails is sent again until it is stored."""

    web: requests.Session
    base: str
    pk: int
    revisions: dict[str, int] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # the 503 bodies
    problems: list[str] = field(default_factory=list)

    def save(self, code: str, value: str, *, deadline: float) -> int:
        """Store one answer; returns how many tries it took."""
        tries = 0
        while time.monotonic() < deadline:
            tries += 1
            token = self.web.cookies["csrftoken"]
            try:
                answer = self.web.post(
                    f"{self.base}/assessments/{self.pk}/answers/{code}/",
                    data={
                        "value": value,
                        "base_revision": self.revisions.get(code, 0),
                        "csrfmiddlewaretoken": token,
                    },
                    headers={"HX-Request": "true", "X-CSRFToken": token},
                    timeout=20,
                )
            except requests.RequestException as exc:  # the web server itself must stay up
                self.problems.append(f"{code}={value}: {exc}")
                return tries
            self.statuses.append(answer.status_code)
            if answer.status_code == 200:
                found = re.search(rf'id="rev-{code}" value="(\d+)"', answer.text)
                if not found or "st-conflict" in answer.text or "st-invalid" in answer.text:
                    self.problems.append(f"{code}={value}: {answer.text[:600]}")
                else:
                    self.revisions[code] = int(found[1])
                return tries
            if answer.status_code == 503:
                self.unavailable.append(answer.text)
                time.sleep(0.5)  # the page waits for Retry-After; a test need not
                continue
            self.problems.append(f"{code}={value}: HTTP {answer.status_code} {answer.text[:600]}")
            return tries
        self.problems.append(f"{code}={value}: not stored before the deadline")
        return tries


def _answers(s: Stack, pk: int) -> list[tuple[Any, ...]]:
    return s.query(
        "SELECT question_code, value, revision FROM assessments_answer WHERE assessment_id = ?"
        " ORDER BY question_code",
        pk,
    )


def _web(s: Stack, port: int) -> None:
    s.start(
        "web",
        [GUNICORN, "gradient.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "-t", "60"],
    )
    wait_for(lambda: port_open(port), timeout=60, what="gunicorn\n" + s.log("web"))


@pytest.mark.postgres
def test_autosaves_across_a_database_restart_are_stored_once_with_their_last_value(
    tmp_path: Path,
) -> None:
    with private_postgres() as pg:
        url = pg.create_database("gradient_restart")
        with stack(tmp_path, "restart", database_url=url) as s:
            pk = int(s.run("-m", "tests.faults.scripts", "draft").strip())
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            _web(s, port)
            firm = login(base, "zh-hans")
            assert firm.get(f"{base}/assessments/{pk}/", timeout=20).status_code == 200
            saver = Autosaver(firm, base, pk)

            # 1. A restart while nothing is asked: the next save works at once.
            pg.stop()
            pg.start()
            assert saver.save("B1", "5", deadline=time.monotonic() + 30) == 1, saver.problems
            assert saver.statuses == [200]

            # 2. Saves go on while the server stops, stays down for 4 s, and comes back.
            deadline = time.monotonic() + 120
            outage: dict[str, float] = {}

            def restart() -> None:
                time.sleep(1.5)
                outage["down"] = time.monotonic()
                pg.stop()
                time.sleep(4)
                pg.start()
                outage["up"] = time.monotonic()

            restarter = threading.Thread(target=restart, daemon=True)
            restarter.start()
            while_down: dict[str, int] = {}
            for step in range(8):
                for code, values in SEQUENCES.items():
                    saver.save(code, values[step], deadline=deadline)
                    time.sleep(0.15)
                if "down" in outage and "up" not in outage and not while_down:
                    # The page and the API while it is down: 503, in the user's language.
                    page = firm.get(f"{base}/assessments/{pk}/", timeout=20)
                    api = firm.get(f"{base}/api/v1/assessments/{pk}/", timeout=20)
                    while_down = {"page": page.status_code, "api": api.status_code}
                    if page.status_code == 503:
                        assert DOWN_ZH in page.text and "Retry-After" in page.headers
                        assert api.json()["code"] == "database_unavailable"
                        assert DOWN_ZH in api.json()["detail"]
            restarter.join(timeout=90)
            assert not restarter.is_alive() and "up" in outage, pg.log()
            assert saver.problems == [], saver.problems

            assert set(saver.statuses) <= {200, 503}  # never a 500 or anything else
            assert saver.unavailable, "no save met the outage: the test proved nothing"
            assert all(DOWN_ZH in body and "data-unavailable" in body for body in saver.unavailable)
            if while_down:
                assert while_down == {"page": 503, "api": 503}

            # 3. Every answer once, with its last value; its revision counts every value.
            rows = _answers(s, pk)
            assert sorted(code for code, _v, _r in rows) == sorted(SEQUENCES)  # one row each
            stored = {code: (value, revision) for code, value, revision in rows}
            for code, values in SEQUENCES.items():
                value, revision = stored[code]
                assert str(value) == values[-1], (code, value)
                sent = len(values) + (1 if code == "B1" else 0)  # B1 had "5" first
                assert revision == sent, (code, revision, sent)

            # 4. In English too, for a firm user whose browser asks for it.
            english = login(base, "en")
            pg.stop()
            try:
                answer = english.post(
                    f"{base}/assessments/{pk}/answers/B1/",
                    data={
                        "value": "81",
                        "base_revision": saver.revisions["B1"],
                        "csrfmiddlewaretoken": english.cookies["csrftoken"],
                    },
                    headers={"HX-Request": "true", "X-CSRFToken": english.cookies["csrftoken"]},
                    timeout=20,
                )
            finally:
                pg.start()
            assert answer.status_code == 503 and DOWN_EN in answer.text
            assert answer.headers["Retry-After"] == "5"
