"""schemathesis against the live schema (issue 12), as a cluster official and as a firm user.

Every operation of /api/v1/schema/ gets a bounded number of generated requests (schema-valid
ones, and for bodies and parameters some that break the schema), sent to the WSGI app in this
process with a token. Every built-in check must pass: no 5xx, no status code or content type
the schema does not list, no response that breaks its schema, no schema-valid request refused
with a status that says the request was malformed (400, 415), no invalid one accepted.
A semantic refusal of well-formed content is a documented 422 (the positive check allows it),
except for the two endpoints that answer 400 for an answer that does not fit its question.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from gradient.wsgi import application
from tests.reports.conftest import scored  # noqa: F401 (the report tests' cast)

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
ACCEPTED = ["2xx", "401", "403", "404", "409", "422", "429"]
# Issue-5 endpoints whose invalid answer values have always been a 400 (their tests say so).
ANSWER_400 = (
    "/api/v1/frameworks/{slug}/{version}/score",
    "/api/v1/assessments/{id}/answers/{code}/",
)
CASES: dict[str, int] = {}


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
            "operations": [
                {
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}
                    },
                }
                for path in ANSWER_400
            ],
        }
    )


def _fuzz(user: Any, label: str) -> int:
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, config=_config()
    )
    token = Token.objects.create(user=user).key
    headers = {"Authorization": f"Token {token}", "Accept-Language": "en"}
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal count
            count += 1
            case.call_and_validate(headers=headers)

        run()
    CASES[label] = count
    return count


@pytest.fixture(autouse=True)
def _no_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report requests are queued, not rendered: the fuzz checks the HTTP layer."""
    import reports.services

    monkeypatch.setattr(reports.services, "_enqueue", lambda job_id: None, raising=False)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI app would close the database connection after each request (and with it the
    test's transaction); Django's own test client disconnects the same handlers."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _generous_rates(settings: Any) -> None:
    settings.API_USER_RATE = settings.API_ANON_RATE = "100000/minute"


def test_the_schema_holds_for_a_cluster_official(cluster_official, draft, capsys):
    cases = _fuzz(cluster_official, "official")
    with capsys.disabled():
        print(f"\nschemathesis: {cases} cases as a cluster official")
    assert cases >= 20 * EXAMPLES // 2


def test_the_schema_holds_for_a_firm_user(firm_user, draft, capsys):
    cases = _fuzz(firm_user, "firm")
    with capsys.disabled():
        print(f"\nschemathesis: {cases} cases as a firm user")
    assert cases >= 20 * EXAMPLES // 2


def _call(user: Any, path: str, method: str, **parts: Any) -> int:
    """One request built from the live schema, checked as the fuzz checks its cases."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, config=_config()
    )
    token, _created = Token.objects.get_or_create(user=user)
    case = schema[path][method].Case(**parts)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {token.key}", "Accept-Language": "en"}
    )
    return response.status_code


def test_the_workspace_figures_hold_to_the_schema_with_data(
    request, cluster_official, regional_official, world
):
    """The fuzz meets few real ids: here the figures of a scored round are checked against
    their documented schema (nulls, numbers, nested lists) with the same checks."""
    cast = request.getfixturevalue("scored")
    dashboard = "/api/v1/clusters/{slug}/dashboard/"
    for query in ({}, {"round": cast.previous.pk}, {"round": cast.round.pk, "page": 1}):
        assert (
            _call(
                cluster_official, dashboard, "GET", path_parameters={"slug": "alpha"}, query=query
            )
            == 200
        )
    comparison = "/api/v1/regions/{region_id}/comparison/"
    region = {"region_id": world["province_a"].pk}
    for sort in ("-basic", "cluster", "homogeneity", "-basic_change"):
        assert (
            _call(
                regional_official, comparison, "GET", path_parameters=region, query={"sort": sort}
            )
            == 200
        )
    remind = "/api/v1/rounds/{id}/invitations/remind/"
    invitations = "/api/v1/rounds/{id}/invitations/"
    round_id = {"id": cast.round.pk}
    # scored's rounds are closed: the reminder is a documented 422
    assert _call(cluster_official, remind, "POST", path_parameters=round_id, body={}) == 422
    assert _call(cluster_official, invitations, "GET", path_parameters=round_id) == 200
