"""The programme report's data (issue 13): a programme's figures (programmes/figures.py) with
the words a reader needs, as plain frozen dataclasses for the PDF template and the XLSX annex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from assessments.framework import Framework, text
from assessments.versions import framework_for
from programmes import figures
from programmes.models import Programme, RetrofitProject
from reports.aggregates import meet_threshold

# The stages in the report's words. Their own context keeps them apart from other "Accepted" or
# "In progress" msgids of the project (an invitation accepted, a questionnaire in progress).
Stage = RetrofitProject.Stage
STAGE_LABELS: dict[str, Any] = {
    Stage.DIAGNOSED: pgettext_lazy("retrofit project stage", "Diagnosed"),
    Stage.CONTRACTED: pgettext_lazy("retrofit project stage", "Contracted"),
    Stage.IN_PROGRESS: pgettext_lazy("retrofit project stage", "In progress"),
    Stage.DELIVERED: pgettext_lazy("retrofit project stage", "Delivered"),
    Stage.ACCEPTED: pgettext_lazy("retrofit project stage", "Accepted"),
    Stage.ABANDONED: pgettext_lazy("retrofit project stage", "Abandoned"),
}

# The PDF lists this many questions that moved (most firms first); the annex lists them all.
MOVES_PDF_LIMIT = 15


@dataclass(frozen=True)
class LevelTitle:
    rank: int
    title: str


@dataclass(frozen=True)
class StageRow:
    stage: str
    label: str
    count: int
    share: float | None  # percent of projects


@dataclass(frozen=True)
class MatrixRow:
    """One baseline level: its firms per acceptance level (None: suppressed)."""

    before: LevelTitle
    cells: tuple[figures.Figure, ...]  # in the order of ProgrammeReport.levels
    verified: tuple[int, ...]  # firms per cell whose both levels are verified
    total: int


@dataclass(frozen=True)
class Matrix:
    transition: figures.Transition
    rows: tuple[MatrixRow, ...]
    column_totals: tuple[int, ...]


@dataclass(frozen=True)
class MoveRow:
    code: str
    text: str
    targeted_n: int
    targeted_rose: figures.Figure
    all_n: int
    all_rose: figures.Figure
    all_share: figures.Figure  # percent of all compared firms answering it


@dataclass(frozen=True)
class DistributionRow:
    level: LevelTitle
    self_reported: figures.Figure
    verified: figures.Figure


@dataclass(frozen=True)
class VerificationBlock:
    """The verification figures of a cluster's round with the level titles, as the cluster
    report, its XLSX annex and the dashboard show them (one source, so they agree)."""

    figures: figures.VerificationFigures
    distribution: tuple[DistributionRow, ...]

    @property
    def any_verified(self) -> bool:
        return self.figures.any_verified


def verification_block(
    pairs: list[figures.LevelPair], levels: tuple[LevelTitle, ...], *, shareable: bool
) -> VerificationBlock:
    """The verification figures of these assessments, with the levels' titles."""
    title_of = {lv.rank: lv.title for lv in levels}
    found = figures.verification_figures(pairs, [lv.rank for lv in levels], shareable=shareable)
    return VerificationBlock(
        found,
        tuple(
            DistributionRow(LevelTitle(d.rank, title_of[d.rank]), d.self_reported, d.verified)
            for d in found.distribution
        ),
    )


def round_verification_block(
    round_id: int, fw: Framework, *, language: str, shareable: bool
) -> VerificationBlock:
    """The verification figures of one round's submitted assessments (one GROUP BY)."""
    return verification_block(
        figures.round_level_pairs([round_id]), level_titles(fw, language), shareable=shareable
    )


@dataclass(frozen=True)
class ProjectLine:
    """One project as the XLSX annex lists it (officials' edition only)."""

    row: figures.ProjectRow
    stage_label: str
    baseline_level: str
    baseline_verified_level: str
    acceptance_level: str
    acceptance_verified_level: str


@dataclass(frozen=True)
class ProgrammeReport:
    """Everything the programme report shows."""

    programme: str
    programme_slug: str
    region: str
    framework: str
    framework_version: str
    source: str
    generated_at: Any
    language: str
    shareable: bool
    starts_on: Any
    ends_on: Any
    target_level: str
    levels: tuple[LevelTitle, ...]
    projects: int
    stages: tuple[StageRow, ...]
    matrix: Matrix
    matrix_self: Matrix
    target: figures.TargetFigures
    moves: tuple[MoveRow, ...]  # every question with a compared firm, most risen first
    moves_targeted: int  # compared projects that target at least one question
    scorecards: tuple[figures.Scorecard, ...]
    verification: figures.VerificationFigures
    distribution: tuple[DistributionRow, ...]
    lines: tuple[ProjectLine, ...]  # empty in the shareable edition
    min_sample: int = figures.MIN_SAMPLE

    @property
    def moves_pdf(self) -> tuple[MoveRow, ...]:
        return self.moves[:MOVES_PDF_LIMIT]


