"""The framework commands: exit codes, stdout JSON and one stderr line per problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from assessments.models import FrameworkVersion
from tests.assessments.engine_fixtures import EXAMPLE_ANSWERS, EXAMPLE_RESULT, FIXTURES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = FIXTURES / "example.yaml"
BROKEN = FIXTURES / "broken.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Run a command in-process; returns (exit code, stdout, stderr lines)."""
    try:
        call_command(*args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line]


def answers_file(tmp_path: Path, content: object, name: str = "answers.json") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


# --- validate_framework ----------------------------------------------------------------------


def test_validate_framework_accepts_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate_framework", str(EXAMPLE))
    assert (code, err) == (0, [])
    assert out.strip() == "demo 1: valid (2 dimensions, 5 questions, 3 levels)"


def test_validate_framework_lists_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate_framework", str(BROKEN))
    assert code == 2 and out == ""
    assert err == [
        'version: must be a string, got a number (2024); put it in quotes, e.g. "2024"',
        "dimensions[0].wieght: unknown key",
        "dimensions[0].weight: required key is missing",
        "dimensions[0].questions[1].options[2].points: exceeds question points 4",
        'bands.advanced: level "L9" does not exist',
        'dimensions[1].questions[0].show_if.question: show_if refers to a later question ("O2"); '
        "it may only use earlier ones",
        'levels[1].when[1].count.tag: no question carries the tag "scenes"',
    ]


def test_validate_framework_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate_framework", "/nonexistent/fw.yaml")
    assert (code, out, err) == (2, "", ["/nonexistent/fw.yaml: file not found"])


def test_validate_framework_without_a_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate_framework")
    assert code == 2 and out == ""
    assert err == ["validate_framework: the following arguments are required: FILE"]


# --- score_answers ---------------------------------------------------------------------------


def test_score_answers_prints_the_contract_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answers = {
        "firm": "ignored",
        "answers": EXAMPLE_ANSWERS,
    }
    code, out, err = run(capsys, "score_answers", str(EXAMPLE), answers_file(tmp_path, answers))
    assert (code, err) == (0, [])
    assert json.loads(out) == EXAMPLE_RESULT


def test_score_answers_lists_every_invalid_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answers = {"answers": {"B1": 150, "B2": ["none", "policy"], "B3": 1, "O1": "2"}}
    code, out, err = run(capsys, "score_answers", str(EXAMPLE), answers_file(tmp_path, answers))
    assert code == 2 and out == ""
    assert err == [
        "answers.B1: must be between 0 and 100, got 150",
        'answers.B2: option "none" cannot be combined with other options',
        "answers.B3: unknown question",
        'answers.O1: must be one of 0, 1, 2, got "2"',
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", 'must be a JSON object such as {"answers": {...}}'),
        ('{"firm": "x"}', 'has no "answers" key'),
        (
            "{not json",
            "line 1, column 2: invalid JSON (Expecting property name enclosed in double quotes)",
        ),
        ("", "line 1, column 1: invalid JSON (Expecting value)"),
    ],
)
def test_score_answers_rejects_a_bad_answers_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, problem: str
) -> None:
    path = answers_file(tmp_path, content)
    code, out, err = run(capsys, "score_answers", str(EXAMPLE), path)
    assert (code, out, err) == (2, "", [f"{path}: {problem}"])


