"""Fixtures for report tests: scored, submitted assessments in the stored shape."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import FirmFactory, MembershipFactory
from tests.reports.builders import answers_for, framework_version, invite, make_round, submit_many


@dataclass
class Scored:
    """A fixture round with the Result objects the scorer returned, keyed by firm."""

    round: Any
    previous: Any
    fw: Any
    firms: list[Any]
    results: dict[int, Any]  # firm id -> Result (this round)
    previous_results: dict[int, Any]
    invited: int
    benchmark_results: list[Any]  # every result on the same framework version


def _skills(n: int, rng: random.Random) -> list[float]:
    return [rng.uniform(0.05, 0.95) for _ in range(n)]


@pytest.fixture
def scored(world: dict[str, Any]) -> Scored:
    """Cluster alpha: 24 firms invited, 20 submitted, after a previous round; beta: 10 firms."""
    rng = random.Random(13)  # a seed whose firms spread over every level and both bands
    version, fw = framework_version()
    alpha, beta = world["alpha"], world["beta"]
    sizes = ["micro", "small", "medium", "small"]
    firms = list(world["firms"]["alpha"])
    for i in range(21):
        firm = FirmFactory(size_class=sizes[i % 4], name=f"Alpha firm {i:02d}")
        MembershipFactory(cluster=alpha, firm=firm)
        firms.append(firm)
    opens = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    previous = make_round(alpha, version, name="Round T0", opens=opens)
    current = make_round(alpha, version, name="Round T1", opens=opens + dt.timedelta(days=365))
    skills = _skills(len(firms), rng)
    before = firms[:16]
    prev = submit_many(previous, fw, before, [answers_for(fw, skills[i], rng) for i in range(16)])
    invite(current, firms)
    done = firms[:20]
    now = submit_many(
        current,
        fw,
        done,
        [answers_for(fw, min(1, skills[i] + 0.1), rng) for i in range(20)],
        with_invitations=False,
    )
    beta_firms = list(world["firms"]["beta"])
    for _ in range(7):
        firm = FirmFactory()
        MembershipFactory(cluster=beta, firm=firm)
        beta_firms.append(firm)
    beta_round = make_round(beta, version, name="Beta T0", opens=opens)
    other = submit_many(
        beta_round, fw, beta_firms, [answers_for(fw, rng.uniform(0, 1), rng) for _ in beta_firms]
    )
    return Scored(
        round=current,
        previous=previous,
        fw=fw,
        firms=done,
        results={a.firm_id: r for a, r in now},
        previous_results={a.firm_id: r for a, r in prev},
        invited=len(firms),
        benchmark_results=[r for _a, r in prev + now + other],
    )