def level_titles(fw: Framework, language: str) -> tuple[LevelTitle, ...]:
    """Every level rank of the framework with its title, "below the first level" (-1) first."""
    return (LevelTitle(-1, _("Below the first level")),) + tuple(
        LevelTitle(i, text(lv.title, language)) for i, lv in enumerate(fw.levels)
    )


def _matrix(
    transition: figures.Transition, levels: tuple[LevelTitle, ...], shareable: bool
) -> Matrix:
    rows = []
    for before in levels:
        cells = []
        verified = []
        for after in levels:
            found = transition.cell(before.rank, after.rank)
            count = found.count if found else 0
            # A cell names few firms' before and after: suppressed below MIN_SAMPLE when shared.
            cells.append(figures.figure(count, count, shareable=shareable and count > 0))
            verified.append(found.verified if found else 0)
        total = sum(transition.count(before.rank, a.rank) for a in levels)
        rows.append(MatrixRow(before, tuple(cells), tuple(verified), total))
    column_totals = tuple(sum(transition.count(b.rank, a.rank) for b in levels) for a in levels)
    return Matrix(transition, tuple(rows), column_totals)


def _rank_of(fw: Framework, code: str) -> int:
    try:
        return fw.level_rank(code)
    except KeyError:
        return len(fw.levels)  # an unknown target level: nobody reaches it


def programme_report(
    programme: Programme, *, language: str, shareable: bool = False
) -> ProgrammeReport:
    """Assemble the programme report (call under the job's language)."""
    version = programme.framework_version
    fw = framework_for(version)
    levels = level_titles(fw, language)
    ranks = [lv.rank for lv in levels]
    title_of = {lv.rank: lv.title for lv in levels}
    rows = figures.project_rows(programme)
    n = len(rows)

    stage_labels = STAGE_LABELS
    stages = tuple(
        StageRow(
            s.stage,
            str(stage_labels[s.stage]),
            s.count,
            round(100.0 * s.count / n, 1) if n else None,
        )
        for s in figures.stage_counts(rows)
    )

    target_rank = _rank_of(fw, programme.target_level)
    target = figures.target_figures(
        rows,
        target_rank=target_rank,
        target_firms=programme.target_firms,
        target_date=programme.target_date,
        today=timezone.localdate(),
        shareable=shareable,
    )

    codes = [q.code for q in fw.questions if meet_threshold(q) is not None]
    compared = [r for r in rows if r.compared]
    attainment = figures.attainment_of(
        [i for r in compared for i in (r.baseline_id, r.acceptance_id) if i is not None]
    )
    question_text = {q.code: text(q.text, language) for q in fw.questions}
    moves = []
    for m in figures.question_moves(rows, attainment, codes):
        if not m.all_n:
            continue
        moves.append(
            MoveRow(
                code=m.code,
                text=question_text.get(m.code, m.code),
                targeted_n=m.targeted_n,
                targeted_rose=figures.figure(
                    m.targeted_rose if m.targeted_n else None,
                    m.targeted_n,
                    shareable=shareable,
                    basis=m.targeted_rose,
                ),
                all_n=m.all_n,
                all_rose=figures.figure(m.all_rose, m.all_n, shareable=shareable, basis=m.all_rose),
                all_share=figures.figure(
                    round(100.0 * m.all_rose / m.all_n, 1),
                    m.all_n,
                    shareable=shareable,
                    basis=m.all_rose,
                ),
            )
        )
    moves.sort(key=lambda m: (-(m.all_rose.value or 0), -m.targeted_n, m.code))

    block = verification_block(figures.programme_level_pairs(rows), levels, shareable=shareable)
    verification, distribution = block.figures, block.distribution

    def level(rank: int | None) -> str:
        return "" if rank is None else title_of.get(rank, str(rank))

    lines: tuple[ProjectLine, ...] = ()
    if not shareable:
        lines = tuple(
            ProjectLine(
                row=r,
                stage_label=str(stage_labels.get(r.stage, r.stage)),
                baseline_level=level(r.baseline_rank),
                baseline_verified_level=level(r.baseline_verified_rank),
                acceptance_level=level(r.acceptance_rank),
                acceptance_verified_level=level(r.acceptance_verified_rank),
            )
            for r in rows
        )

    return ProgrammeReport(
        programme=programme.name_for(language),
        programme_slug=programme.slug,
        region=programme.region.name_for(language),
        framework=text(fw.title, language),
        framework_version=version.version,
        source=text(fw.source, language) if fw.source else version.source or "",
        generated_at=timezone.localtime(),
        language=language,
        shareable=shareable,
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        target_level=title_of.get(target_rank, programme.target_level),
        levels=levels,
        projects=n,
        stages=stages,
        matrix=_matrix(figures.transition(rows, ranks), levels, shareable),
        matrix_self=_matrix(figures.transition(rows, ranks, basis="self"), levels, shareable),
        target=target,
        moves=tuple(moves),
        moves_targeted=sum(1 for r in compared if r.targeted),
        scorecards=figures.scorecards(rows, shareable=shareable),
        verification=verification,
        distribution=distribution,
        lines=lines,
    )
