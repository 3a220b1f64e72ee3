"""Fault: two submissions of the same draft race on PostgreSQL.

assessment_submit locks the assessment row (SELECT … FOR UPDATE) and checks it is still a
draft under the lock, so the second submission waits for the first to commit, then finds it
submitted. Exactly one submitted assessment, one set of result rows; the loser gets a clear
answer: AssessmentLocked from the service, the result page with a note on the web page, 409
from the API. Never a 500.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from tests.faults.live import free_port, port_open, stack, wait_for

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
THANKS = "感谢填写，问卷已提交。"
NOTE = "刚刚已从另一个标签页或由同事提交"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_submitting_one_draft_give_one_submission_and_one_clear_refusal(
    draft: Any, firm_user: Any, other_firm_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments import scoring, services
    from assessments.models import Answer, Assessment, DimensionScore, QuestionAttainment
    from assessments.versions import framework_for
    from tests.assessments.questionnaire_fixtures import FULL_ANSWERS
    from tests.factories import FirmMemberFactory

    Answer.objects.bulk_create(
        Answer(assessment=draft, question_code=code, value=value)
        for code, value in FULL_ANSWERS.items()
    )
    FirmMemberFactory(user=other_firm_user, firm=draft.firm)  # a colleague of the same firm
    real_score = scoring.score

    def slow_score(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # whoever holds the lock holds it long enough for the other to queue
        return real_score(*args, **kwargs)

    monkeypatch.setattr(scoring, "score", slow_score)
    start = threading.Barrier(2, timeout=20)
    outcomes: dict[str, Any] = {}

    def submit(user: Any) -> None:
        try:
            # Each thread loads the draft itself, before the other has submitted.
            mine = Assessment.objects.get(pk=draft.pk)
            start.wait()
            outcomes[user.username] = services.assessment_submit(mine, user=user)
        except Exception as exc:  # noqa: BLE001 — the outcome is what is checked
            outcomes[user.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(u,)) for u in (firm_user, other_firm_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    won = [v for v in outcomes.values() if isinstance(v, Assessment)]
    lost = [v for v in outcomes.values() if not isinstance(v, Assessment)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], services.AssessmentLocked), repr(lost[0])
    assert lost[0].message == "问卷已提交，不能再修改。"  # the firm's language, zh-Hans
    assert Assessment.objects.filter(pk=draft.pk, status="submitted").count() == 1
    stored = Assessment.objects.get(pk=draft.pk)
    assert stored.submitted_by_id == won[0].submitted_by_id
    result = real_score(framework_for(stored.framework_version), FULL_ANSWERS)
    assert DimensionScore.objects.filter(assessment=draft).count() == len(result.dimensions)
    assert QuestionAttainment.objects.filter(assessment=draft).count() == len(result.attainment)


def _login(base: str, username: str) -> requests.Session:
    web = requests.Session()
    web.headers["Accept-Language"] = "zh-hans"
    web.get(f"{base}/accounts/login/", timeout=20)
    answer = web.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": "correct-horse-battery",
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    return web


@pytest.mark.postgres
def test_two_colleagues_submitting_at_once_over_http_give_one_submission(
    tmp_path: Path,
) -> None:
    with stack(tmp_path, "race") as s:
        pk = int(s.run("-m", "tests.faults.scripts", "draft", "full").strip())
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # Two processes with two threads each: the submissions really run at once.
        s.start(
            "web",
            [
                GUNICORN,
                "gradient.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "2",
                "-t",
                "60",
            ],
        )
        wait_for(lambda: port_open(port), timeout=60, what="gunicorn\n" + s.log("web"))
        people = {name: _login(base, name) for name in ("fault_firm", "fault_colleague")}
        for web in people.values():
            assert web.get(f"{base}/assessments/{pk}/review/", timeout=20).status_code == 200
        start = threading.Barrier(3, timeout=30)
        answers: dict[str, requests.Response] = {}

        def submit_on_page(name: str) -> None:
            web = people[name]
            start.wait()
            answers[name] = web.post(
                f"{base}/assessments/{pk}/review/",
                data={"confirm": "yes", "csrfmiddlewaretoken": web.cookies["csrftoken"]},
                allow_redirects=False,
                timeout=60,
            )

        def submit_on_api() -> None:
            web = people["fault_firm"]
            start.wait()
            answers["api"] = web.post(
                f"{base}/api/v1/assessments/{pk}/submit/",
                json={},
                headers={"X-CSRFToken": web.cookies["csrftoken"]},
                timeout=60,
            )

        threads = [
            threading.Thread(target=submit_on_page, args=("fault_firm",)),
            threading.Thread(target=submit_on_page, args=("fault_colleague",)),
            threading.Thread(target=submit_on_api),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert not any(t.is_alive() for t in threads)
        statuses = {name: r.status_code for name, r in answers.items()}
        assert 500 not in statuses.values(), statuses

        assert s.query(
            "SELECT COUNT(*) FROM assessments_assessment WHERE id = ? AND status = 'submitted'",
            pk,
        ) == [(1,)]
        dims = s.query(
            "SELECT COUNT(*) FROM assessments_dimensionscore WHERE assessment_id = ?", pk
        )
        assert dims == [(2,)]  # the demo framework's two dimensions, stored once
        attained = s.query(
            "SELECT question_code, COUNT(*) FROM assessments_questionattainment"
            " WHERE assessment_id = ? GROUP BY question_code HAVING COUNT(*) > 1",
            pk,
        )
        assert attained == []

        # The page: both colleagues land on the one result, the winner thanked, a loser
        # told what happened; the API answers 200, or 409 with the reason, when it lost.
        result_url = f"/assessments/{pk}/result/"
        shown = {}
        for name in ("fault_firm", "fault_colleague"):
            answer = answers[name]
            assert answer.status_code == 302, (name, answer.status_code, answer.text[-1500:])
            assert answer.headers["Location"] == result_url
            page = people[name].get(f"{base}{result_url}", timeout=20)
            assert page.status_code == 200
            shown[name] = page.text
        api = answers["api"]
        assert api.status_code in {200, 409}, api.text
        thanked = sum(THANKS in text for text in shown.values())
        assert thanked == (1 if api.status_code == 409 else 0), statuses
        if api.status_code == 409:
            body = api.json()
            assert body["code"] == "locked" and body["detail"] == "问卷已提交，不能再修改。"
        # A loser who reached the lock was told (one who came after the commit was simply
        # shown the result): the note never appears for the winner.
        for text in shown.values():
            assert not (THANKS in text and NOTE in text)
