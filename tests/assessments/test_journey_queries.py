"""The firm journey's lean path (issue 14, bench/load.py): what the pages' requests read and
write, and that the shortcuts keep the guarantees of the full reads they replace."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import scoring, selectors
from assessments.models import Assessment, DimensionScore, QuestionAttainment, Round
from assessments.services import (
    AssessmentLocked,
    answer_save,
    assessment_store_result,
    assessment_submit,
)
from tests.assessments.questionnaire_fixtures import FULL_ANSWERS, answer_all

ROOT = Path(__file__).resolve().parents[2]


def _sql(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_the_pages_scope_query_is_one_query_without_the_framework_definition(
    draft: Assessment, firm_user: Any, other_firm_user: Any
) -> None:
    with CaptureQueriesContext(connection) as captured:
        found = selectors.assessment_to_answer(firm_user, draft.pk)
        # What the pages and the submission's audit entry read: no query of their own.
        names = (found.firm.name, found.round.name, found.round.closes_at)
        key = (found.framework_version.pk, found.framework_version.content_hash)
    assert found.pk == draft.pk and all(names) and all(key)
    assert len(captured) == 1
    assert "definition" not in captured.captured_queries[0]["sql"]
    with pytest.raises(Http404):
        selectors.assessment_to_answer(other_firm_user, draft.pk)


def test_a_first_submission_updates_only_changed_columns_and_deletes_nothing(
    draft: Assessment, firm_user: Any, demo_framework: Any
) -> None:
    answer_all(draft, FULL_ANSWERS, firm_user)
    page = selectors.assessment_to_answer(firm_user, draft.pk)
    with CaptureQueriesContext(connection) as captured:
        assessment_submit(page, user=firm_user)
    sql = _sql(captured)
    assert not [s for s in sql if s.startswith("DELETE")], sql
    # The test's transaction makes the submission's own a savepoint; the result rows add none.
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1, sql
    updates = [s for s in sql if s.startswith('UPDATE "assessments_assessment"')]
    assert len(updates) == 1 and '"created_at"' not in updates[0]
    for table in ("assessments_dimensionscore", "assessments_questionattainment"):
        assert len([s for s in sql if s.startswith(f'INSERT INTO "{table}"')]) == 1
    result = scoring.score(demo_framework, FULL_ANSWERS)
    assert DimensionScore.objects.filter(assessment=draft).count() == len(result.dimensions)
    assert QuestionAttainment.objects.filter(assessment=draft).count() == len(result.attainment)
    stored = Assessment.objects.get(pk=draft.pk)
    assert stored.status == "submitted" and stored.result == result.snapshot()


def test_a_draft_scored_before_has_its_rows_replaced_once_at_submission(
    draft: Assessment, firm_user: Any, demo_framework: Any
) -> None:
    assessment_store_result(draft, demo_framework, scoring.score(demo_framework, {"B1": 5}))
    answer_all(draft, FULL_ANSWERS, firm_user)
    assessment_submit(selectors.assessment_to_answer(firm_user, draft.pk), user=firm_user)
    result = scoring.score(demo_framework, FULL_ANSWERS)
    codes = list(
        QuestionAttainment.objects.filter(assessment=draft).values_list("question_code", flat=True)
    )
    assert sorted(codes) == sorted(result.attainment)
    assert DimensionScore.objects.filter(assessment=draft).count() == len(result.dimensions)


def test_the_lock_reads_the_round_closed_after_the_page_loaded_the_draft(
    draft: Assessment, firm_user: Any
) -> None:
    page = selectors.assessment_to_answer(firm_user, draft.pk)
    loaded_closes_at = page.round.closes_at
    past = timezone.now() - dt.timedelta(minutes=1)
    Round.objects.filter(pk=page.round_id).update(
        opens_at=past - dt.timedelta(days=1), closes_at=past
    )
    with pytest.raises(AssessmentLocked):
        answer_save(page, "B1", 30, base_revision=0, user=firm_user)
    assert page.round.closes_at == loaded_closes_at  # the caller's objects are left as they were
    assert not draft.answers.exists()


def test_the_lock_reads_a_submission_made_after_the_page_loaded_the_draft(
    draft: Assessment, firm_user: Any
) -> None:
    answer_all(draft, FULL_ANSWERS, firm_user)
    page = selectors.assessment_to_answer(firm_user, draft.pk)
    assessment_submit(Assessment.objects.get(pk=draft.pk), user=firm_user)  # another tab
    with pytest.raises(AssessmentLocked):
        answer_save(page, "B1", 5, base_revision=1, user=firm_user)
    with pytest.raises(AssessmentLocked):
        assessment_submit(page, user=firm_user)
    assert page.status == "draft"  # the stale copy is not changed by the refusal
    assert Assessment.objects.get(pk=draft.pk).submitted_by == firm_user


def _session_engine(cache_url: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "CACHE_URL": cache_url,
    }
    env.pop("DATABASE_URL", None)
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.SESSION_ENGINE)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sessions_are_read_from_redis_only_when_the_cache_is_shared() -> None:
    assert _session_engine("redis://127.0.0.1:6379/13") == (
        "django.contrib.sessions.backends.cached_db"
    )
    # The per-process memory cache would keep a logged-out session alive in other processes.
    assert _session_engine("") == "django.contrib.sessions.backends.db"
