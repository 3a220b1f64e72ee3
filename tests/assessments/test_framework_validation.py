"""Tier 1: every validation rule of FRAMEWORK_FORMAT.md, each problem named by its path."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from assessments.framework import (
    FrameworkError,
    builtin_framework_paths,
    load_framework_file,
    parse_framework,
    text,
)
from tests.assessments.engine_fixtures import FIXTURES, base, opt, question


def problems_of(data: object) -> list[str]:
    with pytest.raises(FrameworkError) as info:
        parse_framework(data)
    return info.value.problems


def _set(path: list, value: object) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _del(path: list) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _q(code: str, key: str, value: object) -> Callable[[dict], None]:
    return lambda data: question(data, code).__setitem__(key, value)


def _q_del(code: str, key: str) -> Callable[[dict], None]:
    return lambda data: question(data, code).pop(key)


D0 = "dimensions[0]"
S = f"{D0}.questions[0]"  # single
M = f"{D0}.questions[1]"  # multi
Y = f"{D0}.questions[2]"  # yesno
N = f"{D0}.questions[3]"  # number
L = "dimensions[1].questions[0]"  # level
T = "dimensions[1].questions[1]"  # text
C = "dimensions[1].questions[2]"  # yesno with show_if

CASES: list[tuple[str, Callable[[dict], None], str]] = [
    # keys: missing, wrong type, unknown
    ("missing format", _del(["format"]), "format: required key is missing"),
    ("missing dimensions", _del(["dimensions"]), "dimensions: required key is missing"),
    ("missing weight", _del(["dimensions", 0, "weight"]), f"{D0}.weight: required key is missing"),
    ("unknown top key", _set(["colour"], "red"), "colour: unknown key"),
    (
        "typo in a key",
        lambda d: d["dimensions"][0].__setitem__("wieght", 1),
        f"{D0}.wieght: unknown key",
    ),
    ("format is 1", _set(["format"], 2), "format: must be 1, got 2"),
    (
        "slug pattern",
        _set(["framework"], "Bad Slug"),
        'framework: "Bad Slug" is not allowed: use only [a-z0-9-]+',
    ),
    (
        "version as a number",
        _set(["version"], 2024),
        'version: must be a string, got a number (2024); put it in quotes, e.g. "2024"',
    ),
    (
        "version 1.10 read as 1.1",
        _set(["version"], 1.1),
        'version: must be a string, got a number (1.1); put it in quotes, e.g. "1.1"',
    ),
    ("languages empty", _set(["languages"], []), "languages: must have at least 1 entry, got 0"),
    (
        "language duplicated",
        _set(["languages"], ["zh-hans", "zh-hans"]),
        'languages[1]: duplicate language "zh-hans"',
    ),
    (
        "weight not a number",
        _set(["dimensions", 0, "weight"], "1"),
        f'{D0}.weight: must be a number, got a string ("1"); write numbers without quotes, '
        "using a decimal point (e.g. 1000 or 2.5)",
    ),
    (
        "required not a boolean",
        _q("S", "required", "no"),
        f'{S}.required: must be true or false, got a string ("no")',
    ),
    (
        "tags not a list",
        _q("L", "tags", "scene"),
        f'{L}.tags: must be a list, got a string ("scene")',
    ),
    ("tag duplicated", _q("L", "tags", ["scene", "scene"]), f'{L}.tags[1]: duplicate tag "scene"'),
    ("dimensions empty", _set(["dimensions"], []), "dimensions: must have at least 1 entry, got 0"),
    (
        "questions empty",
        _set(["dimensions", 0, "questions"], []),
        f"{D0}.questions: must have at least 1 entry, got 0",
    ),
    ("levels empty", _set(["levels"], []), "levels: must have at least 1 entry, got 0"),
    ("root not a mapping", lambda d: None, ""),  # replaced below
    # texts and languages
    (
        "text missing a language",
        _set(["title"], {"zh-hans": "测试"}),
        'title: missing language "en"',
    ),
    (
        "text with an unknown language",
        _set(["title"], {"zh-hans": "测", "en": "T", "fr": "T"}),
        "title.fr: unknown language (the file's languages are zh-hans, en)",
    ),
    (
        "text value read as a boolean",
        _set(["dimensions", 0, "title"], {"zh-hans": "是", "en": True}),
        f"{D0}.title.en: must be a string, got a boolean (true); YAML reads unquoted yes, no, on, "
        "off, true and false as booleans, so put it in quotes",
    ),
    ("text empty", _q("S", "text", " "), f"{S}.text: must not be empty"),
    (
        "option text missing a language",
        _set(["dimensions", 0, "questions", 0, "options", 1, "text"], {"en": "B"}),
        f'{S}.options[1].text: missing language "zh-hans"',
    ),
    # duplicates
    (
        "duplicate dimension code",
        _set(["dimensions", 1, "code"], "d1"),
        'dimensions[1].code: duplicate dimension code "d1"',
    ),
    (
        "duplicate question code across dimensions",
        _q("L", "code", "S"),
        f'{L}.code: duplicate question code "S"',
    ),
    (
        "duplicate option code",
        _set(["dimensions", 0, "questions", 0, "options", 2, "code"], "a"),
        f'{S}.options[2].code: duplicate option code "a"',
    ),
    (
        "duplicate level code",
        _set(["levels", 1, "code"], "L1"),
        'levels[1].code: duplicate level code "L1"',
    ),
    (
        "code pattern",
        _q("S", "code", "S 1"),
        f'{S}.code: "S 1" is not allowed: use only [A-Za-z0-9._-]+',
    ),
    # bands of the framework
    (
        "bands names a missing level",
        _set(["bands", "advanced"], "L9"),
        'bands.advanced: level "L9" does not exist',
    ),
    (
        "advanced below basic",
        _set(["bands"], {"basic": "L2", "advanced": "L1"}),
        'bands.advanced: level "L1" is below the basic level "L2"',
    ),
    ("bands unknown key", _set(["bands", "expert"], "L2"), "bands.expert: unknown key"),
    # question types and their keys
    (
        "unknown type",
        _q("S", "type", "choice"),
        f'{S}.type: must be one of single, multi, yesno, number, level, text, got "choice"',
    ),
    ("points required for single", _q_del("S", "points"), f"{S}.points: required key is missing"),
    ("points required for yesno", _q_del("Y", "points"), f"{Y}.points: required key is missing"),
    ("points required for number", _q_del("N", "points"), f"{N}.points: required key is missing"),
    (
        "points forbidden for level",
        _q("L", "points", 3),
        f"{L}.points: not allowed for a level question (it earns no points)",
    ),
    (
        "points forbidden for text",
        _q("T", "points", 1),
        f"{T}.points: not allowed for a text question (it earns no points)",
    ),
    (
        "options forbidden for yesno",
        _q("Y", "options", []),
        f"{Y}.options: not allowed for a yesno question",
    ),
    (
        "bands forbidden for single",
        _q("S", "bands", []),
        f"{S}.bands: not allowed for a single question",
    ),
    ("options required for multi", _q_del("M", "options"), f"{M}.options: required key is missing"),
    ("bands required for number", _q_del("N", "bands"), f"{N}.bands: required key is missing"),
    ("levels required for level", _q_del("L", "levels"), f"{L}.levels: required key is missing"),
    (
        "at least two options",
        _q("S", "options", [opt("a", 1)]),
        f"{S}.options: must have at least 2 entries, got 1",
    ),
    (
        "exclusive only on multi",
        lambda d: question(d, "S")["options"][0].__setitem__("exclusive", True),
        f"{S}.options[0].exclusive: only a multi question can have an exclusive option",
    ),
    (
        "exclusive must be a boolean",
        lambda d: question(d, "M")["options"][2].__setitem__("exclusive", "yes"),
        f'{M}.options[2].exclusive: must be true or false, got a string ("yes")',
    ),
    ("max_length positive", _q("T", "max_length", 0), f"{T}.max_length: must be at least 1, got 0"),
    (
        "integer must be a boolean",
        _q("N", "integer", 1),
        f"{N}.integer: must be true or false, got a number (1)",
    ),
    ("min above max", _q("N", "min", 200), f"{N}.max: must not be below min 200"),
    # points
    ("negative question points", _q("S", "points", -1), f"{S}.points: must be at least 0, got -1"),
    (
        "negative weight",
        _set(["dimensions", 0, "weight"], -1),
        f"{D0}.weight: must be at least 0, got -1",
    ),
    (
        "negative option points",
        lambda d: question(d, "S")["options"][0].__setitem__("points", -1),
        f"{S}.options[0].points: must be at least 0, got -1",
    ),
    (
        "option above question points",
        lambda d: question(d, "S")["options"][2].__setitem__("points", 5),
        f"{S}.options[2].points: exceeds question points 4",
    ),
    (
        "multi option above question points",
        lambda d: question(d, "M")["options"][0].__setitem__("points", 3.5),
        f"{M}.options[0].points: exceeds question points 3",
    ),
    (
        "band above question points",
        lambda d: question(d, "N")["bands"][2].__setitem__("points", 6),
        f"{N}.bands[2].points: exceeds question points 5",
    ),
    (
        "negative band points",
        lambda d: question(d, "N")["bands"][0].__setitem__("points", -0.5),
        f"{N}.bands[0].points: must be at least 0, got -0.5",
    ),
    ("infinite points", _q("S", "points", float("inf")), f"{S}.points: must be a finite number"),
    # number bands
    (
        "bands not rising",
        lambda d: question(d, "N")["bands"][1].__setitem__("upto", 5),
        f"{N}.bands[1].upto: must be above the previous band's upto 10 (bands must rise strictly)",
    ),
    (
        "bands equal upto",
        lambda d: question(d, "N")["bands"][1].__setitem__("upto", 10),
        f"{N}.bands[1].upto: must be above the previous band's upto 10 (bands must rise strictly)",
    ),
    (
        "only the last band may omit upto",
        lambda d: question(d, "N")["bands"][0].pop("upto"),
        f"{N}.bands[0].upto: required key is missing",
    ),
    # level choices
    (
        "level values not rising",
        lambda d: question(d, "L")["levels"][2].__setitem__("value", 1),
        f"{L}.levels[2].value: must be above the previous value 1 (values must rise strictly)",
    ),
    (
        "level value not an integer",
        lambda d: question(d, "L")["levels"][1].__setitem__("value", 1.5),
        f"{L}.levels[1].value: must be a whole number, got a number (1.5)",
    ),
    # conditions
    (
        "show_if on itself",
        _q("C", "show_if", {"question": "C", "in": [True]}),
        f'{C}.show_if.question: show_if refers to the question itself ("C")',
    ),
    (
        "show_if on a later question",
        _q("S", "show_if", {"question": "Y", "in": [True]}),
        f'{S}.show_if.question: show_if refers to a later question ("Y"); it may only use '
        "earlier ones",
    ),
    (
        "show_if on a later question, nested",
        _q("S", "show_if", {"any": [{"question": "C", "in": [True]}]}),
        f'{S}.show_if.any[0].question: show_if refers to a later question ("C"); it may only use '
        "earlier ones",
    ),
    (
        "show_if on an unknown question",
        _q("C", "show_if", {"question": "ZZ", "in": [True]}),
        f'{C}.show_if.question: question "ZZ" does not exist',
    ),
    (
        "score only in when",
        _q("C", "show_if", {"score": 50}),
        f"{C}.show_if: a score condition is only allowed in a level's when",
    ),
    (
        "count only in when",
        _q("C", "show_if", {"count": {"tag": "scene", "min_attainment": 1, "at_least": 1}}),
        f"{C}.show_if: a count condition is only allowed in a level's when",
    ),
    (
        "dimension only in when",
        _q("C", "show_if", {"dimension": "d1", "min": 1}),
        f"{C}.show_if: a dimension condition is only allowed in a level's when",
    ),
    (
        "in for yesno must be booleans",
        _q("C", "show_if", {"question": "Y", "in": ["yes"]}),
        f'{C}.show_if.in[0]: "Y" is a yesno question: use true or false, got a string ("yes")',
    ),
    (
        "in for single must be option codes",
        _q("C", "show_if", {"question": "S", "in": ["q"]}),
        f'{C}.show_if.in[0]: option "q" is not one of a, b, c (question "S")',
    ),
    (
        "in for multi: a boolean read from YAML",
        _q("C", "show_if", {"question": "M", "in": [False]}),
        f'{C}.show_if.in[0]: must be an option code of "M", got a boolean (false); YAML reads '
        "unquoted yes, no, on, off, true and false as booleans, so put it in quotes",
    ),
    (
        "in for number must be numbers",
        _q("C", "show_if", {"question": "N", "in": ["5"]}),
        f'{C}.show_if.in[0]: "N" is a number question: use numbers, got a string ("5")',
    ),
    (
        "in for level must be its values",
        _q("C", "show_if", {"question": "L", "in": [3]}),
        f'{C}.show_if.in[0]: 3 is not one of the values 0, 1, 2 of "L"',
    ),
    (
        "in for text must be strings",
        _q("C", "show_if", {"question": "T", "in": [1]}),
        f'{C}.show_if.in[0]: "T" is a text question: use strings, got a number (1)',
    ),
    (
        "in must not be empty",
        _q("C", "show_if", {"question": "S", "in": []}),
        f"{C}.show_if.in: must have at least 1 entry, got 0",
    ),
    (
        "min only for number and level",
        _q("C", "show_if", {"question": "S", "min": 1}),
        f'{C}.show_if.min: only number and level questions can be compared, "S" is single',
    ),
    (
        "question condition without in or min/max",
        _q("C", "show_if", {"question": "S"}),
        f"{C}.show_if: a question condition needs in, or min and/or max",
    ),
    (
        "in and min together",
        _q("C", "show_if", {"question": "N", "in": [1], "min": 0}),
        f"{C}.show_if.min: use either in or min/max, not both",
    ),
    (
        "unknown condition",
        _set(["levels", 0, "when"], [{"scroe": 20}]),
        'levels[0].when[0]: unknown condition ("scroe"); expected one of question, all, any, '
        "score, dimension or count",
    ),
    (
        "condition not a mapping",
        _set(["levels", 0, "when"], ["score 20"]),
        'levels[0].when[0]: a condition must be a mapping, got a string ("score 20")',
    ),
    (
        "all must not be empty",
        _set(["levels", 0, "when"], [{"all": []}]),
        "levels[0].when[0].all: must have at least 1 entry, got 0",
    ),
    (
        "unknown key next to score",
        _set(["levels", 0, "when"], [{"score": 20, "min": 1}]),
        "levels[0].when[0].min: unknown key",
    ),
    (
        "score negative",
        _set(["levels", 0, "when"], [{"score": -1}]),
        "levels[0].when[0].score: must be at least 0, got -1",
    ),
    (
        "when names an unknown dimension",
        _set(["levels", 0, "when"], [{"dimension": "zz", "min": 1}]),
        'levels[0].when[0].dimension: dimension "zz" does not exist',
    ),
    (
        "dimension condition needs min",
        _set(["levels", 0, "when"], [{"dimension": "d1"}]),
        "levels[0].when[0].min: required key is missing",
    ),
    (
        "when names an unknown question",
        _set(["levels", 0, "when"], [{"question": "ZZ", "min": 1}]),
        'levels[0].when[0].question: question "ZZ" does not exist',
    ),
    (
        "count by an unknown tag",
        _set(["levels", 1, "when", 1, "count", "tag"], "scenes"),
        'levels[1].when[1].count.tag: no question carries the tag "scenes"',
    ),
    (
        "count by an unknown dimension",
        _set(
            ["levels", 1, "when", 1, "count"],
            {"dimension": "zz", "min_attainment": 1, "at_least": 1},
        ),
        'levels[1].when[1].count.dimension: dimension "zz" does not exist',
    ),
    (
        "count by tag and dimension",
        _set(["levels", 1, "when", 1, "count", "dimension"], "d1"),
        "levels[1].when[1].count.dimension: give either tag or dimension, not both",
    ),
    (
        "count needs at_least",
        _del(["levels", 1, "when", 1, "count", "at_least"]),
        "levels[1].when[1].count.at_least: required key is missing",
    ),
    (
        "count at_least whole",
        _set(["levels", 1, "when", 1, "count", "at_least"], 1.5),
        "levels[1].when[1].count.at_least: must be a whole number, got a number (1.5)",
    ),
    (
        "count unknown key",
        _set(["levels", 1, "when", 1, "count", "min"], 1),
        "levels[1].when[1].count.min: unknown key",
    ),
]
CASES = [c for c in CASES if c[0] != "root not a mapping"]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_is_reported_with_its_path(mutate: Callable[[dict], None], expected: str) -> None:
    data = base()
    mutate(data)
    assert expected in problems_of(data)


def test_the_base_fixture_is_valid() -> None:
    fw = parse_framework(base())
    assert [q.code for q in fw.questions] == ["S", "M", "Y", "N", "L", "T", "C"]
    assert fw.question("N").bands[2].upto is None
    assert fw.question("M").options[2].exclusive is True
    assert fw.question("T").max_length == 10
    assert fw.question("S").max_length == 2000
    assert fw.level_rank(None) == -1
    assert fw.level_rank("L2") == 1


def test_every_problem_is_collected_at_once() -> None:
    data = base()
    data["version"] = 2024
    data["dimensions"][0]["wieght"] = 1
    question(data, "S")["options"][2]["points"] = 5
    data["bands"]["basic"] = "L9"
    problems = problems_of(data)
    assert 'version: must be a string, got a number (2024); put it in quotes, e.g. "2024"' in (
        problems
    )
    assert f"{D0}.wieght: unknown key" in problems
    assert f"{S}.options[2].points: exceeds question points 4" in problems
    assert 'bands.basic: level "L9" does not exist' in problems
    assert len(problems) == 4


def test_non_finite_numbers_are_rejected_in_conditions() -> None:
    data = base()
    question(data, "C")["show_if"] = {"question": "N", "in": [float("nan")]}
    assert f"{C}.show_if.in[0]: must be a finite number" in problems_of(data)


def test_absurdly_deep_conditions_are_a_problem_not_a_crash() -> None:
    condition: dict = {"score": 1}
    for _ in range(5000):
        condition = {"all": [condition]}
    data = base()
    data["levels"][0]["when"] = [condition]
    assert problems_of(data) == ["top level: nested too deeply"]


def test_the_top_level_must_be_a_mapping() -> None:
    assert problems_of(["format", 1]) == ["top level: must be a mapping, got a list"]
    assert problems_of(None) == ["top level: must be a mapping, got null"]


def test_a_plain_string_text_covers_every_language() -> None:
    fw = parse_framework(base())
    assert fw.dimension("d1").title == {"zh-hans": "D1", "en": "D1"}
    assert text(fw.title, "en") == "Test framework"
    assert text(fw.title, "zh-hans") == "测试框架"
    assert text(fw.title, "de") == "测试框架"  # falls back to the default (first) language
    assert text(fw.title, "en-us") == "Test framework"


def test_numbers_become_exact_decimals() -> None:
    data = base()
    question(data, "M")["options"][0]["points"] = 0.1
    fw = parse_framework(data)
    assert fw.question("M").options[0].points == Decimal("0.1")
    assert fw.dimension("d1").weight == Decimal(1)


def test_a_when_may_be_missing_or_empty() -> None:
    data = base()
    data["levels"][0].pop("when")
    data["levels"][1]["when"] = []
    fw = parse_framework(data)
    assert fw.levels[0].when == () and fw.levels[1].when == ()


def test_definition_is_json_safe_and_round_trips() -> None:
    fw = parse_framework(base())
    again = parse_framework(json.loads(json.dumps(fw.definition)))
    assert again == fw


# --- Files: YAML quirks, syntax, JSON ---------------------------------------------------------


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


EXAMPLE = (FIXTURES / "example.yaml").read_text(encoding="utf-8")


def test_the_contracts_example_file_is_valid() -> None:
    fw = load_framework_file(FIXTURES / "example.yaml")
    assert (fw.slug, fw.version, fw.languages) == ("demo", "1", ("zh-hans", "en"))
    assert [d.code for d in fw.dimensions] == ["base", "ops"]
    assert fw.question("O3").show_if == {"question": "O2", "in": [True]}
    assert fw.question("O1").levels[0].text == {"zh-hans": "未开展", "en": "未开展"}


def test_yaml_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", EXAMPLE.replace("weight: 60", "weight: 60\n    weight: 6"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    [problem] = info.value.problems
    assert problem.startswith("line 19, column 5: ") and 'duplicate key "weight"' in problem


def test_unquoted_yaml_version_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "v.yaml", EXAMPLE.replace('version: "1"', "version: 1.10"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        'version: must be a string, got a number (1.1); put it in quotes, e.g. "1.1"'
    ]


def test_unquoted_yaml_no_as_an_option_code_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "no.yaml", EXAMPLE.replace("{code: none,", "{code: no,"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        "dimensions[0].questions[1].options[2].code: must be a string, got a boolean (false); "
        "YAML reads unquoted yes, no, on, off, true and false as booleans, so put it in quotes"
    ]


def test_unquoted_yaml_on_as_a_key_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, "on.yaml", EXAMPLE.replace("    weight: 60", "    weight: 60\n    on: 1")
    )
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        "dimensions[0].true: a key must be a string, got a boolean (true); YAML reads unquoted "
        "yes, no, on, off, true and false as booleans, so put it in quotes"
    ]


def test_unquoted_yaml_yes_in_a_text_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "yes.yaml", EXAMPLE.replace("en: Demo framework", "en: yes"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        "title.en: must be a string, got a boolean (true); YAML reads unquoted yes, no, on, off, "
        "true and false as booleans, so put it in quotes"
    ]


@pytest.mark.parametrize("written", ["010", "1:30", "1_000", "0x10"])
def test_yaml_1_1_number_forms_are_not_silently_converted(tmp_path: Path, written: str) -> None:
    # YAML 1.1 would read 010 as 8, 1:30 as 90, 1_000 as 1000 and 0x10 as 16.
    path = write(tmp_path, "n.yaml", EXAMPLE.replace("max: 100", f"max: {written}"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        f'dimensions[0].questions[0].max: must be a number, got a string ("{written}"); write '
        "numbers without quotes, using a decimal point (e.g. 1000 or 2.5)"
    ]


def test_yaml_leading_zero_codes_stay_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", EXAMPLE.replace("{code: policy,", "{code: 010,"))
    fw = load_framework_file(path)
    assert fw.question("B2").options[0].code == "010"


def test_yaml_decimal_numbers_still_read_as_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", EXAMPLE.replace("max: 100", "max: 1.5e2"))
    assert load_framework_file(path).question("B1").max == Decimal(150)


def test_yaml_dates_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", EXAMPLE.replace('version: "1"', "version: 2024-09-04"))
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    assert info.value.problems == [
        "version: must be a string, got a date (2024-09-04); YAML reads an unquoted date as a "
        "date, so put it in quotes"
    ]


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "format: 1\nframework: [demo\n")
    with pytest.raises(FrameworkError) as info:
        load_framework_file(path)
    [problem] = info.value.problems
    assert problem.startswith("line 3, column 1: ")


def test_json_files_are_read_as_json(tmp_path: Path) -> None:
    path = write(tmp_path, "fw.json", json.dumps(base()))
    assert load_framework_file(path).slug == "test"
    bad = write(tmp_path, "bad.json", '{"format": 1,}')
    with pytest.raises(FrameworkError) as info:
        load_framework_file(bad)
    assert info.value.problems == [
        "line 1, column 14: invalid JSON (Expecting property name enclosed in double quotes)"
    ]


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError) as info:
        load_framework_file(tmp_path / "nope.yaml")
    assert info.value.problems == [f"{tmp_path / 'nope.yaml'}: file not found"]
    with pytest.raises(FrameworkError) as info:
        load_framework_file(tmp_path)
    assert info.value.problems == [f"{tmp_path}: is a directory, not a file"]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FrameworkError) as info:
        load_framework_file(binary)
    assert info.value.problems == [f"{binary}: not UTF-8 text (byte 0 cannot be decoded)"]


def test_an_empty_file_is_not_a_framework(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError) as info:
        load_framework_file(write(tmp_path, "empty.yaml", ""))
    assert info.value.problems == ["top level: must be a mapping, got null"]


@pytest.mark.parametrize("path", builtin_framework_paths(), ids=lambda p: p.name)
def test_the_builtin_frameworks_validate(path: Path) -> None:
    fw = load_framework_file(path)
    assert set(fw.languages) >= {"zh-hans", "en"}
    assert fw.source


def test_builtin_paths_are_sorted_yaml_files() -> None:
    paths = builtin_framework_paths()
    assert paths == sorted(paths)
    assert all(p.suffix == ".yaml" and p.parent.name == "frameworks" for p in paths)
