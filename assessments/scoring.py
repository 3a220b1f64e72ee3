"""The pure scorer (FRAMEWORK_FORMAT.md, "Scoring" and "Result").

No Django, no clock, no floats in arithmetic. Every point value of a framework is a decimal
with finitely many digits, so each framework gets an integer scale (10**k, k = the most
decimals used) and all sums are done on exact integers; the two divisions of the contract
(S_d and T) are rounded half-up on integers too. Results come back as `Decimal`.

A framework is compiled once into a `_Plan` (closures for answer checks, earned points and
conditions) that is cached on the `Framework` object, so scoring many assessments against
the same version does the set-up work only once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import compress
from typing import Any

from assessments.framework import SCORED_TYPES, Framework, Question

__all__ = [
    "AnswerError",
    "NextLevel",
    "Result",
    "Unmet",
    "applicable",
    "check_answer",
    "check_answers",
    "evaluate",
    "missing_required",
    "score",
]

ATTAINMENT_PLACES = 6


class AnswerError(Exception):
    """Answers that cannot be scored; `problems` lists each as `answers.CODE: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Unmet:
    condition: dict
    actual: Any  # Decimal | int | None, or the answer itself for a question condition


@dataclass(frozen=True)
class NextLevel:
    code: str
    unmet: tuple[Unmet, ...]


@dataclass(frozen=True)
class Result:
    framework: str
    version: str
    total: Decimal
    dimensions: dict[str, Decimal | None]
    level: str | None
    basic: bool
    advanced: bool
    next_level: NextLevel | None
    attainment: dict[str, Decimal]
    earned: dict[str, Decimal]
    applicable: frozenset[str]

    def as_dict(self) -> dict:
        """The contract's result JSON: scores as numbers with at most 2 decimals."""
        next_level = None
        if self.next_level is not None:
            next_level = {
                "code": self.next_level.code,
                "unmet": [
                    {"condition": u.condition, "actual": _json_value(u.actual)}
                    for u in self.next_level.unmet
                ],
            }
        return {
            "framework": self.framework,
            "version": self.version,
            "total": float(self.total),
            "dimensions": {
                code: None if value is None else float(value)
                for code, value in self.dimensions.items()
            },
            "level": self.level,
            "basic": self.basic,
            "advanced": self.advanced,
            "next_level": next_level,
        }

    def snapshot(self) -> dict:
        """as_dict() plus attainment and earned points per question; JSON-safe, for storage."""
        data = self.as_dict()
        data["attainment"] = {code: _json_number(v) for code, v in self.attainment.items()}
        data["earned"] = {code: _json_number(v) for code, v in self.earned.items()}
        return data


def _json_number(value: Decimal) -> int | float:
    # Values carry a few decimals at most, so the float's shortest repr is the same number.
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple | list):
        return list(value)
    return value


# --- Compiling a framework -------------------------------------------------------------------


class _Memo(dict):
    """A dict that computes (and keeps) a missing value with `factory`."""

    def __init__(self, factory: Callable[[Any], Any]) -> None:
        super().__init__()
        self.factory = factory

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.factory(key)
        return value


class _Invalid(Exception):
    """Raised by an answer normaliser; the message says what is wrong with one answer."""


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'"{shown}"'
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _num(value: Decimal) -> str:
    """A number for a problem message: written out, or with an exponent when it is huge.

    Writing out 1e300 takes 301 characters, and normalize() overflows on 1e1000000.
    """
    if -30 <= value.adjusted() <= 30:
        return format(value.normalize(), "f")
    return format(value, ".6g")


def _to_decimal(value: object) -> Decimal | None:
    """An answer as an exact Decimal (floats through their shortest repr), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def _ceil(value: Decimal, times: int = 1) -> int:
    """The smallest integer >= value * times, computed exactly (no Decimal context rounding)."""
    return math.ceil(Fraction(value) * times)


def _scaled(value: Decimal, scale: int) -> int:
    """value * scale as an exact integer (scale is a power of ten covering value's decimals)."""
    product = Fraction(value) * scale
    assert product.denominator == 1
    return product.numerator


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up to an integer (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _normaliser(q: Question) -> Callable[[object], object]:
    """A function that checks one answer and returns its normal form, or raises _Invalid."""
    qtype = q.type
    if qtype == "single":
        codes = frozenset(o.code for o in q.options)
        listing = ", ".join(o.code for o in q.options)

        def single(value: object) -> object:
            if value.__class__ is str and value in codes:
                return value
            if not isinstance(value, str):
                raise _Invalid(f"must be an option code, got {_describe(value)}")
            if value not in codes:
                raise _Invalid(f'option "{value}" is not one of {listing}')
            return value

        return single

    if qtype == "multi":
        codes = frozenset(o.code for o in q.options)
        exclusive = frozenset(o.code for o in q.options if o.exclusive)
        listing = ", ".join(o.code for o in q.options)

        def multi(value: object) -> object:
            if value.__class__ is list:
                try:
                    chosen = frozenset(value)
                except TypeError:  # unhashable items: the slow path names them
                    chosen = None
                if (
                    chosen is not None
                    and len(chosen) == len(value)
                    and chosen <= codes
                    and (len(chosen) < 2 or exclusive.isdisjoint(chosen))
                ):
                    return value
            if not isinstance(value, list | tuple):
                raise _Invalid(f"must be a list of option codes, got {_describe(value)}")
            seen: set[str] = set()
            for item in value:
                if not isinstance(item, str):
                    raise _Invalid(f"must be a list of option codes, but has {_describe(item)}")
                if item not in codes:
                    raise _Invalid(f'option "{item}" is not one of {listing}')
                if item in seen:
                    raise _Invalid(f'option "{item}" is chosen more than once')
                seen.add(item)
            if exclusive and len(seen) > 1:
                for item in value:
                    if item in exclusive:
                        raise _Invalid(f'option "{item}" cannot be combined with other options')
            return tuple(value)

        return multi

    if qtype == "yesno":

        def yesno(value: object) -> object:
            if not isinstance(value, bool):
                raise _Invalid(f"must be true or false, got {_describe(value)}")
            return value

        return yesno

    if qtype == "number":
        low, high, integer = q.min, q.max, q.integer

        def number(value: object) -> object:
            number = _to_decimal(value)
            if number is None:
                raise _Invalid(f"must be a number, got {_describe(value)}")
            if (low is not None and number < low) or (high is not None and number > high):
                if low is not None and high is not None:
                    bounds = f"between {_num(low)} and {_num(high)}"
                elif low is not None:
                    bounds = f"at least {_num(low)}"
                else:
                    bounds = f"at most {_num(high)}"  # type: ignore[arg-type]
                raise _Invalid(f"must be {bounds}, got {_num(number)}")
            if integer and number != number.to_integral_value():
                raise _Invalid(f"must be a whole number, got {_num(number)}")
            return number

        return number

    if qtype == "level":
        values = frozenset(c.value for c in q.levels)
        listing = ", ".join(str(c.value) for c in q.levels)

        def level(value: object) -> object:
            if value.__class__ is int and value in values:
                return value
            if isinstance(value, bool) or not isinstance(value, int):
                raise _Invalid(f"must be one of {listing}, got {_describe(value)}")
            if value not in values:
                raise _Invalid(f"must be one of {listing}, got {value}")
            return value

        return level

    max_length = q.max_length

    def text_answer(value: object) -> object:
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, got {_describe(value)}")
        if len(value) > max_length:
            raise _Invalid(f"is {len(value)} characters long; at most {max_length} are allowed")
        return value

    return text_answer


def _earner(q: Question, scale: int) -> Callable[[object], int]:
    """A function from a normalised answer to the scaled integer points it earns."""
    points = _scaled(q.points, scale) if q.points is not None else 0
    if q.type == "single":
        table = {o.code: _scaled(o.points, scale) for o in q.options}
        return table.__getitem__  # type: ignore[return-value]
    if q.type == "multi":
        table = {o.code: _scaled(o.points, scale) for o in q.options}

        def multi(value: Any) -> int:
            total = 0
            for code in value:
                total += table[code]
            return total if total < points else points

        return multi
    if q.type == "yesno":
        return lambda value: points if value else 0
    # number: the first band whose upto >= the answer; the last band may have no upto.
    bands = tuple((b.upto, _scaled(b.points, scale)) for b in q.bands)

    def number(value: Any) -> int:
        for upto, earned in bands:
            if upto is None or value <= upto:
                return earned
        return 0

    return number


@dataclass
class _State:
    values: list  # normalised answer per question index; None if unanswered or not applicable
    raw: Mapping  # the answers as given, by code
    earned: list  # scaled points of answered applicable scored questions, else None
    total: int  # T in hundredths
    dims: list  # S_d in hundredths, or None
    counts: dict[int, int] = field(default_factory=dict)  # count results, by id of the count spec


_Cond = Callable[[_State], bool]


class _Plan:
    """A framework compiled for fast, repeated scoring."""

    def __init__(self, fw: Framework) -> None:
        self.fw = fw
        questions = fw.questions
        self.questions = questions
        self.index = {q.code: i for i, q in enumerate(questions)}
        decimals = 0
        for q in questions:
            amounts = [q.points] if q.points is not None else []
            amounts += [o.points for o in q.options] + [b.points for b in q.bands]
            for amount in amounts:
                exponent = amount.as_tuple().exponent
                # The validator rejects NaN and infinities, whose exponent is a letter.
                assert isinstance(exponent, int)
                decimals = max(decimals, -min(0, exponent))
        self.decimals = decimals
        self.scale = 10**decimals
        self.normalise = [_normaliser(q) for q in questions]
        dim_index = {d.code: i for i, d in enumerate(fw.dimensions)}
        self.dim_codes = [d.code for d in fw.dimensions]
        self.dim_of = [dim_index[q.dimension] for q in questions]
        self.points = [
            _scaled(q.points, self.scale) if q.points is not None else 0 for q in questions
        ]
        # (index, dimension index, points, earn) for each scored question, in file order
        self.scored = [
            (i, self.dim_of[i], self.points[i], _earner(q, self.scale))
            for i, q in enumerate(questions)
            if q.type in SCORED_TYPES
        ]
        self.show_if: list[_Cond | None] = [
            self.compile(q.show_if) if q.show_if is not None else None for q in questions
        ]
        self.any_show_if = any(c is not None for c in self.show_if)
        weight_decimals = max(
            (-min(0, d.weight.as_tuple().exponent) for d in fw.dimensions),  # type: ignore[operator]
            default=0,
        )
        weight_scale = 10**weight_decimals
        self.weights = [_scaled(d.weight, weight_scale) for d in fw.dimensions]
        self.levels = [
            (
                level.code,
                tuple(self.compile(c) for c in level.when),
                level.when,
                tuple(self.actual(c) for c in level.when),
            )
            for level in fw.levels
        ]
        # Decimal results are memoised: the same few values recur across assessments.
        self.hundredths: dict[int, Decimal] = {}
        self.is_scored = [q.type in SCORED_TYPES for q in questions]
        self.scored_indices = [i for i, scored in enumerate(self.is_scored) if scored]
        self.earned_decimal = _Memo(lambda e: Decimal(e).scaleb(-self.decimals))
        self.attainment_decimal = [
            _Memo(self._attainment_factory(self.points[i]) if scored else Decimal)
            for i, scored in enumerate(self.is_scored)
        ]
        self.basic_rank = fw.level_rank(fw.bands.basic)
        self.advanced_rank = fw.level_rank(fw.bands.advanced)
        self.codes = [q.code for q in questions]
        self.required = [q.required for q in questions]
        self.kinds = [q.type for q in questions]
        self.output_order = [i for i, q in enumerate(questions) if q.type != "text"]

    # -- conditions --

    def compile(self, condition: dict) -> _Cond:
        """A condition as a function of the scoring state."""
        if "question" in condition:
            i = self.index[condition["question"]]
            qtype = self.questions[i].type
            if "in" in condition:
                wanted: frozenset = frozenset(
                    _to_decimal(v) if qtype == "number" else v for v in condition["in"]
                )
                if qtype == "multi":
                    return lambda s: s.values[i] is not None and not wanted.isdisjoint(s.values[i])
                if qtype == "yesno":
                    # True == 1 in Python: compare booleans as booleans only.
                    flags = frozenset(bool(v) for v in condition["in"] if isinstance(v, bool))
                    return lambda s: s.values[i] is not None and s.values[i] in flags
                return lambda s: s.values[i] is not None and s.values[i] in wanted
            low = _to_decimal(condition["min"]) if "min" in condition else None
            high = _to_decimal(condition["max"]) if "max" in condition else None

            def compare(s: _State) -> bool:
                value = s.values[i]
                if value is None:
                    return False
                return (low is None or value >= low) and (high is None or value <= high)

            return compare
        if "all" in condition:
            parts = tuple(self.compile(c) for c in condition["all"])
            return lambda s: all(p(s) for p in parts)
        if "any" in condition:
            parts = tuple(self.compile(c) for c in condition["any"])
            return lambda s: any(p(s) for p in parts)
        if "score" in condition:
            threshold = _ceil(_to_decimal(condition["score"]), 100)  # type: ignore[arg-type]
            return lambda s: s.total >= threshold
        if "dimension" in condition:
            d = self.dim_codes.index(condition["dimension"])
            threshold = _ceil(_to_decimal(condition["min"]), 100)  # type: ignore[arg-type]
            return lambda s: s.dims[d] is not None and s.dims[d] >= threshold
        if "count" in condition:
            count = self.counter(condition["count"])
            at_least = condition["count"]["at_least"]
            return lambda s: count(s) >= at_least
        raise ValueError(f"not a condition: {condition!r}")  # the validator prevents this

    def counter(self, spec: dict) -> Callable[[_State], int]:
        """Counts applicable answered questions (by tag or dimension) with attainment >= x."""
        if "tag" in spec:
            selected = [i for i, q in enumerate(self.questions) if spec["tag"] in q.tags]
        else:
            selected = [i for i, q in enumerate(self.questions) if q.dimension == spec["dimension"]]
        x = _to_decimal(spec["min_attainment"])
        assert x is not None
        # Earned points and level values are integers, so "a_q >= x" becomes an integer
        # comparison with a threshold rounded up: e / points >= x <=> e >= ceil(x * points).
        scored: list[tuple[int, int]] = []
        levels: list[int] = []
        for i in selected:
            q = self.questions[i]
            if q.type in SCORED_TYPES:
                points = self.points[i]
                if points == 0:  # attainment 0: counts only when x <= 0
                    if x <= 0:
                        scored.append((i, 0))
                else:
                    scored.append((i, _ceil(x, points)))
            elif q.type == "level":
                levels.append(i)
        level_threshold = _ceil(x)

        key = id(spec)

        def count(s: _State) -> int:
            n = s.counts.get(key)
            if n is not None:
                return n
            n = 0
            earned = s.earned
            for i, threshold in scored:
                e = earned[i]
                if e is not None and e >= threshold:
                    n += 1
            values = s.values
            for i in levels:
                v = values[i]
                if v is not None and v >= level_threshold:
                    n += 1
            s.counts[key] = n
            return n

        return count

    def actual(self, condition: dict) -> Callable[[_State], Any]:
        """A function giving the actual value shown beside the condition when it is unmet."""
        if "question" in condition:
            i = self.index[condition["question"]]
            code = condition["question"]
            return lambda s: s.raw.get(code) if s.values[i] is not None else None
        if "score" in condition:
            return lambda s: Decimal(s.total).scaleb(-2)
        if "dimension" in condition:
            d = self.dim_codes.index(condition["dimension"])
            return lambda s: None if s.dims[d] is None else Decimal(s.dims[d]).scaleb(-2)
        if "count" in condition:
            return self.counter(condition["count"])
        return lambda s: None  # all / any

    # -- answers --

    def check(self, answers: Mapping[str, object], strict: bool) -> tuple[list, Mapping, list[str]]:
        """Normalised answers by question index, the answers as given, and the problems found."""
        n = len(self.questions)
        values: list = [None] * n
        problems: list[str] = []
        index = self.index
        normalise = self.normalise
        for code, value in answers.items():
            i = index.get(code)
            if i is None:
                if strict:
                    problems.append(f"answers.{code}: unknown question")
                continue
            if value is None:
                continue
            try:
                values[i] = normalise[i](value)
            except _Invalid as exc:
                if strict:
                    problems.append(f"answers.{code}: {exc}")
                continue
        return values, answers, problems

    def state(self, values: list, raw: Mapping) -> tuple[_State, list[bool]]:
        """Applicability (in file order, as show_if only looks back) and every score."""
        n = len(values)
        applies = [True] * n
        state = _State(values, raw, [None] * n, 0, [])
        if self.any_show_if:
            for i, condition in enumerate(self.show_if):
                if condition is not None and not condition(state):
                    applies[i] = False
                    values[i] = None
        earned = state.earned
        ndims = len(self.weights)
        sum_e = [0] * ndims
        sum_p = [0] * ndims
        for i, d, points, earn in self.scored:
            if not applies[i]:
                continue
            sum_p[d] += points
            value = values[i]
            if value is not None:
                e = earn(value)
                earned[i] = e
                sum_e[d] += e
        dims: list[int | None] = [
            _half_up(10000 * e, p) if p else None for e, p in zip(sum_e, sum_p, strict=True)
        ]
        state.dims = dims
        numerator = denominator = 0
        for w, s in zip(self.weights, dims, strict=True):
            if w > 0 and s is not None:
                numerator += w * s
                denominator += w
        state.total = _half_up(numerator, denominator) if denominator else 0
        return state, applies

    def _attainment_factory(self, points: int) -> Callable[[int], Decimal]:
        unit = 10**ATTAINMENT_PLACES

        def attainment(e: int) -> Decimal:
            if not points:
                return Decimal(0)
            return Decimal(_half_up(e * unit, points)).scaleb(-ATTAINMENT_PLACES)

        return attainment

    def decimal_score(self, hundredths: int) -> Decimal:
        """A score kept in hundredths as a Decimal with 2 places (memoised)."""
        value = self.hundredths.get(hundredths)
        if value is None:
            if len(self.hundredths) < 20000:  # 0.00..100.00 is 10,001 values
                value = self.hundredths[hundredths] = Decimal(hundredths).scaleb(-2)
            else:
                value = Decimal(hundredths).scaleb(-2)
        return value

    def result(self, values: list, raw: Mapping) -> Result:
        """Score answers that have already been checked."""
        state, applies = self.state(values, raw)
        rank = -1
        failed = None
        held: list[bool] = []
        for level in self.levels:
            # Every condition is evaluated (no short cut): the failing level needs them all.
            held = [condition(state) for condition in level[1]]
            if not all(held):
                failed = level
                break
            rank += 1
        next_level = None
        if failed is not None:
            code, _, when, actuals = failed
            unmet = tuple(
                Unmet(raw_condition, actual(state))
                for ok, raw_condition, actual in zip(held, when, actuals, strict=True)
                if not ok
            )
            next_level = NextLevel(code, unmet)

        codes = self.codes
        earned = state.earned
        is_scored = self.is_scored
        earned_decimal = self.earned_decimal
        attainment_decimal = self.attainment_decimal
        # For scored questions the key is e (None when unanswered or not applicable); for level
        # questions it is the value (None likewise). Text questions are not in output_order.
        attainment = {
            codes[i]: attainment_decimal[i][k]
            for i in self.output_order
            if (k := earned[i] if is_scored[i] else values[i]) is not None
        }
        earned_out = {
            codes[i]: earned_decimal[earned[i] or 0] for i in self.scored_indices if applies[i]
        }
        level_code = self.levels[rank][0] if rank >= 0 else None
        return Result(
            framework=self.fw.slug,
            version=self.fw.version,
            total=self.decimal_score(state.total),
            dimensions={
                code: None if s is None else self.decimal_score(s)
                for code, s in zip(self.dim_codes, state.dims, strict=True)
            },
            level=level_code,
            basic=rank >= self.basic_rank,
            advanced=rank >= self.advanced_rank,
            next_level=next_level,
            attainment=attainment,
            earned=earned_out,
            applicable=frozenset(compress(codes, applies)),
        )


def _plan(fw: Framework) -> _Plan:
    plan = fw.__dict__.get("_scoring_plan")
    if plan is None:
        plan = _Plan(fw)
        object.__setattr__(fw, "_scoring_plan", plan)
    return plan


def _answers_problem(answers: object) -> str | None:
    if not isinstance(answers, Mapping):
        return f"answers: must be a mapping of question codes to answers, got {_describe(answers)}"
    return None


# --- The public API --------------------------------------------------------------------------


def check_answer(fw: Framework, code: str, value: object) -> str | None:
    """The problem with one answer (without the `answers.CODE: ` prefix), or None when fine."""
    plan = _plan(fw)
    i = plan.index.get(code)
    if i is None:
        return "unknown question"
    if value is None:
        return None
    try:
        plan.normalise[i](value)
    except _Invalid as exc:
        return str(exc)
    return None


def check_answers(fw: Framework, answers: Mapping[str, object]) -> list[str]:
    """Every problem with the answers, as `answers.CODE: message`; [] when they are fine."""
    problem = _answers_problem(answers)
    if problem is not None:
        return [problem]
    return _plan(fw).check(answers, strict=True)[2]


def evaluate(condition: dict, fw: Framework, answers: Mapping[str, object]) -> bool:
    """Whether a condition holds on the answers (invalid answers count as unanswered)."""
    plan = _plan(fw)
    values, raw, _ = plan.check(answers, strict=False)
    state, _ = plan.state(values, raw)
    return plan.compile(condition)(state)


def applicable(fw: Framework, answers: Mapping[str, object]) -> frozenset[str]:
    """Codes of the questions that apply (invalid answers count as unanswered)."""
    plan = _plan(fw)
    values, raw, _ = plan.check(answers, strict=False)
    _, applies = plan.state(values, raw)
    return frozenset(c for c, a in zip(plan.codes, applies, strict=True) if a)


def missing_required(fw: Framework, answers: Mapping[str, object]) -> list[str]:
    """Codes of applicable required questions left unanswered, in file order."""
    plan = _plan(fw)
    values, raw, _ = plan.check(answers, strict=False)
    _, applies = plan.state(values, raw)
    return [
        code
        for code, a, req, value in zip(plan.codes, applies, plan.required, values, strict=True)
        if a and req and value is None
    ]


def score(fw: Framework, answers: Mapping[str, object]) -> Result:
    """Score answers against a framework; raises AnswerError listing every invalid answer."""
    problem = _answers_problem(answers)
    if problem is not None:
        raise AnswerError([problem])
    plan = _plan(fw)
    values, raw, problems = plan.check(answers, strict=True)
    if problems:
        raise AnswerError(problems)
    return plan.result(values, raw)
