"""Helpers for the questionnaire tests: the demo framework file, full answers, rounds, saving.

The fixtures built on them (`demo_framework`, `demo_version`, `open_round`, `invitations`,
`draft`) are in tests/conftest.py, shared with the security tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.utils import timezone

from assessments.models import Assessment, Round
from tests.factories import RoundFactory

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


def make_round(
    cluster: Any,
    version: Any,
    *,
    name: str = "2026 春季评估",
    days_ago: int = 1,
    days_left: int = 30,
) -> Round:
    """A round of the cluster that opened `days_ago` and closes in `days_left` days."""
    now = timezone.now()
    return RoundFactory(
        cluster=cluster,
        framework_version=version,
        name=name,
        opens_at=now - dt.timedelta(days=days_ago),
        closes_at=now + dt.timedelta(days=days_left),
    )


def answer_all(assessment: Assessment, answers: dict[str, Any], user: Any) -> None:
    """Save answers one by one through the service, as the page does."""
    from assessments.services import answer_save

    for code, value in answers.items():
        current = assessment.answers.filter(question_code=code).first()
        answer_save(
            assessment, code, value, base_revision=current.revision if current else 0, user=user
        )
