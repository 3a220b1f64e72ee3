"""A small programme for the page and rule tests (issue 13, pages).

Province A (of the shared `world`) runs programme P on the report-test framework (levels L1 <
L2 < L3), target 3 firms at L2 by 2027-06-30, with provider K registered in province A. Firm A
(firm_user's, cluster alpha) has a low baseline in round 1 and a high acceptance in round 2, both
submitted; firm B (other_firm_user's, alpha) a baseline only. The regional official of province
A runs the programme; the cluster official of alpha sees its firms' projects, read-only.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from programmes.models import Programme, Provider
from tests.factories import ProgrammeFactory, ProviderFactory
from tests.reports.builders import answers_for, framework_version, make_round, submit_many


@dataclass
class Scene:
    world: dict[str, Any]
    programme: Programme
    provider: Provider
    firm_a: Any
    firm_b: Any
    baseline_a: Any
    acceptance_a: Any
    baseline_b: Any
    version: Any
    fw: Any
    round1: Any
    round2: Any


def build(world: dict[str, Any]) -> Scene:
    """The scene (see the module docstring)."""
    version, fw = framework_version()
    now = timezone.now()
    alpha = world["alpha"]
    firm_a, firm_b = world["firms"]["alpha"][0], world["firms"]["alpha"][1]
    round1 = make_round(alpha, version, name="轮次一", opens=now - dt.timedelta(days=200))
    round2 = make_round(alpha, version, name="轮次二", opens=now - dt.timedelta(days=20))
    rng = random.Random(13)
    (baseline_a, _), (baseline_b, _) = submit_many(
        round1, fw, [firm_a, firm_b], [answers_for(fw, 0.05, rng), answers_for(fw, 0.1, rng)]
    )
    ((acceptance_a, _),) = submit_many(
        round2, fw, [firm_a], [answers_for(fw, 1.0, rng)], submitted_at=now - dt.timedelta(days=5)
    )
    programme = ProgrammeFactory(
        slug="programme-a",
        name_zh="苏州数字化转型计划",
        name_en="Suzhou transformation programme",
        region=world["province_a"],
        framework_version=version,
        target_level="L2",
        target_firms=3,
        target_date=dt.date(2027, 6, 30),
    )
    provider = ProviderFactory(name="服务商甲", region=world["province_a"])
    return Scene(
        world=world,
        programme=programme,
        provider=provider,
        firm_a=firm_a,
        firm_b=firm_b,
        baseline_a=baseline_a,
        acceptance_a=acceptance_a,
        baseline_b=baseline_b,
        version=version,
        fw=fw,
        round1=round1,
        round2=round2,
    )
