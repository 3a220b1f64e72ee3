"""The 503 that replaces a 500 page while the database cannot be reached, in-process.

The database going away is simulated where it first bites, loading the session (inside the
middleware that reads the user before any view runs), and inside a view; with DEBUG on (the
demo) and off (production). The real outage is tests/faults/test_database_restart.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from gradient import unavailable


def _session_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    def load(self: Any) -> Any:
        raise OperationalError('connection to server at "127.0.0.1" failed: Connection refused')

    monkeypatch.setattr(SessionStore, "load", load)


@pytest.mark.parametrize("debug", [True, False])
def test_a_save_while_the_database_is_down_answers_503_in_the_users_language(
    client: Any,
    draft: Any,
    firm_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    debug: bool,
) -> None:
    settings.DEBUG = debug
    client.raise_request_exception = False  # the client would re-raise what the site handled
    client.force_login(firm_user)
    _session_fails(monkeypatch)
    url = f"/assessments/{draft.pk}/answers/B1/"
    answer = client.post(url, {"value": "5"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 503
    text = answer.content.decode()
    assert "data-unavailable" in text and "尚未保存：服务器暂时无法连接数据库" in text
    assert answer["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    english = client.post(url, {"value": "5"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert "Not saved yet: the server cannot reach its database" in english.content.decode()
    page = client.get(f"/assessments/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 503 and "Briefly unavailable" in page.content.decode()
    api = client.get(f"/api/v1/assessments/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.status_code == 503
    assert api.json()["code"] == "database_unavailable"
    assert api.json()["detail"] == "服务器暂时无法连接数据库，请稍后再试。"


def test_a_database_error_inside_a_view_is_a_503_too(
    client: Any, draft: Any, firm_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments import services

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    client.raise_request_exception = False
    client.force_login(firm_user)
    monkeypatch.setattr(services, "answer_save", down)
    answer = client.post(
        f"/assessments/{draft.pk}/answers/B1/", {"value": "5"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 503 and "data-unavailable" in answer.content.decode()


def test_any_other_error_is_still_the_500_page(
    client: Any, draft: Any, firm_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments import services

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    client.raise_request_exception = False
    client.force_login(firm_user)
    monkeypatch.setattr(services, "answer_save", broken)
    answer = client.post(
        f"/assessments/{draft.pk}/answers/B1/", {"value": "5"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 500 and "data-unavailable" not in answer.content.decode()
