"""A programme with known stored results, for the figures' and the programme report's tests and
for the samples (docs/samples/generate_programme.py): firms with a baseline and an acceptance
rating on one framework version, projects of two or more providers in every stage with their
stage changes, ratings, and on-site verifications made through the real services (some
confirming the self-report, some correcting it downwards with a reason)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from assessments.framework import Framework
from assessments.models import Answer, Assessment, FrameworkVersion
from clusters.models import Cluster, Region
from programmes import services
from programmes.models import (
    AssessorScope,
    Programme,
    Provider,
    ProviderRating,
    RetrofitProject,
)
from programmes.services import Finding, ProgrammeRuleError
from tests.factories import (
    ClusterFactory,
    FirmFactory,
    MembershipFactory,
    OfficialScopeFactory,
    RegionFactory,
    UserFactory,
    make_uscc,
)
from tests.reports.builders import (
    TEST_FRAMEWORK,
    answers_for,
    framework_version,
    make_round,
    submit_many,
)

T0 = dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
T1 = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
# The stage path of a project that goes all the way, and the day (after T0) of each move.
PATH = (
    RetrofitProject.Stage.CONTRACTED,
    RetrofitProject.Stage.IN_PROGRESS,
    RetrofitProject.Stage.DELIVERED,
    RetrofitProject.Stage.ACCEPTED,
)


@dataclass
class Plan:
    """One project to build: its provider (index), the stage it ends at, how far the firm
    moves, whether its acceptance is verified (and corrected downwards), and its rating."""

    provider: int
    stage: str
    skill: float
    gain: float = 0.25
    verify: str = ""  # "", "confirm" or "lower"
    verify_baseline: bool = False
    rating: int | None = None
    days: int = 120  # from the contract to the acceptance
    targeted: tuple[str, ...] = ()


@dataclass
class Built:
    programme: Programme
    region: Region
    cluster: Cluster
    version: FrameworkVersion
    fw: Framework
    official: Any
    assessor: Any
    providers: list[Provider]
    projects: list[RetrofitProject] = field(default_factory=list)
    t0_round: Any = None
    t1_round: Any = None


def _store_answers(assessment: Assessment, answers: dict[str, Any]) -> None:
    Answer.objects.bulk_create(
        [Answer(assessment=assessment, question_code=c, value=v) for c, v in answers.items()]
    )


def _verify(
    assessment: Assessment, reported: dict[str, Any], lower: dict[str, Any] | None, assessor: Any
) -> None:
    """Verify through the services: confirm everything, or first change every answer that
    the lower set answers differently (with a reason); falls back to confirming should the
    corrected set break a rule of the framework."""
    verification = services.verification_start(assessment, user=assessor)
    if lower:
        for code, value in lower.items():
            if code in reported and reported[code] != value:
                services.verification_record(
                    verification, Finding(code, value, "现场核验与自评不符"), user=assessor
                )
    services.verification_confirm_rest(verification, user=assessor)
    try:
        services.verification_complete(verification, user=assessor)
    except ProgrammeRuleError:
        for code, value in reported.items():
            services.verification_record(verification, Finding(code, value), user=assessor)
        services.verification_complete(verification, user=assessor)


def build_programme(
    plans: Sequence[Plan],
    *,
    path: Path = TEST_FRAMEWORK,
    provider_names: Sequence[str] = ("服务商甲", "服务商乙"),
    target_level: str | None = None,
    target_firms: int = 10,
    target_date: dt.date | None = dt.date(2027, 6, 30),
    seed: int = 5,
    region: Region | None = None,
    cluster: Cluster | None = None,
    firm_names: Sequence[str] | None = None,
    programme_names: tuple[str, str] = ("示范转型计划", "Pilot transformation programme"),
) -> Built:
    """Build the programme of `plans` (one firm and project each) and return what it made."""
    rng = random.Random(seed)
    version, fw = framework_version(path)
    region = region or RegionFactory(code="350200", name_zh="厦门市", name_en="Xiamen")
    cluster = cluster or ClusterFactory(
        slug=f"pilot-{region.pk}", name_zh="厦门试点集群", name_en="Xiamen pilot", region=region
    )
    official = UserFactory(username=f"official-{region.pk}")
    OfficialScopeFactory(user=official, region=region)
    assessor = UserFactory(username=f"assessor-{region.pk}")
    AssessorScope.objects.create(user=assessor, region=region, organisation="评测机构")
    providers = [
        Provider.objects.create(
            uscc=make_uscc(900_000 + region.pk * 10 + i),
            name=name,
            kind=Provider.Kind.INTEGRATOR,
            region=region,
        )
        for i, name in enumerate(provider_names)
    ]
    programme = Programme.objects.create(
        slug=f"programme-{region.pk}",
        name_zh=programme_names[0],
        name_en=programme_names[1],
        region=region,
        framework_version=version,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        target_level=target_level or fw.levels[1].code,
        target_firms=target_firms,
        target_date=target_date,
    )
    firms = []
    for i, _plan in enumerate(plans):
        name = firm_names[i] if firm_names else f"企业{i + 1:02d}"
        firm = FirmFactory(name=name, region=region)
        MembershipFactory(cluster=cluster, firm=firm)
        firms.append(firm)
    t0 = make_round(cluster, version, name="基线评测轮次", opens=T0)
    t1 = make_round(cluster, version, name="验收评测轮次", opens=T1)
    before = [answers_for(fw, p.skill, rng) for p in plans]
    after = [answers_for(fw, min(1.0, p.skill + p.gain), rng) for p in plans]
    baselines = [a for a, _r in submit_many(t0, fw, firms, before)]
    accepted_plans = [i for i, p in enumerate(plans) if p.stage == RetrofitProject.Stage.ACCEPTED]
    acceptances: dict[int, Assessment] = {}
    if accepted_plans:
        rows = submit_many(
            t1, fw, [firms[i] for i in accepted_plans], [after[i] for i in accepted_plans]
        )
        acceptances = {i: a for i, (a, _r) in zip(accepted_plans, rows, strict=True)}
    built = Built(
        programme, region, cluster, version, fw, official, assessor, providers, [], t0, t1
    )
    for i, (plan, firm) in enumerate(zip(plans, firms, strict=True)):
        created = T0 + dt.timedelta(days=10)
        project = services.project_create(
            programme,
            firm=firm,
            provider=providers[plan.provider],
            user=official,
            baseline=baselines[i],
            title=f"改造项目{i + 1}",
            targeted_questions=list(plan.targeted),
            starts_on=dt.date(2025, 4, 1),
            ends_on=dt.date(2026, 3, 31),
            budget_10k_cny=Decimal("50.00") + i,
            subsidy_10k_cny=Decimal("20.00"),
            now=created,
        )
        contracted = created + dt.timedelta(days=5)
        if plan.stage == RetrofitProject.Stage.ABANDONED:
            services.project_move(
                project, RetrofitProject.Stage.CONTRACTED, user=official, now=contracted
            )
            services.project_move(
                project,
                RetrofitProject.Stage.ABANDONED,
                user=official,
                now=contracted + dt.timedelta(days=30),
            )
        elif plan.stage != RetrofitProject.Stage.DIAGNOSED:
            stops = PATH[: PATH.index(plan.stage) + 1] if plan.stage in PATH else ()
            for k, stage in enumerate(stops):
                when = contracted + dt.timedelta(days=plan.days * k // 3)
                if stage == RetrofitProject.Stage.ACCEPTED:
                    # The acceptance rating comes after T1 opens; the move after it.
                    when = max(contracted + dt.timedelta(days=plan.days), T1 + dt.timedelta(days=4))
                    services.project_link(project, user=official, acceptance=acceptances[i])
                services.project_move(project, stage, user=official, now=when)
        if plan.rating is not None and plan.stage == RetrofitProject.Stage.ACCEPTED:
            ProviderRating.objects.create(
                project=project, score=plan.rating, rated_at=T1 + dt.timedelta(days=30)
            )
        if plan.verify and i in acceptances:
            _store_answers(acceptances[i], after[i])
            lower = (
                answers_for(fw, max(0.0, plan.skill - 0.2), random.Random(seed + i))
                if plan.verify == "lower"
                else None
            )
            _verify(acceptances[i], after[i], lower, assessor)
        if plan.verify_baseline:
            _store_answers(baselines[i], before[i])
            _verify(baselines[i], before[i], None, assessor)
        project.refresh_from_db()
        built.projects.append(project)
    return built


ACCEPTED = RetrofitProject.Stage.ACCEPTED


def standard_plans() -> list[Plan]:
    """Twelve projects: provider 0 with eight (six accepted, one in progress, one abandoned),
    provider 1 with four (two accepted, one delivered, one diagnosed)."""
    return [
        Plan(0, ACCEPTED, 0.15, 0.45, verify="lower", rating=5, days=90, targeted=("S1", "S2")),
        Plan(0, ACCEPTED, 0.25, 0.40, verify="confirm", rating=4, days=120, targeted=("S1",)),
        Plan(0, ACCEPTED, 0.35, 0.35, verify="lower", rating=4, days=150),
        Plan(0, ACCEPTED, 0.45, 0.30, rating=3, days=100, targeted=("M1",)),
        Plan(0, ACCEPTED, 0.55, 0.30, verify="confirm", verify_baseline=True, days=200),
        Plan(0, ACCEPTED, 0.05, 0.60, verify="lower", rating=5, days=80, targeted=("S1", "B3")),
        Plan(0, RetrofitProject.Stage.IN_PROGRESS, 0.30),
        Plan(0, RetrofitProject.Stage.ABANDONED, 0.20),
        Plan(1, ACCEPTED, 0.20, 0.20, rating=2, days=300),
        Plan(1, ACCEPTED, 0.60, 0.10, verify="confirm", rating=3, days=240),
        Plan(1, RetrofitProject.Stage.DELIVERED, 0.40),
        Plan(1, RetrofitProject.Stage.DIAGNOSED, 0.50),
    ]
