"""Tier 1 properties (hypothesis): the total stays within 0..100, and within a dimension more
earned points never give a lower score."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.framework import Framework, parse_framework
from assessments.scoring import score

POINTS = st.one_of(
    st.integers(min_value=0, max_value=20),
    st.decimals(min_value=0, max_value=20, places=2, allow_nan=False).map(float),
)


@st.composite
def questions(draw: st.DrawFn, code: str) -> dict:
    """A scored or unscored question whose option/band points never exceed its points."""
    kind = draw(st.sampled_from(["single", "multi", "yesno", "number", "level"]))
    if kind == "level":
        return {
            "code": code,
            "type": "level",
            "text": code,
            "tags": ["t"],
            "levels": [{"value": v, "text": str(v)} for v in range(draw(st.integers(1, 4)))],
        }
    points = draw(POINTS)
    question = {"code": code, "type": kind, "text": code, "points": points, "tags": ["t"]}
    capped = st.decimals(min_value=0, max_value=Decimal(str(points)), places=2).map(float)
    if kind in ("single", "multi"):
        n = draw(st.integers(2, 4))
        question["options"] = [
            {"code": f"o{i}", "text": f"o{i}", "points": draw(capped)} for i in range(n)
        ]
    elif kind == "number":
        uptos = sorted(set(draw(st.lists(st.integers(0, 100), min_size=1, max_size=4))))
        question["bands"] = [{"upto": u, "points": draw(capped)} for u in uptos]
        if draw(st.booleans()):
            question["bands"].append({"points": draw(capped)})
        question["min"], question["max"] = 0, 120
    return question


@st.composite
def frameworks(draw: st.DrawFn) -> Framework:
    dims = []
    n = 0
    for d in range(draw(st.integers(1, 4))):
        qs = []
        for _ in range(draw(st.integers(1, 5))):
            qs.append(draw(questions(f"q{n}")))
            n += 1
        weight = draw(st.one_of(st.integers(0, 5), st.sampled_from([0.5, 1.25, 2.75])))
        dims.append({"code": f"d{d}", "title": f"d{d}", "weight": weight, "questions": qs})
    return parse_framework(
        {
            "format": 1,
            "framework": "prop",
            "version": "1",
            "title": "p",
            "languages": ["en"],
            "bands": {"basic": "L1", "advanced": "L2"},
            "levels": [
                {"code": "L1", "title": "L1", "when": [{"score": 30}]},
                {
                    "code": "L2",
                    "title": "L2",
                    "when": [{"count": {"tag": "t", "min_attainment": 0.5, "at_least": 2}}],
                },
            ],
            "dimensions": dims,
        }
    )


def answer_strategy(q: object) -> st.SearchStrategy:
    """Valid answers for a question, or None (unanswered)."""
    qtype = q.type  # type: ignore[attr-defined]
    if qtype == "single":
        inner = st.sampled_from([o.code for o in q.options])  # type: ignore[attr-defined]
    elif qtype == "multi":
        inner = st.lists(
            st.sampled_from([o.code for o in q.options]),  # type: ignore[attr-defined]
            unique=True,
        )
    elif qtype == "yesno":
        inner = st.booleans()
    elif qtype == "number":
        inner = st.one_of(st.integers(0, 120), st.floats(0, 120, allow_nan=False))
    else:
        inner = st.sampled_from([c.value for c in q.levels])  # type: ignore[attr-defined]
    return st.one_of(st.none(), inner)


@st.composite
def framework_and_answers(draw: st.DrawFn) -> tuple[Framework, dict]:
    fw = draw(frameworks())
    answers = {q.code: draw(answer_strategy(q)) for q in fw.questions}
    return fw, answers


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(framework_and_answers())
def test_total_and_dimension_scores_stay_within_0_and_100(case: tuple[Framework, dict]) -> None:
    fw, answers = case
    result = score(fw, answers)
    assert Decimal(0) <= result.total <= Decimal(100)
    assert result.total == result.total.quantize(Decimal("0.01"))
    for value in result.dimensions.values():
        assert value is None or Decimal(0) <= value <= Decimal(100)
    for code, earned in result.earned.items():
        assert Decimal(0) <= earned <= fw.question(code).points  # type: ignore[operator]


def _single_improvement(fw: Framework, answers: dict, data: st.DataObject) -> tuple[str, dict]:
    """Change one single/yesno answer to one that earns at least as many points."""
    candidates = [q for q in fw.questions if q.type in ("single", "yesno")]
    q = data.draw(st.sampled_from(candidates))
    before = score(fw, answers).earned[q.code]
    if q.type == "yesno":
        better = [True] if q.points and q.points > before else [answers.get(q.code)]
    else:
        better = [o.code for o in q.options if o.points >= before]
    improved = dict(answers)
    improved[q.code] = data.draw(st.sampled_from(better))
    return q.code, improved


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(framework_and_answers(), st.data())
def test_more_earned_points_never_lower_a_score(
    case: tuple[Framework, dict], data: st.DataObject
) -> None:
    fw, answers = case
    if not any(q.type in ("single", "yesno") for q in fw.questions):
        return
    code, improved = _single_improvement(fw, answers, data)
    before, after = score(fw, answers), score(fw, improved)
    assert after.earned[code] >= before.earned[code]
    dimension = fw.question(code).dimension
    if before.dimensions[dimension] is not None:
        assert after.dimensions[dimension] >= before.dimensions[dimension]  # type: ignore[operator]
    # weights are never negative, so the total cannot fall either
    assert after.total >= before.total


@settings(max_examples=200, deadline=None)
@given(framework_and_answers())
def test_the_total_can_be_recomputed_from_the_printed_dimension_scores(
    case: tuple[Framework, dict],
) -> None:
    fw, answers = case
    result = score(fw, answers)
    weighted = [
        (d.weight, result.dimensions[d.code])
        for d in fw.dimensions
        if d.weight > 0 and result.dimensions[d.code] is not None
    ]
    if not weighted:
        assert result.total == 0
        return
    exact = sum(w * s for w, s in weighted) / sum(w for w, _ in weighted)  # type: ignore[misc]
    assert abs(result.total - exact) <= Decimal("0.005")
