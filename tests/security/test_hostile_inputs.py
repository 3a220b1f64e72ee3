"""Hostile inputs outside the register import (issue 8, parts 2 and 3).

Each case runs under `cpu_bound`: the right status after a minute of CPU is still a failure.
Numbers posted to the questionnaire, bodies the API cannot parse (too deep, too large, not
UTF-8, not JSON), and text that a spreadsheet would run as a formula (CSV and XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from assessments.models import Answer
from reports.models import ReportJob
from tests.factories import FirmFactory, MembershipFactory
from tests.reports.builders import TEST_FRAMEWORK, answers_for, framework_version, submit_many
from tests.reports.builders import make_round as make_report_round

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HUGE_NUMBERS = ["1e1000000", "1e300000", "9" * 5000, "1" * 200_000]
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\t=1+1", "\r=1+1"]
NESTED = b"[" * 100_000 + b"]" * 100_000


# --- Number answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", HUGE_NUMBERS, ids=["1e1000000", "1e300000", "5000x9", "200kx1"])
def test_a_huge_number_on_the_page_is_refused_quickly(client, firm_user, draft, cpu_bound, value):
    client.force_login(firm_user)
    url = reverse("assessments:answer", args=[draft.pk, "B1"])
    with cpu_bound(1.0):
        response = client.post(url, {"value": value, "base_revision": "0"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "st-invalid" in html
    # The message names the question (its number on the page) and the limit.
    assert "第 1 题" in html and "15" in html
    assert not Answer.objects.filter(assessment=draft).exists()


def test_an_ordinary_number_on_the_page_is_still_saved(client, firm_user, draft, cpu_bound):
    client.force_login(firm_user)
    url = reverse("assessments:answer", args=[draft.pk, "B1"])
    with cpu_bound(1.0):
        response = client.post(url, {"value": "１２，５", "base_revision": "0"}, **HTMX)
    assert "st-saved" in response.content.decode()
    assert Answer.objects.get(assessment=draft, question_code="B1").value == 12.5


@pytest.mark.parametrize("literal", ["1e1000000", "1e300000", "9" * 4000])
def test_a_huge_number_through_the_api_is_refused_quickly(
    client, firm_user, draft, cpu_bound, literal
):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-answer", args=[draft.pk, "B1"])
    body = f'{{"value": {literal}, "base_revision": 0}}'
    with cpu_bound(1.0):
        response = client.put(url, body, content_type="application/json", **EN)
    assert response.status_code == 400
    assert _message(response)  # the serializer's or the parser's message
    assert not Answer.objects.filter(assessment=draft).exists()


@pytest.fixture
def unbounded_draft(firm_user, world, invitations, tmp_path):
    """A draft on a copy of the demo framework whose B1 has neither min nor max."""
    from assessments.framework import load_framework_file
    from assessments.models import Assessment
    from assessments.versions import framework_version_load
    from tests.assessments.questionnaire_fixtures import DEMO_FILE, make_round

    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    question = data["dimensions"][0]["questions"][0]
    del question["min"], question["max"]
    data["version"] = "unbounded"
    path = tmp_path / "unbounded.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    version, _status = framework_version_load(load_framework_file(path), publish=True)
    round_ = make_round(world["alpha"], version, name="unbounded")
    return Assessment.objects.create(
        round=round_, firm=world["firms"]["alpha"][0], framework_version=version
    )


@pytest.mark.parametrize(
    ("literal", "saved"),
    [("1e15", False), ("1e300", False), (str(10**200), False), ("999999999999999", True)],
    ids=["1e15", "1e300", "201-digits", "15-digits"],
)
def test_an_unbounded_number_question_still_bounds_the_api(
    client, firm_user, unbounded_draft, cpu_bound, literal, saved
):
    client.force_login(firm_user)
    url = reverse("assessments:api-assessment-answer", args=[unbounded_draft.pk, "B1"])
    body = f'{{"value": {literal}, "base_revision": 0}}'
    with cpu_bound(1.0):
        response = client.put(url, body, content_type="application/json", **EN)
    stored = Answer.objects.filter(assessment=unbounded_draft, question_code="B1")
    if saved:
        assert response.status_code == 200 and stored.get().value == int(literal)
    else:
        assert response.status_code == 400
        assert response.json()["problems"] == [
            "answers.B1: Enter a number with at most 15 digits before the decimal point."
        ]
        assert not stored.exists()


def test_an_unbounded_number_question_on_the_page(client, firm_user, unbounded_draft, cpu_bound):
    client.force_login(firm_user)
    url = reverse("assessments:answer", args=[unbounded_draft.pk, "B1"])
    with cpu_bound(1.0):
        response = client.post(url, {"value": "1" * 16, "base_revision": "0"}, **HTMX, **EN)
    assert "Question 1 takes a number of at most 15 digits" in response.content.decode()
    response = client.post(url, {"value": "123456789012345", "base_revision": "0"}, **HTMX)
    assert "st-saved" in response.content.decode()
    assert Answer.objects.get(assessment=unbounded_draft).value == 123456789012345


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("1e1000000", "answers.B1: must be a number, got inf"),
        ("1e300000", "answers.B1: must be a number, got inf"),
        ("1e300", "answers.B1: must be between 0 and 100, got 1e+300"),
        ('"1e1000000"', 'answers.B1: must be a number, got "1e1000000"'),
        ("9" * 4000, "body: The JSON has a number longer than 400 characters."),
    ],
    ids=["1e1000000", "1e300000", "1e300", "string", "4000-digits"],
)
def test_a_huge_number_to_the_score_endpoint_is_refused_quickly(
    client, firm_user, demo_version, cpu_bound, literal, expected
):
    client.force_login(firm_user)
    url = reverse("assessments:api-framework-score", args=["questionnaire-demo", "1"])
    body = f'{{"answers": {{"B1": {literal}}}}}'
    with cpu_bound(1.0):
        response = client.post(url, body, content_type="application/json", **EN)
    assert response.status_code == 400
    assert response.json()["problems"] == [expected]


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("1e1000000", "answers.B1: must be a number"),
        ("1" * 5000, "a number longer than 400 characters"),
        ("0." + "1" * 200_000, "a number longer than 400 characters"),
    ],
    ids=["1e1000000", "5000-digit-int", "200k-digit-fraction"],
)
def test_score_answers_bounds_numbers(tmp_path: Path, capsys, cpu_bound, literal, expected):
    from tests.assessments.questionnaire_fixtures import DEMO_FILE

    answers = tmp_path / "answers.json"
    answers.write_text('{"answers": {"B1": ' + literal + "}}")
    with cpu_bound(1.0), pytest.raises(SystemExit) as info:
        call_command("score_answers", str(DEMO_FILE), str(answers))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "unexpected error" not in err
    assert len(err) < 300


# --- Bodies the API cannot parse ----------------------------------------------------------------


def _endpoints(draft: Any) -> list[tuple[str, str]]:
    return [
        ("post", reverse("assessments:api-framework-score", args=["questionnaire-demo", "1"])),
        ("put", reverse("assessments:api-assessment-answer", args=[draft.pk, "B1"])),
        ("post", reverse("api-report-request")),
    ]


def _message(response: Any) -> str:
    data = response.json()
    return " ".join(data["problems"]) if "problems" in data else data["detail"]


BAD_BODIES = {
    "nested-array": (NESTED, "deep"),
    "nested-object": (b'{"answers": {"B1": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001, "deep"),
    "ten-megabytes": (b'{"answers": {"B9": "' + b"x" * 10_000_000 + b'"}}', "large"),
    "invalid-utf8": (b'{"answers": {"B3": "\xff\xfe\xc3"}}', "UTF-8"),
    "not-json": (b"answers=B1", "JSON"),
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_every_api_endpoint_answers_400_for_an_unparsable_body(
    client, cluster_official, firm_user, draft, cpu_bound, kind
):
    body, word = BAD_BODIES[kind]
    client.force_login(firm_user)
    for method, url in _endpoints(draft):
        with cpu_bound(1.0):
            response = getattr(client, method)(url, body, content_type="application/json", **EN)
        assert response.status_code == 400, (url, response.status_code)
        assert word.lower() in _message(response).lower(), (url, _message(response))
    assert not Answer.objects.filter(assessment=draft).exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"answers": {"B2": [' + b"[]," * 340_000 + b"[]]}}",
        b'{"answers": {"B3": "' + b'\\"[{' * 250_000 + b'"}}',
    ],
    ids=["350k-lists", "escaped-quotes"],
)
def test_the_largest_body_under_the_cap_is_cheap(client, firm_user, demo_version, cpu_bound, body):
    # Just under 1 MB, every byte a bracket or an escape: the depth scan stays linear.
    client.force_login(firm_user)
    url = reverse("assessments:api-framework-score", args=["questionnaire-demo", "1"])
    with cpu_bound(1.0):
        response = client.post(url, body, content_type="application/json", **EN)
    assert response.status_code == 400
    assert response.json()["problems"][0].startswith("answers.B")


def test_form_and_multipart_bodies_are_415_in_the_error_shape(
    client, cluster_official, world
) -> None:
    # Issue 12: the API takes JSON only (and the schema offers nothing else).
    client.force_login(cluster_official)
    url = reverse("api-report-request")
    for kwargs in (
        {"data": "kind=cluster&cluster=nope", "content_type": "application/x-www-form-urlencoded"},
        {"data": {"kind": "cluster", "cluster": "nope"}},  # multipart
    ):
        response = client.post(url, **kwargs, **EN)
        assert response.status_code == 415
        body = response.json()
        assert body["code"] == "unsupported_media_type" and body["problems"] == [body["detail"]]
    assert not ReportJob.objects.exists()


# --- Formula injection ----------------------------------------------------------------------


def _formula_firms(cluster: Any) -> list[Any]:
    firms = []
    for name in FORMULAS:
        firm = FirmFactory(name=name)
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    return firms


def _hostile_framework(tmp_path: Path) -> Path:
    """The report test framework with formula-like question, level and dimension texts."""
    data = yaml.safe_load(TEST_FRAMEWORK.read_text(encoding="utf-8"))
    data["title"] = '=HYPERLINK("http://x","framework")'
    data["levels"][0]["title"] = "=1+1"
    data["levels"][1]["title"] = "@SUM(1)"
    data["dimensions"][0]["title"] = "+dimension"
    data["dimensions"][0]["questions"][0]["text"] = '=HYPERLINK("http://x","question")'
    data["dimensions"][0]["questions"][1]["text"] = "-question"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _hostile_round(world: dict, tmp_path: Path) -> Any:
    cluster = world["alpha"]
    cluster.name_zh = cluster.name_en = '=HYPERLINK("http://x","cluster")'
    cluster.save()
    version, fw = framework_version(_hostile_framework(tmp_path))
    round_ = make_report_round(
        cluster, version, name="-round", opens=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    firms = _formula_firms(cluster)
    rng = random.Random(3)
    submit_many(round_, fw, firms, [answers_for(fw, 0.3 + 0.1 * i, rng) for i in range(len(firms))])
    return round_


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}


def _read(value: Any) -> Any:
    """A cell's text as Excel reads it: XlsxWriter writes a control character such as a
    carriage return as the OOXML escape `_x000D_`, which openpyxl's reader leaves as it is."""
    return unescape(value) if isinstance(value, str) else value


