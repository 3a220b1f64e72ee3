"""What the programme and provider pages show: stage counts, project rows, target progress.

Reads only (selectors). The caller passes the projects the user may see (from
`selectors.projects_visible_to`), so a cluster official's programme page counts the projects of
their clusters' firms, never the others'.

"Reached the target" means: the project is accepted, and its acceptance assessment is at the
target level or above, the verified level where a completed verification exists (on-site
ratings override the self-report), the self-reported one otherwise.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.framework import Framework
from assessments.models import Assessment
from assessments.services import framework_text
from assessments.versions import framework_for
from programmes.models import Programme, RetrofitProject, Verification

Stage = RetrofitProject.Stage


@dataclass(frozen=True)
class StageCount:
    """How many projects are at one stage."""

    stage: str
    label: str
    count: int


@dataclass(frozen=True)
class LevelShown:
    """A level as a page shows it: its code and its title in the active language."""

    code: str
    title: str


@dataclass
class ProjectRow:
    """One line of a project table."""

    project: RetrofitProject
    baseline: LevelShown | None = None
    acceptance: LevelShown | None = None
    verified: LevelShown | None = None
    verified_of: str = ""  # "acceptance" or "baseline": which assessment was verified
    stage_days: int | None = None


@dataclass(frozen=True)
class Progress:
    """The programme's target and how far the visible projects are towards it."""

    target_level: LevelShown | None
    target_firms: int
    target_date: datetime.date | None
    reached: int
    reached_verified: int  # of `reached`, those whose level is an on-site verified one
    accepted: int
    days_left: int | None
    share: int | None = None  # percent of target_firms reached, capped at 100


@dataclass
class Levels:
    """The framework's levels, for titles and ranks."""

    framework: Framework
    titles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, programme: Programme) -> Levels:
        framework = framework_for(programme.framework_version)
        titles = {lv.code: framework_text(lv.title) for lv in framework.levels}
        return cls(framework, titles)

    def shown(self, code: str | None) -> LevelShown:
        if not code:
            return LevelShown("", _("Below the first level"))
        return LevelShown(code, self.titles.get(code, code))

    def rank(self, code: str | None) -> int | None:
        try:
            return self.framework.level_rank(code or None)
        except KeyError:
            return None


def stage_counts(projects: QuerySet[RetrofitProject]) -> list[StageCount]:
    """The projects per stage, every stage listed (zero included), in the stages' order."""
    counts = dict(projects.order_by().values_list("stage").annotate(n=Count("pk")))
    return [StageCount(value, str(label), counts.get(value, 0)) for value, label in Stage.choices]


def _verified(assessment_ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """Completed verifications' (level, rank) by assessment id."""
    ids = [i for i in assessment_ids if i]
    if not ids:
        return {}
    return {
        row[0]: (row[1], row[2])
        for row in Verification.objects.filter(
            assessment_id__in=ids, status=Verification.Status.COMPLETED
        ).values_list("assessment_id", "level", "level_rank")
    }


def project_rows(
    programme: Programme | None, projects: Iterable[RetrofitProject], *, now: Any = None
) -> list[ProjectRow]:
    """Rows for a page of projects (each with baseline, acceptance and verified levels).

    The projects must have `baseline` and `acceptance` selected (select_related); with
    `programme` None, each row's levels come from its own programme's framework.
    """
    now = now or timezone.now()
    projects = list(projects)
    verified = _verified(
        [p.acceptance_id or 0 for p in projects] + [p.baseline_id or 0 for p in projects]
    )
    levels_of: dict[int, Levels] = {}
    rows = []
    for project in projects:
        source = programme or project.programme
        if source.pk not in levels_of:
            levels_of[source.pk] = Levels.of(source)
        levels = levels_of[source.pk]
        row = ProjectRow(project)
        if project.baseline_id and project.baseline:
            row.baseline = levels.shown(project.baseline.level)
        if project.acceptance_id and project.acceptance:
            row.acceptance = levels.shown(project.acceptance.level)
        if project.acceptance_id in verified:
            row.verified, row.verified_of = (
                levels.shown(verified[project.acceptance_id][0]),
                "acceptance",
            )
        elif project.baseline_id in verified:
            row.verified, row.verified_of = (
                levels.shown(verified[project.baseline_id][0]),
                "baseline",
            )
        if project.stage_changed_at:
            row.stage_days = max(0, (now - project.stage_changed_at).days)
        rows.append(row)
    return rows


def progress(
    programme: Programme, projects: QuerySet[RetrofitProject], *, today: Any = None
) -> Progress:
    """Firms at the target level or above after acceptance, against the programme's target."""
    today = today or timezone.localdate()
    levels = Levels.of(programme)
    target_rank = levels.rank(programme.target_level)
    accepted = list(
        projects.filter(stage=Stage.ACCEPTED, acceptance__isnull=False).values_list(
            "acceptance_id", "acceptance__level_rank"
        )
    )
    verified = _verified([a for a, _rank in accepted])
    reached = reached_verified = 0
    if target_rank is not None:
        for assessment_id, rank in accepted:
            if assessment_id in verified:
                rank = verified[assessment_id][1]
            if rank is not None and rank >= target_rank:
                reached += 1
                reached_verified += assessment_id in verified
    days_left = (programme.target_date - today).days if programme.target_date else None
    share = None
    if programme.target_firms:
        share = min(100, round(100 * reached / programme.target_firms))
    return Progress(
        target_level=levels.shown(programme.target_level) if programme.target_level else None,
        target_firms=programme.target_firms,
        target_date=programme.target_date,
        reached=reached,
        reached_verified=reached_verified,
        accepted=len(accepted),
        days_left=days_left,
        share=share,
    )


def assessment_choices(programme: Programme, firm_id: int) -> QuerySet[Assessment]:
    """The firm's submitted assessments on the programme's framework version, newest first:
    what a project may link as its baseline or acceptance."""
    return (
        Assessment.objects.submitted()
        .filter(firm_id=firm_id, framework_version_id=programme.framework_version_id)
        .select_related("round")
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class QuestionGroup:
    """Questions of the framework under one heading (a scene group, else a dimension)."""

    title: str
    questions: list[tuple[str, str]]  # (code, "code · text")


def question_groups(programme: Programme) -> list[QuestionGroup]:
    """The framework's questions grouped for the targets picker: by group where the framework
    defines groups (MIIT's scene groups), the rest by dimension."""
    framework = framework_for(programme.framework_version)
    grouped: dict[str, QuestionGroup] = {}
    for dimension in framework.dimensions:
        for question in dimension.questions:
            group = framework.group_of(question)
            title = framework_text(group.title if group else dimension.title)
            key = f"g:{group.tag}" if group else f"d:{dimension.code}"
            if key not in grouped:
                grouped[key] = QuestionGroup(title, [])
            grouped[key].questions.append(
                (question.code, f"{question.code} · {framework_text(question.text)}")
            )
    return list(grouped.values())
