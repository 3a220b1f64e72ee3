"""Tier 1: every scoring rule of FRAMEWORK_FORMAT.md, on hand-computed answers (no database)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from assessments.framework import load_framework_file, parse_framework
from assessments.scoring import (
    AnswerError,
    NextLevel,
    Result,
    Unmet,
    applicable,
    check_answer,
    check_answers,
    evaluate,
    missing_required,
    score,
)
from tests.assessments.engine_fixtures import (
    EXAMPLE_ANSWERS,
    EXAMPLE_RESULT,
    FIXTURES,
    base,
    one_dimension,
    opt,
    question,
)

FW = parse_framework(base())
D = Decimal


def single(code: str, points: object, *options: tuple[str, object], **extra: object) -> dict:
    return {
        "code": code,
        "type": "single",
        "text": code,
        "points": points,
        "options": [opt(c, p) for c, p in options],
        **extra,
    }


def yesno(code: str, points: object = 1, **extra: object) -> dict:
    return {"code": code, "type": "yesno", "text": code, "points": points, **extra}


# --- Earned points per type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "earned"),
    [("a", D(0)), ("b", D(2)), ("c", D(4))],
)
def test_single_earns_the_chosen_options_points(answer: str, earned: Decimal) -> None:
    assert score(FW, {"S": answer}).earned["S"] == earned


@pytest.mark.parametrize(
    ("answer", "earned"),
    [
        ([], D(0)),
        (["x"], D(2)),
        (["y"], D(2)),
        (["x", "y"], D(3)),  # 2 + 2 = 4, capped at the question's 3 points
        (["n"], D(0)),
    ],
)
def test_multi_earns_the_sum_capped_at_points(answer: list, earned: Decimal) -> None:
    assert score(FW, {"M": answer}).earned["M"] == earned


def test_an_exclusive_option_cannot_be_combined() -> None:
    with pytest.raises(AnswerError) as info:
        score(FW, {"M": ["x", "n"]})
    assert info.value.problems == ['answers.M: option "n" cannot be combined with other options']
    assert score(FW, {"M": ["n"]}).earned["M"] == 0


@pytest.mark.parametrize(("answer", "earned"), [(True, D(2)), (False, D(0))])
def test_yesno_earns_points_for_true(answer: bool, earned: Decimal) -> None:
    assert score(FW, {"Y": answer}).earned["Y"] == earned


@pytest.mark.parametrize(
    ("answer", "earned"),
    [
        (0, D(0)),
        (10, D(0)),  # upto is inclusive
        (10.001, D(3)),
        (40, D(3)),
        (50, D(3)),
        (50.0, D(3)),
        (50.5, D(5)),  # the last band has no upper bound
        (100, D(5)),
    ],
)
def test_number_earns_the_first_band_whose_upto_is_at_least_the_answer(
    answer: float, earned: Decimal
) -> None:
    assert score(FW, {"N": answer}).earned["N"] == earned


def test_a_number_above_every_band_earns_zero() -> None:
    data = base()
    question(data, "N")["bands"] = [{"upto": 10, "points": 1}, {"upto": 20, "points": 5}]
    assert score(parse_framework(data), {"N": 20.5}).earned["N"] == 0
    assert score(parse_framework(data), {"N": 20}).earned["N"] == 5


def test_unanswered_applicable_scored_questions_earn_zero_and_count_in_the_denominator() -> None:
    result = score(FW, {"S": "c"})
    assert result.earned == {"S": D(4), "M": D(0), "Y": D(0), "N": D(0)}
    assert result.dimensions["d1"] == D("28.57")  # 4 / 14
    assert "M" not in result.attainment  # unanswered: no attainment


def test_decimals_are_exact_not_binary_floats() -> None:
    data = one_dimension(
        {
            "code": "Q",
            "type": "multi",
            "text": "q",
            "points": 0.3,
            "options": [opt("a", 0.1), opt("b", 0.2)],
        },
        {
            "code": "N",
            "type": "number",
            "text": "n",
            "points": 1,
            "bands": [{"upto": 0.1, "points": 1}, {"points": 0}],
        },
    )
    fw = parse_framework(data)
    result = score(fw, {"Q": ["a", "b"], "N": 0.1})
    assert result.earned["Q"] == D("0.3")  # 0.1 + 0.2 == 0.3 exactly
    assert result.earned["N"] == 1  # 0.1 <= 0.1 exactly
    assert result.dimensions["d"] == D("100.00")


# --- Attainment ------------------------------------------------------------------------------


def test_attainment_per_question_type() -> None:
    result = score(FW, {"S": "b", "M": ["x"], "Y": True, "N": 5, "L": 2, "T": "notes", "C": False})
    assert result.attainment == {
        "S": D("0.5"),
        "M": D("0.666667"),  # 2/3, shown to 6 decimals; comparisons use the exact ratio
        "Y": D(1),
        "N": D(0),
        "L": D(2),  # a level question's attainment is its value
        "C": D(0),
    }
    assert "T" not in result.attainment  # text questions have none


def test_a_zero_point_question_has_attainment_zero() -> None:
    fw = parse_framework(one_dimension(yesno("Z", 0), yesno("A", 1)))
    assert score(fw, {"Z": True, "A": True}).attainment["Z"] == 0


# --- Applicability ---------------------------------------------------------------------------


def test_show_if_excludes_the_question_from_the_denominator() -> None:
    shown = score(FW, {"Y": True, "C": False})
    hidden = score(FW, {"Y": False, "C": True})
    assert "C" in shown.applicable and shown.dimensions["d2"] == D("0.00")
    assert "C" not in hidden.applicable
    # d2's only scored question does not apply, so S_d2 is undefined rather than 0 or 100
    assert hidden.dimensions["d2"] is None


def test_answers_to_questions_that_do_not_apply_are_ignored() -> None:
    with_answer = score(FW, {"S": "c", "Y": False, "C": True})
    without = score(FW, {"S": "c", "Y": False})
    assert with_answer == without
    assert "C" not in with_answer.earned and "C" not in with_answer.attainment


def test_a_question_shown_by_an_unanswered_question_does_not_apply() -> None:
    assert "C" not in applicable(FW, {})
    assert "C" in applicable(FW, {"Y": True})


def test_show_if_chains_through_questions_that_do_not_apply() -> None:
    data = base()
    question(data, "T")["show_if"] = {"question": "L", "min": 1}
    question(data, "C")["show_if"] = {"question": "T", "in": ["go"]}
    fw = parse_framework(data)
    # T does not apply (L is 0), so its answer is ignored, and C, which depends on T, neither.
    assert applicable(fw, {"L": 0, "T": "go"}) == frozenset({"S", "M", "Y", "N", "L"})
    assert applicable(fw, {"L": 1, "T": "go"}) >= {"T", "C"}


def test_missing_required_lists_applicable_required_unanswered_in_file_order() -> None:
    assert missing_required(FW, {}) == ["S", "M", "Y", "N", "L"]  # T optional, C not shown
    assert missing_required(FW, {"Y": True, "S": "a"}) == ["M", "N", "L", "C"]
    assert missing_required(FW, {"S": "a", "M": [], "Y": False, "N": 1, "L": 0}) == []


# --- Dimension scores, rounding and the total ------------------------------------------------


def test_dimension_and_total_by_hand() -> None:
    # d1: S 4 + M min(3, 4) + Y 2 + N 3 = 12 of 14 -> 85.714.. -> 85.71; d2: C 1 of 1 -> 100.00
    # T = (85.71 + 100.00) / 2 = 92.855 -> 92.86 (half-up)
    result = score(FW, {"S": "c", "M": ["x", "y"], "Y": True, "N": 50, "L": 2, "C": True})
    assert result.dimensions == {"d1": D("85.71"), "d2": D("100.00")}
    assert result.total == D("92.86")


ROUNDING = [
    # option points out of 2000 -> S_d = points / 20
    ("1199.9", "59.995", "60.00", True),  # exactly half: up
    ("1199.899", "59.99495", "59.99", False),
    ("1199.8", "59.99", "59.99", False),
    ("1200", "60", "60.00", True),
    ("0.1", "0.005", "0.01", False),
]


@pytest.mark.parametrize(("points", "exact", "rounded", "meets_60"), ROUNDING)
def test_rounding_half_up_decides_a_threshold(
    points: str, exact: str, rounded: str, meets_60: bool
) -> None:
    levels = [{"code": "L1", "title": "L1", "when": [{"score": 60}, {"dimension": "d", "min": 60}]}]
    fw = parse_framework(
        one_dimension(single("P", 2000, ("lo", 0), ("hi", float(points))), levels=levels)
    )
    assert D(points) * 100 / 2000 == D(exact)
    result = score(fw, {"P": "hi"})
    assert result.dimensions["d"] == D(rounded)
    assert result.total == D(rounded)
    assert (result.level == "L1") is meets_60


def test_total_uses_the_rounded_dimension_scores() -> None:
    data = base()
    data["dimensions"] = [
        {
            "code": "a",
            "title": "A",
            "weight": 1,
            "questions": [single("P", 2000, ("o", 0), ("x", 200.1))],
        },
        {"code": "b", "title": "B", "weight": 1, "questions": [yesno("Q")]},
    ]
    data["levels"] = [{"code": "L1", "title": "L1"}]
    data["bands"] = {"basic": "L1", "advanced": "L1"}
    result = score(parse_framework(data), {"P": "x", "Q": False})
    # S_a = 10.005 -> 10.01; T = (10.01 + 0) / 2 = 5.005 -> 5.01. From unrounded S_a: 5.00.
    assert result.dimensions == {"a": D("10.01"), "b": D("0.00")}
    assert result.total == D("5.01")


def two_dimensions(weight_a: object, weight_b: object) -> dict:
    data = base()
    data["dimensions"] = [
        {"code": "a", "title": "A", "weight": weight_a, "questions": [yesno("P")]},
        {"code": "b", "title": "B", "weight": weight_b, "questions": [yesno("Q", 2)]},
    ]
    data["levels"] = [{"code": "L1", "title": "L1"}]
    data["bands"] = {"basic": "L1", "advanced": "L1"}
    return data


@pytest.mark.parametrize(
    ("weights", "total"),
    [
        ((1, 1), "50.00"),
        ((3, 1), "75.00"),
        ((0, 1), "0.00"),  # weight 0: a is left out of the total
        ((1, 0), "100.00"),
        ((0.5, 0.25), "66.67"),
    ],
)
def test_total_is_the_weighted_mean_of_dimension_scores(weights: tuple, total: str) -> None:
    result = score(parse_framework(two_dimensions(*weights)), {"P": True, "Q": False})
    assert result.dimensions == {"a": D("100.00"), "b": D("0.00")}
    assert result.total == D(total)


def test_weight_zero_dimensions_still_feed_conditions() -> None:
    data = two_dimensions(0, 1)
    data["levels"] = [{"code": "L1", "title": "L1", "when": [{"dimension": "a", "min": 100}]}]
    result = score(parse_framework(data), {"P": True, "Q": False})
    assert result.total == 0 and result.level == "L1"


def test_undefined_dimension_scores_and_a_total_of_zero() -> None:
    data = two_dimensions(1, 1)
    data["dimensions"][0]["questions"] = [yesno("P", 0)]
    data["dimensions"][1]["questions"] = [yesno("Q", 0)]
    result = score(parse_framework(data), {"P": True, "Q": True})
    assert result.dimensions == {"a": None, "b": None}
    assert result.total == D("0.00")  # no dimension qualifies


def test_a_dimension_of_level_and_text_questions_is_undefined() -> None:
    result = score(FW, {"L": 2, "T": "x", "Y": False})
    assert result.dimensions["d2"] is None
    assert result.total == result.dimensions["d1"]  # d2 is left out


# --- Levels ----------------------------------------------------------------------------------


def test_levels_by_hand() -> None:
    assert score(FW, {"S": "c", "M": ["x"], "Y": True, "N": 50, "L": 2, "C": True}).level == "L2"
    # score 60+ but no scene at attainment 1: L2 fails, L1 holds
    result = score(FW, {"S": "c", "M": ["x"], "Y": True, "N": 50, "L": 0, "C": False})
    assert (result.level, result.basic, result.advanced) == ("L1", True, False)


def test_a_level_cannot_be_skipped() -> None:
    levels = [
        {"code": "L1", "title": "L1", "when": [{"question": "A", "in": [True]}]},
        {"code": "L2", "title": "L2", "when": [{"score": 50}]},
    ]
    fw = parse_framework(one_dimension(yesno("A"), yesno("B"), levels=levels))
    result = score(fw, {"A": False, "B": True})
    assert result.total == D("50.00")  # L2's own gate holds...
    assert result.level is None  # ...but L1 fails, so L2 is never reached
    assert result.next_level == NextLevel("L1", (Unmet({"question": "A", "in": [True]}, False),))
    assert score(fw, {"A": True, "B": True}).level == "L2"


def test_an_empty_or_missing_when_always_holds() -> None:
    levels = [{"code": "L0", "title": "L0"}, {"code": "L1", "title": "L1", "when": []}]
    fw = parse_framework(one_dimension(yesno("A"), levels=levels))
    result = score(fw, {})
    assert result.level == "L1" and result.next_level is None


@pytest.mark.parametrize(
    ("level_answers", "level", "basic", "advanced"),
    [
        ({"A": False}, None, False, False),
        ({"A": True, "B": False}, "L1", False, False),
        ({"A": True, "B": True, "C": False}, "L2", True, False),  # at basic
        ({"A": True, "B": True, "C": True, "E": False}, "L3", True, True),  # at advanced
        ({"A": True, "B": True, "C": True, "E": True}, "L4", True, True),  # above both
    ],
)
def test_bands_count_levels_at_or_above_them(
    level_answers: dict, level: str | None, basic: bool, advanced: bool
) -> None:
    codes = ["A", "B", "C", "E"]
    levels = [
        {"code": f"L{i + 1}", "title": f"L{i + 1}", "when": [{"question": c, "in": [True]}]}
        for i, c in enumerate(codes)
    ]
    data = one_dimension(*(yesno(c) for c in codes), levels=levels)
    data["bands"] = {"basic": "L2", "advanced": "L3"}
    result = score(parse_framework(data), level_answers)
    assert (result.level, result.basic, result.advanced) == (level, basic, advanced)


# --- Conditions ------------------------------------------------------------------------------

ANSWERS = {"S": "b", "M": ["x"], "Y": True, "N": 50, "L": 1, "T": "hello", "C": False}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"question": "S", "in": ["b", "c"]}, True),
        ({"question": "S", "in": ["a"]}, False),
        ({"question": "M", "in": ["y", "x"]}, True),  # multi: one chosen option is enough
        ({"question": "M", "in": ["y", "n"]}, False),
        ({"question": "Y", "in": [True]}, True),
        ({"question": "Y", "in": [False]}, False),
        ({"question": "C", "in": [False]}, True),
        ({"question": "N", "in": [50]}, True),
        ({"question": "N", "in": [50.5]}, False),
        ({"question": "N", "min": 50}, True),  # min is inclusive
        ({"question": "N", "min": 50.01}, False),
        ({"question": "N", "max": 50}, True),  # max is inclusive
        ({"question": "N", "max": 49.99}, False),
        ({"question": "N", "min": 10, "max": 60}, True),
        ({"question": "L", "in": [1, 2]}, True),
        ({"question": "L", "min": 2}, False),
        ({"question": "T", "in": ["hello"]}, True),
        ({"all": [{"question": "S", "in": ["b"]}, {"question": "L", "min": 1}]}, True),
        ({"all": [{"question": "S", "in": ["b"]}, {"question": "L", "min": 2}]}, False),
        ({"any": [{"question": "S", "in": ["a"]}, {"question": "L", "min": 1}]}, True),
        ({"any": [{"question": "S", "in": ["a"]}, {"question": "L", "min": 2}]}, False),
    ],
)
def test_question_conditions(condition: dict, holds: bool) -> None:
    assert evaluate(condition, FW, ANSWERS) is holds


def test_a_condition_on_an_unanswered_or_hidden_question_does_not_hold() -> None:
    assert evaluate({"question": "N", "min": 0}, FW, {}) is False
    assert evaluate({"question": "N", "max": 100}, FW, {"N": None}) is False
    assert evaluate({"question": "M", "in": ["x"]}, FW, {"M": []}) is False
    # C answered but hidden (Y is false): its answer is ignored
    assert evaluate({"question": "C", "in": [True]}, FW, {"Y": False, "C": True}) is False


def count_levels(spec: dict) -> list:
    return [{"code": "L1", "title": "L1", "when": [{"count": spec}]}]


@pytest.mark.parametrize(
    ("spec", "count"),
    [
        # by dimension d1: S 0.5, M 2/3, Y 0, N unanswered (never counts)
        ({"dimension": "d1", "min_attainment": 0.5, "at_least": 9}, 2),
        ({"dimension": "d1", "min_attainment": 0.6667, "at_least": 9}, 0),
        ({"dimension": "d1", "min_attainment": 0.6666, "at_least": 9}, 1),
        ({"dimension": "d1", "min_attainment": 0, "at_least": 9}, 3),
        # by tag scene: L (value 1) and C (hidden unless Y)
        ({"tag": "scene", "min_attainment": 1, "at_least": 9}, 1),  # equal counts
        ({"tag": "scene", "min_attainment": 1.5, "at_least": 9}, 0),
        # d2: L counts, T (text) never does, C hidden
        ({"dimension": "d2", "min_attainment": 0, "at_least": 9}, 1),
    ],
)
def test_count_by_tag_and_by_dimension(spec: dict, count: int) -> None:
    data = base()
    data["levels"] = count_levels(spec)
    data["bands"] = {"basic": "L1", "advanced": "L1"}
    fw = parse_framework(data)
    result = score(fw, {"S": "b", "M": ["x"], "Y": False, "L": 1, "T": "t", "C": True})
    assert result.next_level is not None
    assert result.next_level.unmet[0].actual == count


@pytest.mark.parametrize(("at_least", "level"), [(2, "L1"), (3, None)])
def test_count_at_least_is_inclusive(at_least: int, level: str | None) -> None:
    data = base()
    data["levels"] = count_levels({"tag": "scene", "min_attainment": 1, "at_least": at_least})
    data["bands"] = {"basic": "L1", "advanced": "L1"}
    result = score(parse_framework(data), {"Y": True, "L": 2, "C": True})
    assert result.level == level


def test_a_zero_point_question_counts_only_for_min_attainment_zero() -> None:
    for x, expected in ((0, "L1"), (0.1, None)):
        levels = count_levels({"dimension": "d", "min_attainment": x, "at_least": 1})
        fw = parse_framework(one_dimension(yesno("Z", 0), levels=levels))
        assert score(fw, {"Z": True}).level == expected


# --- next_level ------------------------------------------------------------------------------


def test_next_level_lists_every_unmet_condition_with_its_actual_value() -> None:
    gates = [
        {"score": 90},
        {"score": 10},  # met: not listed
        {"dimension": "d1", "min": 90},
        {"dimension": "d2", "min": 10},  # d2 undefined (C hidden): actual null
        {"count": {"tag": "scene", "min_attainment": 2, "at_least": 1}},
        {"all": [{"question": "S", "in": ["c"]}]},
        {"any": [{"question": "S", "in": ["c"]}]},
        {"question": "N", "min": 60},
        {"question": "M", "in": ["y"]},
        {"question": "C", "in": [True]},  # hidden: actual null
        {"question": "T", "in": ["x"]},  # unanswered: actual null
    ]
    data = base()
    data["levels"] = [{"code": "L1", "title": "L1"}, {"code": "L2", "title": "L2", "when": gates}]
    fw = parse_framework(data)
    result = score(fw, {"S": "b", "M": ["x"], "Y": False, "N": 50, "L": 1, "C": True})
    # d1: 2 + 2 + 0 + 3 = 7 of 14 = 50.00; T = 50.00
    assert result.level == "L1"
    assert result.next_level == NextLevel(
        "L2",
        (
            Unmet({"score": 90}, D("50.00")),
            Unmet({"dimension": "d1", "min": 90}, D("50.00")),
            Unmet({"dimension": "d2", "min": 10}, None),
            Unmet({"count": {"tag": "scene", "min_attainment": 2, "at_least": 1}}, 0),
            Unmet({"all": [{"question": "S", "in": ["c"]}]}, None),
            Unmet({"any": [{"question": "S", "in": ["c"]}]}, None),
            Unmet({"question": "N", "min": 60}, 50),
            Unmet({"question": "M", "in": ["y"]}, ["x"]),
            Unmet({"question": "C", "in": [True]}, None),
            Unmet({"question": "T", "in": ["x"]}, None),
        ),
    )
    assert result.as_dict()["next_level"]["unmet"][0] == {
        "condition": {"score": 90},
        "actual": 50.0,
    }


def test_next_level_is_the_lowest_when_no_level_is_reached() -> None:
    result = score(FW, {})
    assert result.level is None
    assert result.next_level == NextLevel("L1", (Unmet({"score": 20}, D("0.00")),))


def test_next_level_is_null_at_the_top() -> None:
    result = score(FW, {"S": "c", "M": ["x"], "Y": True, "N": 50, "L": 2, "C": True})
    assert result.level == "L2" and result.next_level is None
    assert result.as_dict()["next_level"] is None


# --- Answer errors ---------------------------------------------------------------------------

LONG = "x" * 11


@pytest.mark.parametrize(
    ("code", "value", "problem"),
    [
        ("ZZ", 1, "unknown question"),
        ("S", 3, "must be an option code, got 3"),
        ("S", "z", 'option "z" is not one of a, b, c'),
        ("M", "x", 'must be a list of option codes, got "x"'),
        ("M", ["z"], 'option "z" is not one of x, y, n'),
        ("M", [1], "must be a list of option codes, but has 1"),
        ("M", ["x", "x"], 'option "x" is chosen more than once'),
        ("M", ["n", "y"], 'option "n" cannot be combined with other options'),
        ("Y", "yes", 'must be true or false, got "yes"'),
        ("Y", 1, "must be true or false, got 1"),
        ("N", "5", 'must be a number, got "5"'),
        ("N", True, "must be a number, got true"),
        ("N", float("nan"), "must be a number, got nan"),
        ("N", 101, "must be between 0 and 100, got 101"),
        ("N", -0.5, "must be between 0 and 100, got -0.5"),
        ("L", 3, "must be one of 0, 1, 2, got 3"),
        ("L", 1.0, "must be one of 0, 1, 2, got 1.0"),
        ("L", True, "must be one of 0, 1, 2, got true"),
        ("T", 5, "must be a string, got 5"),
        ("T", LONG, "is 11 characters long; at most 10 are allowed"),
    ],
)
def test_check_answer_names_the_problem(code: str, value: object, problem: str) -> None:
    assert check_answer(FW, code, value) == problem
    with pytest.raises(AnswerError) as info:
        score(FW, {code: value})
    assert info.value.problems == [f"answers.{code}: {problem}"]


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("S", "a"),
        ("M", []),
        ("M", ["x", "y"]),
        ("Y", False),
        ("N", 0),
        ("N", 100),
        ("N", 7.5),
        ("L", 0),
        ("T", "x" * 10),
        ("T", ""),
        ("S", None),
    ],
)
def test_valid_answers_pass(code: str, value: object) -> None:
    assert check_answer(FW, code, value) is None


def test_integer_number_questions_take_whole_numbers() -> None:
    data = base()
    question(data, "N")["integer"] = True
    fw = parse_framework(data)
    assert check_answer(fw, "N", 2.5) == "must be a whole number, got 2.5"
    assert check_answer(fw, "N", 3) is None
    assert check_answer(fw, "N", 3.0) is None  # a whole number written with a decimal point


def test_min_or_max_alone_is_reported_alone() -> None:
    data = base()
    del question(data, "N")["max"]
    assert check_answer(parse_framework(data), "N", -1) == "must be at least 0, got -1"
    data = base()
    del question(data, "N")["min"]
    assert check_answer(parse_framework(data), "N", 101) == "must be at most 100, got 101"


def test_every_answer_problem_is_reported_at_once() -> None:
    answers = {"S": "z", "M": ["x", "n"], "ZZ": 1, "N": 5, "L": 9}
    problems = [
        'answers.S: option "z" is not one of a, b, c',
        'answers.M: option "n" cannot be combined with other options',
        "answers.ZZ: unknown question",
        "answers.L: must be one of 0, 1, 2, got 9",
    ]
    assert check_answers(FW, answers) == problems
    with pytest.raises(AnswerError) as info:
        score(FW, answers)
    assert info.value.problems == problems


def test_answers_must_be_a_mapping() -> None:
    assert check_answers(FW, ["S"]) == [  # type: ignore[arg-type]
        "answers: must be a mapping of question codes to answers, got a list"
    ]
    with pytest.raises(AnswerError):
        score(FW, None)  # type: ignore[arg-type]


def test_none_means_unanswered() -> None:
    assert score(FW, {"S": None, "M": None}) == score(FW, {})


# --- Result JSON and the contract's example --------------------------------------------------

EXAMPLE = load_framework_file(FIXTURES / "example.yaml")


def test_the_contracts_example_scored_by_hand() -> None:
    # base: B1 = 40 -> band upto 40 -> 3 of 6; B2 = policy -> 2 of 4; S_base = 5/10 = 50.00.
    # ops (weight 0): O2 has 0 points, so S_ops is undefined. T = 50.00.
    # L1 (score 20) holds; L2: score 40 holds, scenes at >= 2: O1 and O3 (shown: O2 true) = 2.
    # L3: score 60 fails (50), dimension base >= 50 holds.
    result = score(EXAMPLE, EXAMPLE_ANSWERS)
    assert result.as_dict() == EXAMPLE_RESULT
    assert result.snapshot() == {
        **result.as_dict(),
        "attainment": {"B1": 0.5, "B2": 0.5, "O1": 2, "O2": 0, "O3": 2},
        "earned": {"B1": 3, "B2": 2, "O2": 0},
    }
    assert json.loads(json.dumps(result.snapshot())) == result.snapshot()


def test_the_contracts_example_without_a_second_plant() -> None:
    # O2 false hides O3: only one scene at >= 2, so L2 fails on the count.
    result = score(EXAMPLE, {"B1": 80, "B2": ["policy", "firewall"], "O1": 2, "O2": False, "O3": 2})
    assert result.as_dict() == {
        "framework": "demo",
        "version": "1",
        "total": 100.0,
        "dimensions": {"base": 100.0, "ops": None},
        "level": "L1",
        "basic": False,
        "advanced": False,
        "next_level": {
            "code": "L2",
            "unmet": [
                {
                    "condition": {"count": {"tag": "scene", "min_attainment": 2, "at_least": 2}},
                    "actual": 1,
                }
            ],
        },
    }
    assert result.applicable == frozenset({"B1", "B2", "O1", "O2"})


def test_scores_in_json_carry_at_most_two_decimals() -> None:
    result = score(FW, {"S": "b", "M": ["x"], "Y": True, "N": 50, "C": True})
    data = result.as_dict()
    for value in [data["total"], *data["dimensions"].values()]:
        assert value is None or D(repr(value)).as_tuple().exponent >= -2


def test_result_is_a_frozen_dataclass() -> None:
    result = score(FW, {})
    assert isinstance(result, Result)
    with pytest.raises(AttributeError):
        result.total = D(1)  # type: ignore[misc]
