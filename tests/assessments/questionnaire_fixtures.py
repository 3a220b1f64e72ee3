"""Fixtures shared by the questionnaire tests: the demo framework, an open round, a draft."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from assessments.framework import load_framework_file
from assessments.models import Assessment, Invitation, Round
from assessments.versions import framework_version_load

DEMO_FILE = Path(__file__).parent / "frameworks" / "questionnaire-demo.yaml"

# Answers that reach L3 on the demo framework: base 83.33, ops 100, total 90.
FULL_ANSWERS: dict[str, Any] = {
    "B1": 55,
    "B2": ["policy", "firewall"],
    "B3": "office",
    "B4": True,
    "O1": 3,
    "O2": False,
    "O4": "erp",
    "O5": 3,
}


@pytest.fixture
def demo_framework() -> Any:
    return load_framework_file(DEMO_FILE)


@pytest.fixture
def demo_version(db: None, demo_framework: Any) -> Any:
    version, _status = framework_version_load(demo_framework, publish=True)
    return version


def make_round(
    cluster: Any,
    version: Any,
    *,
    name: str = "2026 春季评估",
    days_ago: int = 1,
    days_left: int = 30,
) -> Round:
    now = timezone.now()
    return Round.objects.create(
        cluster=cluster,
        framework_version=version,
        name=name,
        opens_at=now - dt.timedelta(days=days_ago),
        closes_at=now + dt.timedelta(days=days_left),
    )


@pytest.fixture
def open_round(world: dict, demo_version: Any) -> Round:
    return make_round(world["alpha"], demo_version)


@pytest.fixture
def invitations(open_round: Round, world: dict) -> list[Invitation]:
    return [
        Invitation.objects.create(round=open_round, firm=firm, token=f"token-{firm.pk}-xxxxxxxx")
        for firm in world["firms"]["alpha"]
    ]


@pytest.fixture
def draft(firm_user: Any, open_round: Round, invitations: list, world: dict) -> Assessment:
    return Assessment.objects.create(
        round=open_round,
        firm=world["firms"]["alpha"][0],
        framework_version=open_round.framework_version,
    )


def answer_all(assessment: Assessment, answers: dict[str, Any], user: Any) -> None:
    """Save answers one by one through the service, as the page does."""
    from assessments.services import answer_save

    for code, value in answers.items():
        current = assessment.answers.filter(question_code=code).first()
        answer_save(
            assessment, code, value, base_revision=current.revision if current else 0, user=user
        )
