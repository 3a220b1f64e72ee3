"""Tier 3: the framework API (list, definition, score) and its OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from assessments import urls as assessments_urls
from assessments.framework import load_framework_file, parse_framework
from assessments.models import FrameworkVersion
from assessments.versions import framework_version_load
from tests.assessments.engine_fixtures import EXAMPLE_ANSWERS, EXAMPLE_RESULT, FIXTURES

pytestmark = pytest.mark.django_db

EXAMPLE = load_framework_file(FIXTURES / "example.yaml")


@pytest.fixture
def api(outsider: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(outsider)
    return client


@pytest.fixture
def versions(db: None) -> tuple[FrameworkVersion, FrameworkVersion]:
    published, _ = framework_version_load(EXAMPLE)
    draft, _ = framework_version_load(
        parse_framework({**EXAMPLE.definition, "version": "2-draft"}), publish=False
    )
    return published, draft


def score_url(slug: str = "demo", version: str = "1") -> str:
    return reverse("assessments:api-framework-score", args=[slug, version])


def test_anonymous_users_are_refused(versions: object) -> None:
    client = APIClient()
    assert client.get(reverse("assessments:api-framework-list")).status_code in (401, 403)
    assert client.post(score_url(), {"answers": {}}, format="json").status_code in (401, 403)


def test_list_shows_published_versions_only(api: APIClient, versions: object) -> None:
    response = api.get(reverse("assessments:api-framework-list"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["framework"], r["version"], r["status"]) for r in rows] == [
        ("demo", "1", "published")
    ]
    assert rows[0]["title"] == {"zh-hans": "演示框架", "en": "Demo framework"}


def test_detail_returns_the_definition(api: APIClient, versions: object) -> None:
    response = api.get(reverse("assessments:api-framework-detail", args=["demo", "1"]))
    assert response.status_code == 200
    body = response.json()
    assert body["definition"] == EXAMPLE.definition
    assert len(body["content_hash"]) == 64


def test_drafts_and_unknown_versions_are_404(api: APIClient, versions: object) -> None:
    assert (
        api.get(reverse("assessments:api-framework-detail", args=["demo", "2-draft"])).status_code
        == 404
    )
    assert (
        api.get(reverse("assessments:api-framework-detail", args=["nope", "1"])).status_code == 404
    )
    assert api.post(score_url("demo", "9"), {"answers": {}}, format="json").status_code == 404


def test_staff_may_see_drafts(staff_user: object, versions: object) -> None:
    client = APIClient()
    client.force_authenticate(staff_user)
    url = reverse("assessments:api-framework-detail", args=["demo", "2-draft"])
    assert client.get(url).json()["status"] == "draft"


def test_score_returns_exactly_the_contract_result(api: APIClient, versions: object) -> None:
    response = api.post(score_url(), {"answers": EXAMPLE_ANSWERS, "firm": "ignored"}, format="json")
    assert response.status_code == 200
    assert response.json() == EXAMPLE_RESULT


def test_score_stores_nothing(api: APIClient, versions: object) -> None:
    from assessments.models import Assessment

    api.post(score_url(), {"answers": {"B1": 5}}, format="json")
    assert not Assessment.objects.exists()


def test_score_lists_every_problem(api: APIClient, versions: object) -> None:
    response = api.post(
        score_url(), {"answers": {"B1": 150, "B2": ["x"], "ZZ": True}}, format="json"
    )
    assert response.status_code == 400
    # The one error shape (issue 12) adds "detail" and "code" beside the same problems.
    assert response.json()["problems"] == [
        "answers.B1: must be between 0 and 100, got 150",
        'answers.B2: option "x" is not one of policy, firewall, none',
        "answers.ZZ: unknown question",
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, 'body: must be a JSON object such as {"answers": {...}}'),
        ([1, 2], 'body: must be a JSON object such as {"answers": {...}}'),
        ({"answers": [1]}, "answers: must be an object mapping question codes to answers"),
    ],
)
def test_score_rejects_a_malformed_body(
    api: APIClient, versions: object, body: object, problem: str
) -> None:
    response = api.post(score_url(), body, format="json")
    assert response.status_code == 400
    assert response.json()["problems"] == [problem]


def test_score_rejects_invalid_json(api: APIClient, versions: object) -> None:
    response = api.post(score_url(), "{not json", content_type="application/json")
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem.startswith("body: JSON parse error")


# Only the framework API's routes: other parts' views have their own schema checks.
urlpatterns = [
    p for p in assessments_urls.urlpatterns if getattr(p, "name", "").startswith("api-framework")
]


def test_the_schema_generates_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(urlpatterns) == 3
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        "/dev/null",
        "--urlconf",
        __name__,
    )
    _, err = capsys.readouterr()
    assert "Warning" not in err and "Error" not in err
