"""Service-level tests of every project, stage and rating rule of programmes/services.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from programmes import services
from programmes.models import ProviderRating, RetrofitProject, StageChange
from programmes.services import ProgrammeRuleError
from tests.factories import AssessmentFactory, FrameworkVersionFactory, ProgrammeFactory
from tests.programmes.scene import Scene, build
from tests.reports.builders import make_round

pytestmark = pytest.mark.django_db
Stage = RetrofitProject.Stage


@pytest.fixture
def scene(world: dict[str, Any]) -> Scene:
    return build(world)


def _project(scene: Scene, user: Any, **kwargs: Any) -> RetrofitProject:
    kwargs.setdefault("baseline", scene.baseline_a)
    return services.project_create(
        scene.programme, firm=scene.firm_a, provider=scene.provider, user=user, **kwargs
    )


def _accepted(scene: Scene, user: Any) -> RetrofitProject:
    project = _project(scene, user)
    services.project_link(project, user=user, acceptance=scene.acceptance_a)
    return services.project_move(project, Stage.ACCEPTED, user=user)


def _refused(field: str, call: Any, *args: Any, **kwargs: Any) -> ProgrammeRuleError:
    with pytest.raises(ProgrammeRuleError) as caught:
        call(*args, **kwargs)
    assert caught.value.field == field
    assert caught.value.message
    return caught.value


# --- Creating a project ---------------------------------------------------------------------


def test_project_starts_diagnosed_with_a_first_stage_change(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    assert project.stage == Stage.DIAGNOSED
    (change,) = project.stage_changes.all()
    assert (change.from_stage, change.to_stage) == ("", Stage.DIAGNOSED)
    assert change.changed_by == regional_official
    assert change.changed_at is not None


def test_firm_outside_the_region_is_refused(scene: Scene, regional_official: Any):
    outside = scene.world["firms"]["gamma"][0]  # province B
    error = _refused(
        "firm",
        services.project_create,
        scene.programme,
        firm=outside,
        provider=scene.provider,
        user=regional_official,
    )
    assert outside.name in error.message
    assert not RetrofitProject.objects.exists()


def test_second_project_of_a_firm_in_the_programme_is_refused(scene: Scene, regional_official: Any):
    _project(scene, regional_official)
    _refused("firm", _project, scene, regional_official, baseline=None)
    assert RetrofitProject.objects.count() == 1


def test_baseline_of_another_firm_is_refused(scene: Scene, regional_official: Any):
    error = _refused("baseline", _project, scene, regional_official, baseline=scene.baseline_b)
    assert scene.firm_a.name in error.message


def test_draft_baseline_is_refused(scene: Scene, regional_official: Any):
    round3 = make_round(scene.world["alpha"], scene.version, name="轮次三", opens=timezone.now())
    draft = AssessmentFactory(round=round3, firm=scene.firm_a)
    _refused("baseline", _project, scene, regional_official, baseline=draft)


def test_baseline_on_another_framework_version_is_refused(
    scene: Scene, regional_official: Any, world: dict[str, Any]
):
    other_version = FrameworkVersionFactory()  # the built-in MIIT framework
    other_round = scene.round1.__class__.objects.create(
        cluster=world["alpha"],
        framework_version=other_version,
        name="其他版本轮次",
        opens_at=scene.round1.opens_at,
        closes_at=scene.round1.closes_at,
    )
    other = AssessmentFactory(round=other_round, firm=scene.firm_a)
    other.__class__.objects.filter(pk=other.pk).update(
        status="submitted", submitted_at=timezone.now()
    )
    other.refresh_from_db()
    error = _refused("baseline", _project, scene, regional_official, baseline=other)
    assert str(other_version) in error.message


def test_subsidy_above_budget_dates_reversed_and_unknown_targets_are_refused(
    scene: Scene, regional_official: Any
):
    _refused(
        "subsidy_10k_cny",
        _project,
        scene,
        regional_official,
        budget_10k_cny=Decimal("10"),
        subsidy_10k_cny=Decimal("12"),
    )
    _refused(
        "ends_on",
        _project,
        scene,
        regional_official,
        starts_on=dt.date(2026, 5, 1),
        ends_on=dt.date(2026, 4, 1),
    )
    _refused("targeted_questions", _project, scene, regional_official, targeted_questions=["NOPE"])
    assert not RetrofitProject.objects.exists()


def test_targets_are_kept_once_in_framework_order(scene: Scene, regional_official: Any):
    codes = [q.code for q in scene.fw.questions]
    project = _project(scene, regional_official, targeted_questions=[codes[2], codes[0], codes[2]])
    assert project.targeted_questions == [codes[0], codes[2]]


# --- Linking assessments ----------------------------------------------------------------------


def test_acceptance_submitted_before_the_baseline_is_refused(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official, baseline=scene.acceptance_a)  # the later one
    _refused(
        "acceptance",
        services.project_link,
        project,
        user=regional_official,
        acceptance=scene.baseline_a,
    )
    project.refresh_from_db()
    assert project.acceptance_id is None


def test_acceptance_cannot_be_the_baseline_again(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    _refused(
        "acceptance",
        services.project_link,
        project,
        user=regional_official,
        acceptance=scene.baseline_a,
    )


def test_acceptance_of_another_firm_is_refused(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    _refused(
        "acceptance",
        services.project_link,
        project,
        user=regional_official,
        acceptance=scene.baseline_b,
    )


def test_baseline_cannot_change_once_under_way(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    services.project_move(project, Stage.CONTRACTED, user=regional_official)
    _refused(
        "baseline",
        services.project_link,
        project,
        user=regional_official,
        baseline=scene.acceptance_a,
    )


# --- Stages -----------------------------------------------------------------------------------


def test_stage_moves_forward_and_each_move_is_recorded(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    services.project_link(project, user=regional_official, acceptance=scene.acceptance_a)
    moments = []
    for index, stage in enumerate(
        (Stage.CONTRACTED, Stage.IN_PROGRESS, Stage.DELIVERED, Stage.ACCEPTED)
    ):
        when = timezone.now() + dt.timedelta(days=index + 1)
        moments.append(when)
        project = services.project_move(
            project, stage, user=regional_official, note=f"note {index}", now=when
        )
    changes = list(project.stage_changes.order_by("changed_at", "pk"))
    assert [(c.from_stage, c.to_stage) for c in changes] == [
        ("", Stage.DIAGNOSED),
        (Stage.DIAGNOSED, Stage.CONTRACTED),
        (Stage.CONTRACTED, Stage.IN_PROGRESS),
        (Stage.IN_PROGRESS, Stage.DELIVERED),
        (Stage.DELIVERED, Stage.ACCEPTED),
    ]
    assert all(c.changed_by == regional_official for c in changes)
    assert [c.changed_at for c in changes[1:]] == moments
    assert [c.note for c in changes[1:]] == ["note 0", "note 1", "note 2", "note 3"]
    assert project.accepted_at == moments[-1]


def test_stage_cannot_go_backwards(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    services.project_move(project, Stage.IN_PROGRESS, user=regional_official)
    error = _refused("", services.project_move, project, Stage.CONTRACTED, user=regional_official)
    project.refresh_from_db()
    assert project.get_stage_display() in error.message
    assert project.stage == Stage.IN_PROGRESS
    assert StageChange.objects.filter(project=project).count() == 2


def test_leaving_diagnosed_needs_the_baseline(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official, baseline=None)
    _refused("baseline", services.project_move, project, Stage.CONTRACTED, user=regional_official)
    project.refresh_from_db()
    assert project.stage == Stage.DIAGNOSED


def test_accepting_needs_the_acceptance_assessment(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    _refused("acceptance", services.project_move, project, Stage.ACCEPTED, user=regional_official)
    project.refresh_from_db()
    assert project.stage == Stage.DIAGNOSED
    assert project.accepted_at is None


def test_closed_project_moves_no_more(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    services.project_move(project, Stage.ABANDONED, user=regional_official)
    assert services.next_stages(project) == [] or project.refresh_from_db() is None
    project.refresh_from_db()
    assert services.next_stages(project) == []
    _refused("", services.project_move, project, Stage.CONTRACTED, user=regional_official)


def test_unknown_stage_and_long_note_are_refused(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    _refused("", services.project_move, project, "finished", user=regional_official)
    _refused(
        "note",
        services.project_move,
        project,
        Stage.CONTRACTED,
        user=regional_official,
        note="x" * 1001,
    )


def test_next_stages_are_the_forward_ones_then_abandoned(scene: Scene, regional_official: Any):
    project = _project(scene, regional_official)
    assert services.next_stages(project) == [
        Stage.CONTRACTED,
        Stage.IN_PROGRESS,
        Stage.DELIVERED,
        Stage.ACCEPTED,
        Stage.ABANDONED,
    ]
    services.project_move(project, Stage.DELIVERED, user=regional_official)
    project.refresh_from_db()
    assert services.next_stages(project) == [Stage.ACCEPTED, Stage.ABANDONED]


# --- Ratings ----------------------------------------------------------------------------------


def test_rating_before_acceptance_is_refused(scene: Scene, regional_official: Any, firm_user: Any):
    project = _project(scene, regional_official)
    _refused("", services.provider_rate, project, user=firm_user, score=4)
    assert not ProviderRating.objects.exists()


def test_firm_rates_once_after_acceptance(scene: Scene, regional_official: Any, firm_user: Any):
    project = _accepted(scene, regional_official)
    rating = services.provider_rate(project, user=firm_user, score=4, comment="  按期交付  ")
    assert (rating.score, rating.comment, rating.rated_by) == (4, "按期交付", firm_user)
    _refused("", services.provider_rate, project, user=firm_user, score=5)
    assert ProviderRating.objects.get().score == 4


def test_another_firm_and_an_official_cannot_rate(
    scene: Scene, regional_official: Any, other_firm_user: Any
):
    project = _accepted(scene, regional_official)
    _refused("", services.provider_rate, project, user=other_firm_user, score=3)
    _refused("", services.provider_rate, project, user=regional_official, score=3)
    assert not ProviderRating.objects.exists()


@pytest.mark.parametrize("score", [0, 6, -1, True, "4", 4.0])
def test_rating_out_of_range_is_refused(
    scene: Scene, regional_official: Any, firm_user: Any, score: Any
):
    project = _accepted(scene, regional_official)
    _refused("score", services.provider_rate, project, user=firm_user, score=score)


def test_rating_comment_over_1000_characters_is_refused(
    scene: Scene, regional_official: Any, firm_user: Any
):
    project = _accepted(scene, regional_official)
    _refused(
        "comment", services.provider_rate, project, user=firm_user, score=3, comment="好" * 1001
    )
    services.provider_rate(project, user=firm_user, score=3, comment="好" * 1000)


# --- Audit trail ------------------------------------------------------------------------------


def _entries(model: type, pk: Any) -> Any:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_pk=str(pk)
    )


def test_stage_changes_and_ratings_go_to_the_audit_trail(
    scene: Scene, regional_official: Any, firm_user: Any
):
    project = _accepted(scene, regional_official)
    rating = services.provider_rate(project, user=firm_user, score=5)
    changes = list(project.stage_changes.all())
    assert len(changes) == 2
    for change in changes:
        assert _entries(StageChange, change.pk).filter(action=LogEntry.Action.CREATE).exists()
    project_entries = _entries(RetrofitProject, project.pk)
    assert project_entries.filter(action=LogEntry.Action.UPDATE).exists()
    assert any("stage" in (e.changes_dict or {}) for e in project_entries)
    assert _entries(ProviderRating, rating.pk).filter(action=LogEntry.Action.CREATE).exists()


def test_programme_of_another_region_does_not_take_the_firm(
    scene: Scene, regional_official: Any, world: dict[str, Any]
):
    programme_b = ProgrammeFactory(region=world["province_b"], framework_version=scene.version)
    _refused(
        "firm",
        services.project_create,
        programme_b,
        firm=scene.firm_a,
        provider=scene.provider,
        user=regional_official,
    )
