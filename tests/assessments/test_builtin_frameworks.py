"""The three built-in frameworks: their structure, and their scores on hand-computed firms.

Every expected figure below is worked out by hand in the comments, from the file and
FRAMEWORK_FORMAT.md (S_d = 100 x earned / points, rounded half-up to 2 dp; T = weighted mean of
the rounded S_d, rounded half-up; levels climbed from the lowest, never skipped).
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from assessments.framework import (
    Framework,
    builtin_framework_paths,
    load_framework_file,
    parse_framework,
)
from assessments.models import FrameworkVersion
from assessments.scoring import check_answer, score

FRAMEWORKS = Path(__file__).resolve().parents[2] / "assessments" / "frameworks"
MIIT = FRAMEWORKS / "miit-sme-2024.1.yaml"
DMA = FRAMEWORKS / "edih-dma-2023.1.yaml"
DII = FRAMEWORKS / "eu-dii-2023.1.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def miit() -> Framework:
    return load_framework_file(MIIT)


@pytest.fixture(scope="module")
def dma() -> Framework:
    return load_framework_file(DMA)


@pytest.fixture(scope="module")
def dii() -> Framework:
    return load_framework_file(DII)


def D(value: str) -> Decimal:
    return Decimal(value)


def unmet(result) -> list[tuple[dict, object]]:
    """The next level's unmet conditions as (condition, actual) pairs."""
    return [(u.condition, u.actual) for u in result.next_level.unmet]


# --- Every built-in ------------------------------------------------------------------------------


def test_the_three_builtins_are_the_shipped_files():
    assert [p.name for p in builtin_framework_paths()] == [
        "edih-dma-2023.1.yaml",
        "eu-dii-2023.1.yaml",
        "miit-sme-2024.1.yaml",
    ]


@pytest.mark.parametrize(
    ("path", "slug", "version", "levels", "basic", "advanced"),
    [
        (MIIT, "miit-sme", "2024.1", ["L1", "L2", "L3", "L4"], "L2", "L3"),
        (
            DMA,
            "edih-dma",
            "2023.1",
            ["basic", "average", "moderately-advanced", "advanced"],
            "average",
            "moderately-advanced",
        ),
        (DII, "eu-dii", "2023.1", ["very-low", "low", "high", "very-high"], "low", "high"),
    ],
)
def test_builtin_validates_with_its_levels_and_bands(path, slug, version, levels, basic, advanced):
    fw = load_framework_file(path)
    assert (fw.slug, fw.version) == (slug, version)
    assert fw.languages == ("zh-hans", "en")
    assert [level.code for level in fw.levels] == levels
    assert (fw.bands.basic, fw.bands.advanced) == (basic, advanced)
    assert fw.source is not None and fw.description is not None


