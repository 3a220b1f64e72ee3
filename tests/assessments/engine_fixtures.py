"""Small framework definitions for the engine tests (plain dicts, as parsed from YAML)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "frameworks"

# The contract's worked example (frameworks/example.yaml): answers and the result they score
# to. The scorer, the score_answers command and the API must all give exactly this.
EXAMPLE_ANSWERS = {"B1": 40, "B2": ["policy"], "O1": 2, "O2": True, "O3": 2}
EXAMPLE_RESULT = {
    "framework": "demo",
    "version": "1",
    "total": 50.0,
    "dimensions": {"base": 50.0, "ops": None},
    "level": "L2",
    "basic": True,
    "advanced": False,
    "next_level": {"code": "L3", "unmet": [{"condition": {"score": 60}, "actual": 50.0}]},
}


def opt(code: str, points: float | int, **extra: Any) -> dict:
    """An option with a one-language-for-all text."""
    return {"code": code, "text": f"option {code}", "points": points, **extra}


def base() -> dict:
    """A small valid framework using every question type.

    d1 (weight 1): S single 0/2/4 of 4, M multi x=2 y=2 n=0(exclusive) capped at 3,
                   Y yesno 2, N number 0..100 bands <=10:0, <=50:3, else 5 (of 5).
    d2 (weight 1): L level 0..2 tagged scene, T text (optional, max 10),
                   C yesno 1 shown only if Y is true, tagged scene.
    Levels: L1 needs score 20; L2 needs score 60 and 1 scene question with attainment >= 1.
    """
    return copy.deepcopy(
        {
            "format": 1,
            "framework": "test",
            "version": "1",
            "title": {"zh-hans": "测试框架", "en": "Test framework"},
            "languages": ["zh-hans", "en"],
            "bands": {"basic": "L1", "advanced": "L2"},
            "levels": [
                {
                    "code": "L1",
                    "title": {"zh-hans": "一级", "en": "Level 1"},
                    "when": [{"score": 20}],
                },
                {
                    "code": "L2",
                    "title": {"zh-hans": "二级", "en": "Level 2"},
                    "when": [
                        {"score": 60},
                        {"count": {"tag": "scene", "min_attainment": 1, "at_least": 1}},
                    ],
                },
            ],
            "dimensions": [
                {
                    "code": "d1",
                    "title": "D1",
                    "weight": 1,
                    "questions": [
                        {
                            "code": "S",
                            "type": "single",
                            "text": "single",
                            "points": 4,
                            "options": [opt("a", 0), opt("b", 2), opt("c", 4)],
                        },
                        {
                            "code": "M",
                            "type": "multi",
                            "text": "multi",
                            "points": 3,
                            "options": [opt("x", 2), opt("y", 2), opt("n", 0, exclusive=True)],
                        },
                        {"code": "Y", "type": "yesno", "text": "yesno", "points": 2},
                        {
                            "code": "N",
                            "type": "number",
                            "text": "number",
                            "points": 5,
                            "min": 0,
                            "max": 100,
                            "bands": [
                                {"upto": 10, "points": 0},
                                {"upto": 50, "points": 3},
                                {"points": 5},
                            ],
                        },
                    ],
                },
                {
                    "code": "d2",
                    "title": "D2",
                    "weight": 1,
                    "questions": [
                        {
                            "code": "L",
                            "type": "level",
                            "text": "level",
                            "tags": ["scene"],
                            "levels": [
                                {"value": 0, "text": "zero"},
                                {"value": 1, "text": "one"},
                                {"value": 2, "text": "two"},
                            ],
                        },
                        {
                            "code": "T",
                            "type": "text",
                            "text": "text",
                            "required": False,
                            "max_length": 10,
                        },
                        {
                            "code": "C",
                            "type": "yesno",
                            "text": "conditional",
                            "points": 1,
                            "tags": ["scene"],
                            "show_if": {"question": "Y", "in": [True]},
                        },
                    ],
                },
            ],
        }
    )


def question(data: dict, code: str) -> dict:
    """The question dict with this code, to mutate in a test."""
    for dimension in data["dimensions"]:
        for q in dimension["questions"]:
            if q["code"] == code:
                return q
    raise KeyError(code)


def one_dimension(*questions: dict, levels: list | None = None, weight: Any = 1) -> dict:
    """A framework with one dimension holding the given questions."""
    data = base()
    data["dimensions"] = [
        {"code": "d", "title": "D", "weight": weight, "questions": list(questions)}
    ]
    data["levels"] = levels or [{"code": "L1", "title": "L1"}]
    data["bands"] = {"basic": data["levels"][0]["code"], "advanced": data["levels"][-1]["code"]}
    return data