def test_score_answers_rejects_answers_that_are_not_an_object(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = answers_file(tmp_path, {"answers": ["B1"]})
    code, out, err = run(capsys, "score_answers", str(EXAMPLE), path)
    assert (code, out, err) == (
        2,
        "",
        ["answers: must be an object mapping question codes to answers"],
    )


def test_score_answers_missing_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    assert run(capsys, "score_answers", str(EXAMPLE), missing) == (
        2,
        "",
        [f"{missing}: file not found"],
    )
    assert run(capsys, "score_answers", str(tmp_path / "fw.yaml"), missing) == (
        2,
        "",
        [f"{tmp_path / 'fw.yaml'}: file not found"],
    )


def test_score_answers_with_an_invalid_framework(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "score_answers", str(BROKEN), answers_file(tmp_path, {"answers": {}})
    )
    assert code == 2 and out == "" and len(err) == 7


def test_score_answers_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "score_answers", str(EXAMPLE))
    assert (code, out) == (2, "")
    assert err == ["score_answers: the following arguments are required: ANSWERS_FILE"]


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gradient.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_real_command_line_exits_2_without_traceback(tmp_path: Path) -> None:
    answers = answers_file(tmp_path, {"answers": {"B2": ["x"]}})
    done = _manage("score_answers", str(EXAMPLE), answers)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        'answers.B2: option "x" is not one of policy, firewall, none'
    ]
    done = _manage("score_answers", "--no-such-flag", str(EXAMPLE), answers)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    done = _manage("score_answers", str(EXAMPLE), str(tmp_path))  # a directory
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path}: is a directory, not a file"]


def test_the_real_command_line_prints_json_and_exits_0(tmp_path: Path) -> None:
    done = _manage("score_answers", str(EXAMPLE), answers_file(tmp_path, {"answers": {}}))
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["next_level"] == {
        "code": "L1",
        "unmet": [{"condition": {"score": 20}, "actual": 0.0}],
    }


# --- load_frameworks -------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_frameworks_loads_the_builtins_and_files_idempotently(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assessments.framework import builtin_framework_paths, load_framework_file

    builtins = [load_framework_file(p) for p in builtin_framework_paths()]
    code, out, err = run(capsys, "load_frameworks", str(EXAMPLE))
    assert (code, err) == (0, [])
    names = [f"{fw.slug} {fw.version}" for fw in builtins] + ["demo 1"]
    assert out.splitlines() == [f"{name}: created" for name in names]
    assert FrameworkVersion.objects.published().count() == len(names)
    code, out, err = run(capsys, "load_frameworks", str(EXAMPLE))
    assert out.splitlines() == [f"{name}: unchanged" for name in names]


@pytest.mark.django_db
def test_load_frameworks_is_all_or_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "load_frameworks", "--no-builtins", str(EXAMPLE), str(BROKEN))
    assert code == 2 and out == ""
    assert err[0] == (
        f'{BROKEN}: version: must be a string, got a number (2024); put it in quotes, e.g. "2024"'
    )
    assert err[-1] == "nothing was loaded"
    assert not FrameworkVersion.objects.exists()


@pytest.mark.django_db
def test_load_frameworks_refuses_to_change_a_published_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "load_frameworks", "--no-builtins", str(EXAMPLE))[0] == 0
    changed = tmp_path / "demo-changed.yaml"
    changed.write_text(EXAMPLE.read_text("utf-8").replace("weight: 60", "weight: 70"), "utf-8")
    other = tmp_path / "other.yaml"
    other.write_text(EXAMPLE.read_text("utf-8").replace("framework: demo", "framework: other"))
    code, out, err = run(capsys, "load_frameworks", "--no-builtins", str(other), str(changed))
    assert code == 2 and out == ""
    assert err == [
        f"{changed}: demo 1 is published and its content differs; publish a new version instead",
        "nothing was loaded",
    ]
    assert not FrameworkVersion.objects.filter(framework__slug="other").exists()


@pytest.mark.django_db
def test_load_frameworks_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "load_frameworks", "/nonexistent.yaml")
    assert (code, out, err) == (2, "", ["/nonexistent.yaml: file not found", "nothing was loaded"])


@pytest.mark.django_db
def test_load_frameworks_as_drafts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "load_frameworks", "--no-builtins", "--draft", str(EXAMPLE))
    assert (code, out.strip()) == (0, "demo 1: created")
    assert FrameworkVersion.objects.get().status == FrameworkVersion.Status.DRAFT