def _texts(node: object, path: str = ""):
    """Every text value (title, description, source, text, help) in a raw framework mapping."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key in {"title", "description", "source", "text", "help"}:
                yield here, value
            else:
                yield from _texts(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{path}[{i}]")


@pytest.mark.parametrize("path", [MIIT, DMA, DII], ids=lambda p: p.stem)
def test_every_text_is_written_in_chinese_and_in_english(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(raw["version"], str)
    texts = list(_texts(raw))
    assert len(texts) > 20
    for where, value in texts:
        assert isinstance(value, dict), where
        assert set(value) == {"zh-hans", "en"}, where
        assert CJK.search(value["zh-hans"]), f"{where}: no Chinese"
        assert value["en"].strip() and not CJK.search(value["en"]), f"{where}: bad English"


@pytest.mark.parametrize("path", [MIIT, DMA], ids=lambda p: p.stem)
def test_every_checklist_has_an_exclusive_none_worth_nothing_and_adds_up(path):
    fw = load_framework_file(path)
    multis = [q for q in fw.questions if q.type == "multi"]
    assert multis
    for q in multis:
        exclusive = [o for o in q.options if o.exclusive]
        assert [o.code for o in exclusive] == ["none"], q.code
        assert exclusive[0].points == 0, q.code
        # Ticking every item earns exactly the question's points: no hidden cap.
        assert sum(o.points for o in q.options) == q.points, q.code
        other = next(o.code for o in q.options if not o.exclusive)
        assert check_answer(fw, q.code, ["none", other]) is not None, q.code
        assert check_answer(fw, q.code, ["none"]) is None, q.code


# --- MIIT 2024: structure ----------------------------------------------------------------------

CONSTRAINED = {"LC1", "LC3", "PE2", "PE3", "PE4", "PE5", "PE6", "SC1", "SC2", "MD1"}
GROUPS = {
    "group-lifecycle": ["LC1", "LC2", "LC3", "LC4"],
    "group-production": ["PE1", "PE2", "PE3", "PE4", "PE5", "PE6"],
    "group-supply-chain": ["SC1", "SC2"],
    "group-management": ["MD1", "MD2", "MD3", "MD4"],
}


def test_miit_weights_are_50_30_20_and_operations_0(miit):
    weights = {d.code: d.weight for d in miit.dimensions}
    assert weights == {"foundation": 50, "operations": 0, "management": 30, "results": 20}


def test_miit_points_add_up_to_the_weights(miit):
    for dim in miit.dimensions:
        points = sum((q.points or 0) for q in dim.questions)
        assert points == dim.weight, dim.code


def test_miit_has_16_scenes_in_4_groups_and_10_constrained(miit):
    ops = next(d for d in miit.dimensions if d.code == "operations")
    assert len(ops.questions) == 16
    assert all(q.type == "level" and "scene" in q.tags for q in ops.questions)
    for tag, codes in GROUPS.items():
        assert [q.code for q in ops.questions if tag in q.tags] == codes
    assert sum(len(codes) for codes in GROUPS.values()) == 16
    assert {q.code for q in ops.questions if "constrained" in q.tags} == CONSTRAINED
    # Only scenes carry the scene tags.
    assert [q.code for q in miit.questions if "scene" in q.tags] == [q.code for q in ops.questions]


def test_every_miit_scene_describes_each_level_0_to_4_in_its_own_words(miit):
    scenes = [q for q in miit.questions if "scene" in q.tags]
    seen_zh, seen_en = set(), set()
    for q in scenes:
        assert [c.value for c in q.levels] == [0, 1, 2, 3, 4], q.code
        for choice in q.levels:
            seen_zh.add(choice.text["zh-hans"])
            seen_en.add(choice.text["en"])
    # 16 scenes x 5 levels, no generic description shared between scenes.
    assert len(seen_zh) == len(seen_en) == 80


def test_miit_level_gates_match_the_2024_table(miit):
    gates = {
        "L1": (20, 1, 6, 3),
        "L2": (40, 2, 6, 3),
        "L3": (60, 3, 8, 5),
        "L4": (80, 4, 10, 6),
    }
    for level in miit.levels:
        base, at, scenes, constrained = gates[level.code]
        assert list(level.when) == [
            {"score": base},
            {"count": {"tag": "scene", "min_attainment": at, "at_least": scenes}},
            {"count": {"tag": "constrained", "min_attainment": at, "at_least": constrained}},
        ]


def test_miit_number_questions_carry_five_inclusive_bands_over_0_to_100_percent(miit):
    expected = {
        "F2": ["0", "1.5", "3", "4.5", "6"],
        "F3": ["0", "1.5", "3", "4.5", "6"],
        "M4": ["0", "1.875", "3.75", "5.625", "7.5"],
    }
    numbers = {q.code: q for q in miit.questions if q.type == "number"}
    assert set(numbers) == set(expected)
    for code, points in expected.items():
        q = numbers[code]
        assert (q.min, q.max, q.unit, q.integer) == (0, 100, "%", False), code
        assert [b.upto for b in q.bands] == [10, 20, 40, 60, 100], code
        assert [b.points for b in q.bands] == [D(p) for p in points], code
        assert q.points == D(points[-1]), code


@pytest.mark.parametrize(
    ("share", "points"),
    [
        (0, "0"),
        (10, "0"),  # upto is inclusive: 10 % is still the lowest band
        (10.01, "1.5"),
        (20, "1.5"),
        (20.5, "3"),
        (40, "3"),
        (40.01, "4.5"),
        (60, "4.5"),
        (60.01, "6"),
        (100, "6"),
    ],
)
def test_miit_equipment_share_bands_at_their_edges(miit, share, points):
    result = score(miit, {"F2": share, "F3": share})
    assert result.earned["F2"] == D(points)
    assert result.earned["F3"] == D(points)


@pytest.mark.parametrize(
    ("share", "points"),
    [(10, "0"), (10.5, "1.875"), (20, "1.875"), (40, "3.75"), (60, "5.625"), (61, "7.5")],
)
def test_miit_funding_bands(miit, share, points):
    assert score(miit, {"M4": share}).earned["M4"] == D(points)


def test_miit_shares_above_100_percent_are_refused(miit):
    assert check_answer(miit, "F2", 100.5) is not None
    assert check_answer(miit, "M4", -1) is not None


# --- MIIT 2024: hand-computed firms ------------------------------------------------------------

ALL_SCENES_ZERO = {code: 0 for codes in GROUPS.values() for code in codes}

# A small workshop that has barely started.
MIIT_WEAK = {
    "F1": ["enterprise"],  # 2
    "F2": 8,  # <= 10 % -> 0
    "F3": 5,  # 0
    "F4": ["finance", "hr"],  # 0.7 + 0.9 = 1.6
    "F5": "one",  # 2.5
    "F6": ["policy"],  # 1.25
    "F7": ["none"],  # 0
    "M1": "aware",  # 1.5
    "M2": ["none"],  # 0
    "M3": ["training"],  # 1.5
    "M4": 2,  # 0
    "R1": "flat",  # 3.5
    "R2": "flat",  # 3.5
    "R3": "down",  # 0
    "R4": "up",  # 0
    **ALL_SCENES_ZERO,
    "LC3": 1,
    "MD1": 1,
    "MD3": 1,
}


def test_miit_weak_firm_is_below_level_1(miit):
    # foundation: 2 + 0 + 0 + 1.6 + 2.5 + 1.25 + 0 = 7.35 of 50 -> S = 100 x 7.35 / 50 = 14.70
    # management: 1.5 + 0 + 1.5 + 0 = 3 of 30 -> S = 10.00
    # results: 3.5 + 3.5 + 0 + 0 = 7 of 20 -> S = 35.00
    # T = (50 x 14.70 + 30 x 10.00 + 20 x 35.00) / 100 = (735 + 300 + 700) / 100 = 17.35
    # scenes at >= 1: LC3, MD1, MD3 = 3; constrained at >= 1: LC3, MD1 = 2
    # L1 fails on all three gates -> level null, and L1 is the next level.
    result = score(miit, MIIT_WEAK)
    assert result.total == D("17.35")
    assert result.dimensions == {
        "foundation": D("14.70"),
        "operations": None,
        "management": D("10.00"),
        "results": D("35.00"),
    }
    assert (result.level, result.basic, result.advanced) == (None, False, False)
    assert result.next_level.code == "L1"
    assert unmet(result) == [
        ({"score": 20}, D("17.35")),
        ({"count": {"tag": "scene", "min_attainment": 1, "at_least": 6}}, 3),
        ({"count": {"tag": "constrained", "min_attainment": 1, "at_least": 3}}, 2),
    ]


# A firm with systems in several areas, not yet integrated.
MIIT_MIDDLING = {
    "F1": ["shopfloor", "enterprise"],  # 4
    "F2": 35,  # (20, 40] -> 3
    "F3": 20,  # (10, 20] -> 1.5, at the band's inclusive upper edge
    "F4": ["scheduling", "production", "quality", "warehousing", "finance", "hr"],  # 5x0.7+0.9=4.4
    "F5": "several",  # 5
    "F6": ["policy", "products"],  # 2.5
    "F7": ["products"],  # 1.25
    "M1": "retrofitting",  # 4.5
    "M2": ["it-rules", "data-rules"],  # 3.75
    "M3": ["staff", "training"],  # 3
    "M4": 3.5,  # 0
    "R1": "down",  # 7
    "R2": "flat",  # 3.5
    "R3": "up",  # 3
    "R4": "flat",  # 1.5
    "LC1": 2,
    "LC2": 1,
    "LC3": 3,
    "LC4": 1,
    "PE1": 2,
    "PE2": 3,
    "PE3": 2,
    "PE4": 2,
    "PE5": 1,
    "PE6": 1,
    "SC1": 2,
    "SC2": 3,
    "MD1": 3,
    "MD2": 1,
    "MD3": 2,
    "MD4": 0,
}


def test_miit_middling_firm_is_level_2(miit):
    # foundation: 4 + 3 + 1.5 + 4.4 + 5 + 2.5 + 1.25 = 21.65 -> S = 100 x 21.65 / 50 = 43.30
    # management: 4.5 + 3.75 + 3 + 0 = 11.25 -> S = 100 x 11.25 / 30 = 37.50
    # results: 7 + 3.5 + 3 + 1.5 = 15 -> S = 75.00
    # T = (50 x 43.30 + 30 x 37.50 + 20 x 75.00) / 100 = (2165 + 1125 + 1500) / 100 = 47.90
    # scenes >= 1: 15 (all but MD4), constrained >= 1: 10        -> L1 met
    # scenes >= 2: LC1 LC3 PE1 PE2 PE3 PE4 SC1 SC2 MD1 MD3 = 10;
    #   constrained >= 2: LC1 LC3 PE2 PE3 PE4 SC1 SC2 MD1 = 8;  T >= 40   -> L2 met
    # scenes >= 3: LC3 PE2 SC2 MD1 = 4, all constrained = 4; T < 60     -> L3 fails on all three
    result = score(miit, MIIT_MIDDLING)
    assert result.total == D("47.90")
    assert result.dimensions == {
        "foundation": D("43.30"),
        "operations": None,
        "management": D("37.50"),
        "results": D("75.00"),
    }
    assert (result.level, result.basic, result.advanced) == ("L2", True, False)
    assert result.next_level.code == "L3"
    assert unmet(result) == [
        ({"score": 60}, D("47.90")),
        ({"count": {"tag": "scene", "min_attainment": 3, "at_least": 8}}, 4),
        ({"count": {"tag": "constrained", "min_attainment": 3, "at_least": 5}}, 4),
    ]
    assert result.earned["F3"] == D("1.5")
    assert result.attainment["SC2"] == 3


# A plant that is integrated and model-driven almost everywhere.
MIIT_STRONG_BASE = {
    "F1": ["shopfloor", "enterprise", "5g", "extensible"],  # 8
    "F2": 75,  # 6
    "F3": 60.5,  # just above 60 -> 6
    "F4": [
        "design", "process", "marketing", "service", "scheduling", "production", "quality",
        "equipment", "safety", "energy", "purchasing", "warehousing", "finance", "hr",
    ],  # 13 x 0.7 + 0.9 = 10
    "F5": "all",  # 10
    "F6": ["policy", "products", "assessment", "boundary"],  # 5
    "F7": ["policy", "products", "assessment"],  # 3.75
    "M1": "peer-learning",  # 7.5
    "M2": ["workflow", "it-rules", "data-rules", "incentives"],  # 7.5
    "M3": ["staff", "department", "training", "pipeline"],  # 4 x 1.5 = 6
    "M4": 12,  # (10, 20] -> 1.875
    "R1": "down",  # 7
    "R2": "up",  # 7
    "R3": "up",  # 3
    "R4": "down",  # 3
}  # fmt: skip
MIIT_STRONG = {
    **MIIT_STRONG_BASE,
    **{code: 4 for code in CONSTRAINED},  # all 10 constrained scenes at 4
    "MD4": 4,
    "LC2": 3,
    "LC4": 3,
    "PE1": 3,
    "MD2": 2,
    "MD3": 3,
}


def test_miit_strong_firm_is_level_4_and_total_rounds_half_up(miit):
    # foundation: 8 + 6 + 6 + 10 + 10 + 5 + 3.75 = 48.75 -> S = 97.50
    # management: 7.5 + 7.5 + 6 + 1.875 = 22.875 -> S = 100 x 22.875 / 30 = 76.25
    # results: 7 + 7 + 3 + 3 = 20 -> S = 100.00
    # T = (50 x 97.50 + 30 x 76.25 + 20 x 100.00) / 100 = (4875 + 2287.5 + 2000) / 100
    #   = 91.625 -> half-up 91.63 (half-even would give 91.62)
    # scenes at 4: 10 constrained + MD4 = 11 >= 10, constrained at 4: 10 >= 6; T >= 80 -> L4
    result = score(miit, MIIT_STRONG)
    assert result.total == D("91.63")
    assert result.dimensions == {
        "foundation": D("97.50"),
        "operations": None,
        "management": D("76.25"),
        "results": D("100.00"),
    }
    assert (result.level, result.basic, result.advanced) == ("L4", True, True)
    assert result.next_level is None
    assert result.as_dict()["total"] == 91.63


# Right at the L3 gate: base score exactly 60.00, exactly 8 scenes at >= 3, exactly 5 constrained.
MIIT_EDGE = {
    "F1": ["shopfloor", "enterprise", "extensible"],  # 6
    "F2": 45,  # (40, 60] -> 4.5
    "F3": 40,  # (20, 40] -> 3, upper edge
    "F4": [
        "design", "process", "marketing", "scheduling", "production", "quality", "equipment",
        "finance", "hr",
    ],  # 8 x 0.7 + 0.9 = 6.5
    "F5": "most",  # 7.5
    "F6": ["policy", "products", "boundary"],  # 3.75
    "F7": ["policy", "products"],  # 2.5
    "M1": "transformed",  # 6
    "M2": ["workflow", "it-rules"],  # 3.75
    "M3": ["staff", "training"],  # 3
    "M4": 10,  # [0, 10] -> 0, upper edge
    "R1": "flat",  # 3.5
    "R2": "up",  # 7
    "R3": "flat",  # 1.5
    "R4": "flat",  # 1.5
    # constrained at 3: LC1 PE2 PE3 SC2 MD1 (5); guiding at 3: LC2 PE1 MD4 (3)
    "LC1": 3, "PE2": 3, "PE3": 3, "SC2": 3, "MD1": 3,
    "LC2": 3, "PE1": 3, "MD4": 3,
    "LC3": 2, "PE4": 2, "PE5": 2, "PE6": 2, "SC1": 2, "LC4": 2, "MD2": 2,
    "MD3": 1,
}  # fmt: skip


def test_miit_firm_exactly_at_the_level_3_gate_is_level_3(miit):
    # foundation: 6 + 4.5 + 3 + 6.5 + 7.5 + 3.75 + 2.5 = 33.75 -> S = 67.50
    # management: 6 + 3.75 + 3 + 0 = 12.75 -> S = 100 x 12.75 / 30 = 42.50
    # results: 3.5 + 7 + 1.5 + 1.5 = 13.5 -> S = 67.50
    # T = (50 x 67.50 + 30 x 42.50 + 20 x 67.50) / 100 = (3375 + 1275 + 1350) / 100 = 60.00
    # scenes >= 3: 8 (>= 8), constrained >= 3: 5 (>= 5), T = 60 (>= 60) -> L3, each gate exact
    # scenes >= 4: 0 -> L4 fails on all three gates
    result = score(miit, MIIT_EDGE)
    assert result.total == D("60.00")
    assert result.dimensions == {
        "foundation": D("67.50"),
        "operations": None,
        "management": D("42.50"),
        "results": D("67.50"),
    }
    assert (result.level, result.basic, result.advanced) == ("L3", True, True)
    assert result.next_level.code == "L4"
    assert unmet(result) == [
        ({"score": 80}, D("60.00")),
        ({"count": {"tag": "scene", "min_attainment": 4, "at_least": 10}}, 0),
        ({"count": {"tag": "constrained", "min_attainment": 4, "at_least": 6}}, 0),
    ]


def test_miit_one_constrained_scene_short_of_the_gate_is_level_2(miit):
    # As MIIT_EDGE, with MD1 at 2: scenes >= 3 fall to 7 (< 8), constrained >= 3 to 4 (< 5).
    # T stays 60.00, so only the two scene gates are unmet.
    result = score(miit, {**MIIT_EDGE, "MD1": 2})
    assert result.total == D("60.00")
    assert (result.level, result.basic, result.advanced) == ("L2", True, False)
    assert result.next_level.code == "L3"
    assert unmet(result) == [
        ({"count": {"tag": "scene", "min_attainment": 3, "at_least": 8}}, 7),
        ({"count": {"tag": "constrained", "min_attainment": 3, "at_least": 5}}, 4),
    ]


def test_miit_base_score_one_band_short_of_the_gate_is_level_2(miit):
    # As MIIT_EDGE, with F2 = 40 instead of 45: F2 earns 3 instead of 4.5.
    # foundation: 33.75 - 1.5 = 32.25 -> S = 64.50
    # T = (50 x 64.50 + 1275 + 1350) / 100 = (3225 + 1275 + 1350) / 100 = 58.50 < 60
    result = score(miit, {**MIIT_EDGE, "F2": 40})
    assert result.total == D("58.50")
    assert result.dimensions["foundation"] == D("64.50")
    assert result.level == "L2"
    assert unmet(result) == [({"score": 60}, D("58.50"))]


def test_miit_level_cannot_be_skipped(miit):
    # The strong firm's base answers (T = 91.63, enough for L4) with scenes only good for L1:
    # LC1 LC3 PE2 (constrained) and LC2 LC4 PE1 (guiding) at 1, the rest 0.
    # L1: T >= 20, 6 scenes >= 1, 3 constrained >= 1 -> met.
    # L2: no scene >= 2 -> fails, so L3 and L4 are never reached although T >= 80.
    answers = {
        **MIIT_STRONG_BASE,
        **ALL_SCENES_ZERO,
        **{code: 1 for code in ("LC1", "LC3", "PE2", "LC2", "LC4", "PE1")},
    }
    result = score(miit, answers)
    assert result.total == D("91.63")
    assert (result.level, result.basic, result.advanced) == ("L1", False, False)
    assert result.next_level.code == "L2"
    assert unmet(result) == [
        ({"count": {"tag": "scene", "min_attainment": 2, "at_least": 6}}, 0),
        ({"count": {"tag": "constrained", "min_attainment": 2, "at_least": 3}}, 0),
    ]


def test_miit_top_scenes_cannot_make_up_for_a_low_base_score(miit):
    # The weak firm's base answers (T = 17.35) with every scene at 4: L1 needs T >= 20.
    result = score(miit, {**MIIT_WEAK, **{code: 4 for code in ALL_SCENES_ZERO}})
    assert result.total == D("17.35")
    assert result.level is None
    assert unmet(result) == [({"score": 20}, D("17.35"))]


# --- EU DMA 2023 -------------------------------------------------------------------------------


def test_dma_has_six_equal_dimensions_and_eleven_scored_questions(dma):
    assert [d.code for d in dma.dimensions] == [
        "strategy",
        "readiness",
        "human",
        "data",
        "automation",
        "green",
    ]
    assert {d.weight for d in dma.dimensions} == {1}
    assert [len(d.questions) for d in dma.dimensions] == [2, 2, 2, 2, 1, 2]
    assert len(dma.questions) == 11
    for dim in dma.dimensions:
        # Equal points within a dimension, so its questions weigh equally.
        assert len({q.points for q in dim.questions}) == 1, dim.code
        assert all(q.type in {"multi", "single"} for q in dim.questions)
    assert [o.points for o in dma.question("GD2").options] == [0, 5, 10]  # no / partly / yes
    assert [o.points for o in dma.question("AA1").options] == [0, 2, 4, 6, 8, 10]


def test_dma_band_thresholds_are_whole_percent_roundings(dma):
    assert [list(level.when) for level in dma.levels] == [
        [],
        [{"score": D("25.5")}],
        [{"score": D("50.5")}],
        [{"score": D("75.5")}],
    ]


DMA_WEAK = {
    "DS1": ["sales", "admin"],  # 2
    "DS2": ["needs"],  # 1
    "DR1": ["connectivity", "website", "e-government"],  # 3
    "DR2": "0",  # 0
    "HC1": ["peer-learning"],  # 2
    "HC2": [],  # 0
    "DM1": ["stored"],  # 3
    "DM2": ["backup"],  # 3.5
    "AA1": "0",  # 0
    "GD1": ["paperless"],  # 1
    "GD2": "no",  # 0
}


def test_dma_weak_firm_is_basic(dma):
    # strategy 100 x 3/20 = 15.00; readiness 100 x 3/20 = 15.00
    # human 100 x 2/28 = 7.142857.. -> 7.14; data 100 x 6.5/42 = 15.476.. -> 15.48
    # automation 0/10 -> 0.00; green 100 x 1/20 = 5.00
    # T = (15 + 15 + 7.14 + 15.48 + 0 + 5) / 6 = 57.62 / 6 = 9.6033.. -> 9.60 < 25.5 -> basic
    result = score(dma, DMA_WEAK)
    assert result.dimensions == {
        "strategy": D("15.00"),
        "readiness": D("15.00"),
        "human": D("7.14"),
        "data": D("15.48"),
        "automation": D("0.00"),
        "green": D("5.00"),
    }
    assert result.total == D("9.60")
    assert (result.level, result.basic, result.advanced) == ("basic", False, False)
    assert result.next_level.code == "average"
    assert unmet(result) == [({"score": D("25.5")}, D("9.60"))]


DMA_MIDDLING = {
    "DS1": ["design", "operations", "sales", "admin", "purchasing"],  # 5
    "DS2": ["needs", "leadership", "funding", "infrastructure"],  # 4
    "DR1": ["connectivity", "website", "e-commerce", "remote", "systems", "e-government"],  # 6
    "DR2": "2",  # 4
    "HC1": ["courses", "peer-learning"],  # 4
    "HC2": ["awareness", "communicate", "support"],  # 3 x 1.75 = 5.25
    "DM1": ["policy", "stored", "realtime"],  # 3 x 3 = 9
    "DM2": ["policy", "backup", "training"],  # 3 x 3.5 = 10.5
    "AA1": "1",  # 2
    "GD1": ["materials", "transport", "paperless"],  # 3
    "GD2": "partly",  # 5
}


def test_dma_middling_firm_is_average(dma):
    # strategy 100 x 9/20 = 45.00; readiness 100 x 10/20 = 50.00
    # human 100 x 9.25/28 = 33.0357.. -> 33.04; data 100 x 19.5/42 = 46.4285.. -> 46.43
    # automation 100 x 2/10 = 20.00; green 100 x 8/20 = 40.00
    # T = (45 + 50 + 33.04 + 46.43 + 20 + 40) / 6 = 234.47 / 6 = 39.0783.. -> 39.08
    result = score(dma, DMA_MIDDLING)
    assert result.dimensions == {
        "strategy": D("45.00"),
        "readiness": D("50.00"),
        "human": D("33.04"),
        "data": D("46.43"),
        "automation": D("20.00"),
        "green": D("40.00"),
    }
    assert result.total == D("39.08")
    assert (result.level, result.basic, result.advanced) == ("average", True, False)
    assert result.next_level.code == "moderately-advanced"
    assert unmet(result) == [({"score": D("50.5")}, D("39.08"))]


DMA_STRONG = {
    "DS1": [
        "design", "planning", "operations", "collaboration", "inbound", "sales", "delivery",
        "admin", "purchasing", "security",
    ],  # 10
    "DS2": [
        "needs", "funding", "infrastructure", "specialists", "leadership", "staff-ready",
        "processes", "risks",
    ],  # 8
    "DR1": [
        "connectivity", "website", "web-forms", "chat", "e-commerce", "e-marketing",
        "e-government", "remote", "systems",
    ],  # 9
    "DR2": "4",  # 8
    "HC1": ["assess", "plan", "courses", "peer-learning", "placements", "external"],  # 6 x 2 = 12
    "HC2": [
        "awareness", "communicate", "involve", "autonomy", "redesign", "flexible", "support",
    ],  # 7 x 1.75 = 12.25
    "DM1": [
        "policy", "stored", "integrated", "realtime", "analysed", "external", "dashboards",
    ],  # 7 x 3 = 21
    "DM2": ["policy", "client-data", "training", "monitoring", "backup"],  # 5 x 3.5 = 17.5
    "AA1": "3",  # 6
    "GD1": [
        "business-model", "products", "production", "emissions", "materials", "transport",
        "paperless",
    ],  # 7
    "GD2": "yes",  # 10
}  # fmt: skip


def test_dma_strong_firm_is_advanced(dma):
    # strategy 100 x 18/20 = 90.00; readiness 100 x 17/20 = 85.00
    # human 100 x 24.25/28 = 86.6071.. -> 86.61; data 100 x 38.5/42 = 91.6666.. -> 91.67
    # automation 100 x 6/10 = 60.00; green 100 x 17/20 = 85.00
    # T = (90 + 85 + 86.61 + 91.67 + 60 + 85) / 6 = 498.28 / 6 = 83.0466.. -> 83.05 >= 75.5
    result = score(dma, DMA_STRONG)
    assert result.dimensions == {
        "strategy": D("90.00"),
        "readiness": D("85.00"),
        "human": D("86.61"),
        "data": D("91.67"),
        "automation": D("60.00"),
        "green": D("85.00"),
    }
    assert result.total == D("83.05")
    assert (result.level, result.basic, result.advanced) == ("advanced", True, True)
    assert result.next_level is None


DMA_EDGE = {
    "DS1": ["design", "sales", "admin"],  # 3
    "DS2": ["needs", "leadership", "funding"],  # 3
    "DR1": ["connectivity", "website", "e-commerce", "e-marketing"],  # 4
    "DR2": "2",  # 4
    "HC1": ["courses"],  # 2
    "HC2": ["communicate", "flexible"],  # 3.5
    "DM1": ["none"],  # data not collected digitally: 0
    "DM2": ["backup"],  # 3.5
    "AA1": "1",  # 2
    "GD1": ["materials", "paperless"],  # 2
    "GD2": "partly",  # 5
}


def test_dma_total_that_rounds_up_to_the_threshold_is_average(dma):
    # strategy 100 x 6/20 = 30.00; readiness 100 x 8/20 = 40.00
    # human 100 x 5.5/28 = 19.6428.. -> 19.64; data 100 x 3.5/42 = 8.3333.. -> 8.33
    # automation 100 x 2/10 = 20.00; green 100 x 7/20 = 35.00
    # T = (30 + 40 + 19.64 + 8.33 + 20 + 35) / 6 = 152.97 / 6 = 25.495 -> half-up 25.50
    # 25.50 >= 25.5 -> average (a total shown as 26 % falls in the 26-50 % band)
    result = score(dma, DMA_EDGE)
    assert result.dimensions == {
        "strategy": D("30.00"),
        "readiness": D("40.00"),
        "human": D("19.64"),
        "data": D("8.33"),
        "automation": D("20.00"),
        "green": D("35.00"),
    }
    assert result.total == D("25.50")
    assert (result.level, result.basic, result.advanced) == ("average", True, False)
    assert unmet(result) == [({"score": D("50.5")}, D("25.50"))]


def test_dma_edge_firm_without_its_one_training_item_is_basic(dma):
    # As DMA_EDGE with HC1 = none: human 100 x 3.5/28 = 12.50
    # T = (30 + 40 + 12.50 + 8.33 + 20 + 35) / 6 = 145.83 / 6 = 24.305 -> 24.31 < 25.5
    result = score(dma, {**DMA_EDGE, "HC1": ["none"]})
    assert result.dimensions["human"] == D("12.50")
    assert result.total == D("24.31")
    assert (result.level, result.basic) == ("basic", False)
    assert unmet(result) == [({"score": D("25.5")}, D("24.31"))]


# --- Eurostat DII 2023 -------------------------------------------------------------------------

DII_CODES = [f"DII{i:02d}" for i in range(1, 13)]


def test_dii_has_twelve_one_point_yes_no_indicators(dii):
    assert [d.code for d in dii.dimensions] == ["indicators"]
    assert [q.code for q in dii.questions] == DII_CODES
    assert all(q.type == "yesno" and q.points == 1 for q in dii.questions)
    assert [list(level.when) for level in dii.levels] == [
        [],
        [{"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 4}}],
        [{"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 7}}],
        [{"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 10}}],
    ]


def _dii(yes: set[str]) -> dict[str, bool]:
    return {code: code in yes for code in DII_CODES}


@pytest.mark.parametrize(
    ("met", "total", "level"),
    [
        # total = 100 x met / 12, rounded half-up; the level follows the count only.
        (0, "0.00", "very-low"),
        (3, "25.00", "very-low"),
        (4, "33.33", "low"),  # 33.333..
        (6, "50.00", "low"),  # half the indicators, still only "low"
        (7, "58.33", "high"),  # 58.333..
        (9, "75.00", "high"),
        (10, "83.33", "very-high"),  # 83.333..
        (12, "100.00", "very-high"),
    ],
)
def test_dii_level_is_the_count_of_indicators_met(dii, met, total, level):
    result = score(dii, _dii(set(DII_CODES[:met])))
    assert result.total == D(total)
    assert result.dimensions == {"indicators": D(total)}
    assert result.level == level


def test_dii_weak_firm_is_very_low(dii):
    # internet use, 30 Mbit/s, any social media: 3 of 12 -> T = 100 x 3/12 = 25.00
    result = score(dii, _dii({"DII01", "DII02", "DII08"}))
    assert result.total == D("25.00")
    assert (result.level, result.basic, result.advanced) == ("very-low", False, False)
    assert result.next_level.code == "low"
    assert unmet(result) == [
        ({"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 4}}, 3)
    ]


def test_dii_firm_with_exactly_four_indicators_is_at_least_basic(dii):
    # + cloud services: 4 of 12 -> T = 33.333.. -> 33.33; 4 >= 4 -> low (basic)
    result = score(dii, _dii({"DII01", "DII02", "DII05", "DII08"}))
    assert result.total == D("33.33")
    assert (result.level, result.basic, result.advanced) == ("low", True, False)
    assert unmet(result) == [
        ({"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 7}}, 4)
    ]


def test_dii_middling_firm_is_high(dii):
    # 7 of 12 (no e-commerce, no web sales, no AI, no CRM, no sophisticated cloud)
    # T = 100 x 7/12 = 58.333.. -> 58.33; 7 >= 7 -> high (advanced)
    yes = {"DII01", "DII02", "DII05", "DII07", "DII08", "DII09", "DII11"}
    result = score(dii, _dii(yes))
    assert result.total == D("58.33")
    assert (result.level, result.basic, result.advanced) == ("high", True, True)
    assert unmet(result) == [
        ({"count": {"dimension": "indicators", "min_attainment": 1, "at_least": 10}}, 7)
    ]


def test_dii_strong_firm_is_very_high(dii):
    # all but B2C web sales: 11 of 12 -> T = 91.666.. -> 91.67; 11 >= 10 -> very high
    result = score(dii, _dii(set(DII_CODES) - {"DII04"}))
    assert result.total == D("91.67")
    assert (result.level, result.basic, result.advanced) == ("very-high", True, True)
    assert result.next_level is None


def test_dii_unanswered_indicators_do_not_count(dii):
    # Three yes, the rest unanswered: still 3 met, T = 25.00, very low.
    result = score(dii, {"DII01": True, "DII02": True, "DII03": True})
    assert result.total == D("25.00")
    assert result.level == "very-low"


# --- The built-ins through the commands and the database ---------------------------------------


@pytest.mark.parametrize(
    ("path", "summary"),
    [
        (MIIT, "miit-sme 2024.1: valid"),
        (DMA, "edih-dma 2023.1: valid"),
        (DII, "eu-dii 2023.1: valid"),
    ],
    ids=lambda v: v.stem if isinstance(v, Path) else None,
)
def test_validate_framework_command_accepts_each_builtin(path, summary, capsys):
    call_command("validate_framework", str(path))
    captured = capsys.readouterr()
    assert summary in captured.out
    assert captured.err == ""


@pytest.mark.django_db
def test_load_frameworks_publishes_the_builtins_and_their_stored_definitions_score_alike():
    call_command("load_frameworks", stdout=StringIO(), stderr=StringIO())
    versions = FrameworkVersion.objects.published().select_related("framework")
    assert sorted((v.framework.slug, v.version) for v in versions) == [
        ("edih-dma", "2023.1"),
        ("eu-dii", "2023.1"),
        ("miit-sme", "2024.1"),
    ]
    # The stored JSON definition must score exactly like the file (no precision lost on
    # points such as 0.7, 1.875 or 1.75).
    stored = {v.framework.slug: parse_framework(v.definition) for v in versions}
    assert (
        score(stored["miit-sme"], MIIT_STRONG).as_dict()
        == score(load_framework_file(MIIT), MIIT_STRONG).as_dict()
    )
    assert score(stored["miit-sme"], MIIT_MIDDLING).total == D("47.90")
    assert score(stored["edih-dma"], DMA_EDGE).total == D("25.50")
    assert score(stored["eu-dii"], _dii(set(DII_CODES[:7]))).level == "high"

    out = StringIO()
    call_command("load_frameworks", stdout=out, stderr=StringIO())  # idempotent
    assert out.getvalue().count("unchanged") == 3
    assert FrameworkVersion.objects.count() == 3
