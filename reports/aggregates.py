"""The GROUP BY queries behind a report's figures, for one cluster's round and for the benchmark
over every cluster (reports/benchmark.py) alike.

Python only loops over the small grouped rows, never over every answer of every firm; the
arithmetic on them is assessments/statistics.py. The same queries run on SQLite (3.25+, for
window functions) and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, FloatField, Q, QuerySet, Window
from django.db.models.functions import Cast, RowNumber

from assessments import statistics
from assessments.framework import Framework, Question
from assessments.models import Assessment, DimensionScore, QuestionAttainment

# A scored question is "met" from half its points on; a level question from the middle of its scale.
MEET_SHARE = Decimal("0.5")


@dataclass(frozen=True)
class Spread:
    """Mean and quartiles of one dimension's scores over a set of firms."""

    n: int
    mean: float | None
    q1: float | None
    median: float | None
    q3: float | None


def submitted_in(round_ids: Iterable[int]) -> QuerySet[Assessment]:
    """The submitted assessments of these rounds."""
    return Assessment.objects.submitted().filter(round_id__in=list(round_ids))


@dataclass(frozen=True)
class BandCounts:
    """Submitted assessments of a round, and how many of them are basic and advanced."""

    n: int
    basic: int
    advanced: int


NO_BAND_COUNTS = BandCounts(0, 0, 0)


def band_counts(round_ids: Iterable[int]) -> dict[int, BandCounts]:
    """{round id: its BandCounts} in one GROUP BY; rounds without submissions are left out."""
    return {
        row["round_id"]: BandCounts(row["n"], row["basic"], row["advanced"])
        for row in submitted_in(round_ids)
        .values("round_id")
        .annotate(
            n=Count("id"),
            basic=Count("id", filter=Q(basic=True)),
            advanced=Count("id", filter=Q(advanced=True)),
        )
        .order_by()
    }


def meet_threshold(question: Question) -> Decimal | None:
    """The attainment from which a firm meets a question; None for text questions."""
    if question.type == "text":
        return None
    if question.type == "level":
        values = sorted(Decimal(c.value) for c in question.levels)
        if not values:
            return None
        middle = (values[0] + values[-1]) / 2
        return next(v for v in values if v >= middle)
    return MEET_SHARE


def spreads(scores: QuerySet[DimensionScore]) -> dict[str, Spread]:
    """Mean and quartiles per dimension: one GROUP BY and one window query, any backend."""
    scores = scores.filter(score__isnull=False)
    stats = {
        row["dimension_code"]: row
        for row in scores.values("dimension_code").annotate(n=Count("id"), mean=Avg("score"))
    }
    wanted = {
        code: statistics.quartile_positions(row["n"]) for code, row in stats.items() if row["n"]
    }
    numbers = sorted(
        {n for at in wanted.values() for pos in at.values() for n in (pos.low, pos.high)}
    )
    values: dict[tuple[str, int], float] = {}
    if numbers:
        ranked = scores.annotate(
            rn=Window(RowNumber(), partition_by=[F("dimension_code")], order_by=F("score").asc())
        ).values_list("dimension_code", "rn", "score")
        for code, rn, score in ranked.filter(rn__in=numbers):
            if score is not None:
                values[(code, rn)] = float(score)
    out = {}
    for code, row in stats.items():
        quart: dict[str, float | None] = {}
        for name, pos in wanted.get(code, {}).items():
            a, b = values.get((code, pos.low)), values.get((code, pos.high))
            quart[name] = (
                None
                if a is None or b is None
                else round(statistics.interpolate(a, b, pos.weight), 1)
            )
        out[code] = Spread(
            n=row["n"],
            mean=statistics.rounded(row["mean"]),
            q1=quart.get("q1"),
            median=quart.get("median"),
            q3=quart.get("q3"),
        )
    return out


def homogeneity_by_group(
    scores: QuerySet[DimensionScore], group: str, fw: Framework
) -> dict[Any, float]:
    """The homogeneity of the weighted dimensions per group (e.g. per round) of at least two
    firms, from each dimension's mean and mean of squares in SQL."""
    weighted = [d.code for d in fw.dimensions if d.weight > 0]
    rows = (
        scores.filter(score__isnull=False, dimension_code__in=weighted)
        .annotate(s=Cast("score", FloatField()))
        .values(group, "dimension_code")
        .annotate(n=Count("id"), m=Avg("s"), m2=Avg(F("s") * F("s")))
    )
    moments: dict[Any, list[tuple[float, float]]] = defaultdict(list)
    sizes: dict[Any, int] = defaultdict(int)
    for row in rows:
        moments[row[group]].append((row["m"] or 0.0, row["m2"] or 0.0))
        sizes[row[group]] = max(sizes[row[group]], row["n"])
    out = {}
    for g, of_group in moments.items():
        value = statistics.homogeneity(of_group)
        if value is not None and sizes[g] >= 2:
            out[g] = value
    return out


def question_stats(
    attainments: QuerySet[QuestionAttainment], fw: Framework
) -> dict[str, tuple[int, int]]:
    """(firms answering, firms meeting) per question, in one conditional GROUP BY."""
    # Scored questions store their points and are met from half of them; level questions
    # (points NULL) are grouped by threshold so the filter stays a few terms long.
    by_threshold: dict[Decimal, list[str]] = defaultdict(list)
    scored = False
    for q in fw.questions:
        threshold = meet_threshold(q)
        if threshold is None:
            continue
        if q.type == "level":
            by_threshold[threshold].append(q.code)
        else:
            scored = True
    meets = Q(attainment__lt=0, attainment__gt=0)  # nothing, unless a term below applies
    if scored:
        meets |= Q(points__isnull=False, attainment__gte=MEET_SHARE)
    for threshold, codes in by_threshold.items():
        meets |= Q(points__isnull=True, question_code__in=codes, attainment__gte=threshold)
    return {
        row["question_code"]: (row["n"], row["met"])
        for row in attainments.values("question_code").annotate(
            n=Count("id"), met=Count("id", filter=meets)
        )
    }
