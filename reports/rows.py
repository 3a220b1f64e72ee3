"""One row per submitted assessment of a round, for the XLSX annex and `export_results`.

Streamed: the rows are read once, and their dimension scores and attainments in chunks, so
neither memory nor the number of queries grows with every answer of every firm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import FloatField
from django.db.models.functions import Cast

from assessments.models import DimensionScore, FrameworkVersion, QuestionAttainment, Round
from assessments.versions import framework_for
from reports.aggregates import submitted_in


@dataclass(frozen=True)
class FirmRow:
    """One firm's submitted assessment: its figures, dimension scores in framework order."""

    assessment_id: int
    uscc: str
    firm: str
    size_class: str
    total: Decimal | None
    level: str
    basic: bool | None
    advanced: bool | None
    dimensions: tuple[Decimal | None, ...]
    submitted_at: Any
    # The level of the completed on-site verification (issue 13); "" when not verified.
    verified_level: str | None = None


def dimension_codes(version: FrameworkVersion) -> list[str]:
    """The framework version's dimension codes, in file order."""
    return [d.code for d in framework_for(version).dimensions]


def firm_rows(round_: Round, *, chunk: int = 2000) -> Iterator[FirmRow]:
    """One row per submitted assessment of the round, by firm name, streamed in chunks (one
    query for the rows, one per chunk for their dimension scores)."""
    codes = dimension_codes(round_.framework_version)
    rows = list(
        submitted_in([round_.pk])
        .order_by("firm__name", "id")
        .values_list(
            "id",
            "firm__uscc",
            "firm__name",
            "firm__size_class",
            "total",
            "level",
            "basic",
            "advanced",
            "submitted_at",
            "verification__status",
            "verification__level",
        )
    )
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        scores: dict[tuple[int, str], Decimal | None] = {
            (a, c): s
            for a, c, s in DimensionScore.objects.filter(
                assessment_id__in=[r[0] for r in part]
            ).values_list("assessment_id", "dimension_code", "score")
        }
        for row in part:
            aid, uscc, name, size, total, level, basic, advanced, submitted = row[:9]
            status, verified = row[9], row[10]
            yield FirmRow(
                assessment_id=aid,
                uscc=uscc,
                firm=name,
                size_class=size,
                total=total,
                level=level,
                basic=basic,
                advanced=advanced,
                dimensions=tuple(scores.get((aid, c)) for c in codes),
                submitted_at=submitted,
                # None: not verified; "" (below the first level) or a level code when it is.
                verified_level=(verified or "") if status == "completed" else None,
            )


def attainment_values(round_: Round) -> Iterator[tuple[int, dict[str, float]]]:
    """(assessment id, {question: attainment}) per submitted assessment, in id order, streamed."""
    rows = (
        QuestionAttainment.objects.filter(assessment__in=submitted_in([round_.pk]))
        .order_by("assessment_id")
        .values_list("assessment_id", "question_code", Cast("attainment", FloatField()))
        .iterator(chunk_size=20000)
    )
    current: int | None = None
    values: dict[str, float] = {}
    for assessment_id, code, attainment in rows:
        if assessment_id != current:
            if current is not None:
                yield current, values
            current, values = assessment_id, {}
        values[code] = attainment
    if current is not None:
        yield current, values