def _assert_text_cells(book: Any) -> int:
    """Every formula-like value in the workbook is a text cell; returns how many there are."""
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    raise AssertionError(f"{sheet.title}!{cell.coordinate} is a formula")
                if _formula_like(_read(cell.value)):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    seen += 1
    return seen


def test_csv_export_neutralises_formulas(world, tmp_path: Path, cpu_bound) -> None:
    round_ = _hostile_round(world, tmp_path)
    target = tmp_path / "out.csv"
    call_command(
        "export_results",
        "alpha",
        "--round",
        str(round_.pk),
        "--format",
        "csv",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    names = sorted(r[1] for r in rows[1:])
    assert names == sorted("'" + n for n in FORMULAS)
    for row in rows:
        for value in row:
            assert not _formula_like(value), value


def test_xlsx_export_writes_formulas_as_text(world, tmp_path: Path) -> None:
    round_ = _hostile_round(world, tmp_path)
    target = tmp_path / "out.xlsx"
    call_command(
        "export_results",
        "alpha",
        "--round",
        str(round_.pk),
        "--format",
        "xlsx",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    book = load_workbook(target)
    assert _assert_text_cells(book) >= len(FORMULAS)
    names = sorted(_read(r[1]) for r in book.active.iter_rows(min_row=2, values_only=True))
    assert names == sorted(FORMULAS)  # the value itself is kept as it is


def test_xlsx_annex_writes_every_text_cell_as_text(world, tmp_path: Path) -> None:
    from reports.rendering import render_cluster

    round_ = _hostile_round(world, tmp_path)
    out = render_cluster(round_, language="en")
    book = load_workbook(io.BytesIO(out.xlsx))
    _assert_text_cells(book)
    questions = [row[1] for row in book["Questions"].iter_rows(min_row=2)]
    question = next(c for c in questions if c.value == '=HYPERLINK("http://x","question")')
    assert question.data_type == "s"
    firms = {_read(row[1].value) for row in book["Firms"].iter_rows(min_row=2)}
    assert set(FORMULAS) <= firms
    summary = {row[0].value for row in book["Summary"].iter_rows()}
    assert {"=1+1", "@SUM(1)", "+dimension"} <= summary


def test_invitation_list_writes_formulas_as_text(client, cluster_official, open_round, world):
    from assessments.models import Invitation

    for firm in _formula_firms(world["alpha"]):
        Invitation.objects.create(
            round=open_round, firm=firm, token=f"t-{firm.pk}-xxxxxxxx", email="=x@example.com"
        )
    client.force_login(cluster_official)
    response = client.get(reverse("assessments:round_invitations_xlsx", args=[open_round.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert _assert_text_cells(book) >= 2 * len(FORMULAS)
