"""Two saves of the same answer at the same moment, from the same stale revision: on
PostgreSQL the row lock makes exactly one of them win, and the other sees a conflict."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from assessments.models import Answer
from assessments.services import answer_save
from tests.assessments.questionnaire_fixtures import DEMO_FILE, make_round
from tests.factories import AssessmentFactory, FrameworkVersionFactory, InvitationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_saves_from_one_revision_give_one_save_and_one_conflict(world, firm_user):
    round_ = make_round(world["alpha"], FrameworkVersionFactory(path=DEMO_FILE))
    firm = world["firms"]["alpha"][0]
    InvitationFactory(round=round_, firm=firm, token="c" * 43)
    assessment = AssessmentFactory(round=round_, firm=firm)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(value: str) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(
                answer_save(assessment, "B3", value, base_revision=0, user=firm_user).status
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(v,)) for v in ("full", "office")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "saved"]
    answer = Answer.objects.get(assessment=assessment, question_code="B3")
    assert answer.revision == 1 and answer.value in {"full", "office"}


def test_a_save_locks_only_the_assessment_row_not_the_shared_round(world, firm_user):
    from django.test.utils import CaptureQueriesContext

    round_ = make_round(world["alpha"], FrameworkVersionFactory(path=DEMO_FILE))
    firm = world["firms"]["alpha"][0]
    assessment = AssessmentFactory(round=round_, firm=firm)
    with CaptureQueriesContext(connection) as queries:
        answer_save(assessment, "B3", "full", base_revision=0, user=firm_user)
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1
    assert locks[0].endswith('FOR UPDATE OF "assessments_assessment"')
