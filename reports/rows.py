"""One row per submitted assessment of a round, for the XLSX annex and `export_results`.

Streamed: the rows, their dimension scores and their attainments are each read once, in
assessment id order, through cursors that fetch in chunks; they are joined in step, so neither
memory nor the number of queries grows with the number of firms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import FloatField, QuerySet
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
    dimensions: tuple[Decimal | float | None, ...]
    submitted_at: Any
    # The level of the completed on-site verification (issue 13); "" when not verified.
    verified_level: str | None = None


def dimension_codes(version: FrameworkVersion) -> list[str]:
    """The framework version's dimension codes, in file order."""
    return [d.code for d in framework_for(version).dimensions]


_FIRM_FIELDS = (
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


def _stream(queryset: QuerySet[Any], chunk: int) -> Iterator[tuple[Any, ...]]:
    """The rows of a `values_list` query straight from a database cursor, `chunk` at a time.

    The cursor is the one `QuerySet.iterator()` uses (server-side on PostgreSQL, so the result
    is never held whole), without Django's per-row converters: only for columns that need
    none (ids, text, floats cast in SQL). At 10,000 firms the annex reads about 330,000 such
    rows, and the converters cost more than the query."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield from rows


def firm_rows(round_: Round, *, chunk: int = 2000, as_float: bool = False) -> Iterator[FirmRow]:
    """One row per submitted assessment of the round, in assessment id order, streamed.

    Two queries read in step, each through a cursor in chunks of `chunk` rows (a server-side
    cursor on PostgreSQL): the assessments, and their dimension scores in the same id order.
    Neither list is held whole, whatever the number of firms. `as_float` gives the dimension
    scores as floats read without converters (what a spreadsheet cell holds anyway), for the
    annex; the CSV export keeps the stored Decimals, digit for digit."""
    codes = dimension_codes(round_.framework_version)
    submitted = submitted_in([round_.pk])
    rows = submitted.order_by("id").values_list(*_FIRM_FIELDS).iterator(chunk_size=chunk)
    ordered = DimensionScore.objects.filter(assessment__in=submitted).order_by("assessment_id")
    size = chunk * len(codes or [1])
    scores = (
        _stream(
            ordered.values_list("assessment_id", "dimension_code", Cast("score", FloatField())),
            size,
        )
        if as_float
        else ordered.values_list("assessment_id", "dimension_code", "score").iterator(
            chunk_size=size
        )
    )
    pending = next(scores, None)
    for row in rows:
        aid, uscc, name, size, total, level, basic, advanced, submitted_at = row[:9]
        status, verified = row[9], row[10]
        mine: dict[str, Any] = {}
        # Scores of assessments before this one belong to none of the rows (not submitted).
        while pending is not None and pending[0] <= aid:
            if pending[0] == aid:
                mine[pending[1]] = pending[2]
            pending = next(scores, None)
        yield FirmRow(
            assessment_id=aid,
            uscc=uscc,
            firm=name,
            size_class=size,
            total=total,
            level=level,
            basic=basic,
            advanced=advanced,
            dimensions=tuple(mine.get(c) for c in codes),
            submitted_at=submitted_at,
            # None: not verified; "" (below the first level) or a level code when it is.
            verified_level=(verified or "") if status == "completed" else None,
        )


def attainment_values(round_: Round) -> Iterator[tuple[int, dict[str, float]]]:
    """(assessment id, {question: attainment}) per submitted assessment, in id order, streamed."""
    rows = _stream(
        QuestionAttainment.objects.filter(assessment__in=submitted_in([round_.pk]))
        .order_by("assessment_id")
        .values_list("assessment_id", "question_code", Cast("attainment", FloatField())),
        20000,
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


def attainment_rows(round_: Round) -> Iterator[tuple[str, str, dict[str, float]]]:
    """(USCC, firm name, {question: attainment}) per submitted assessment, in id order: the
    firms and their attainments read in step, streamed (an assessment without attainment rows
    gets an empty dict)."""
    firms = (
        submitted_in([round_.pk])
        .order_by("id")
        .values_list("id", "firm__uscc", "firm__name")
        .iterator(chunk_size=2000)
    )
    values = attainment_values(round_)
    pending = next(values, None)
    for aid, uscc, name in firms:
        mine: dict[str, float] = {}
        while pending is not None and pending[0] <= aid:
            if pending[0] == aid:
                mine = pending[1]
            pending = next(values, None)
        yield uscc, name, mine
