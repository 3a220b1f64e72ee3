"""The programme's demo data (programmes/demo.py): every stage, the rules of the programme on
every project, verified results that a fresh scoring reproduces, determinism for a seed."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from assessments import scoring
from assessments.versions import framework_for
from programmes import services
from programmes.demo import PROGRAMME_SLUG, PROGRAMME_USERS, demo_pdf, demo_png
from programmes.models import (
    AssessorScope,
    Evidence,
    Programme,
    ProviderMember,
    ProviderRating,
    RetrofitProject,
    Verification,
)
from tests.programmes import demo_fixtures
from tests.programmes.demo_fixtures import seed_small

demo = demo_fixtures.demo
fast_passwords = demo_fixtures.fast_passwords

Stage = RetrofitProject.Stage
pytestmark = pytest.mark.django_db


# These two seed databases of their own: they come first, before the module's shared `demo`
# seeding is set up (it lives until the end of the module).


def _signature() -> list[Any]:
    projects = [
        (
            p.firm.uscc,
            p.provider.uscc,
            p.stage,
            p.title,
            tuple(p.targeted_questions),
            p.budget_10k_cny,
            p.baseline.level,
            p.acceptance.level if p.acceptance else None,
            p.stage_changes.count(),
            getattr(getattr(p, "rating", None), "score", None),
        )
        for p in RetrofitProject.objects.select_related(
            "firm", "provider", "baseline", "acceptance"
        )
    ]
    verifications = [
        (
            v.assessment.firm.uscc,
            v.status,
            v.level,
            sorted(v.answers.filter(changed=True).values_list("question_code", "value")),
            v.evidence.count(),
        )
        for v in Verification.objects.select_related("assessment__firm")
    ]
    return sorted(projects) + sorted(verifications, key=str)


class _Rollback(Exception):
    pass


def _seeded(seed: int) -> tuple[Any, list[Any]]:
    """Seed in a savepoint, take the signature, and roll the savepoint back."""
    captured: list[Any] = []
    try:
        with transaction.atomic():
            summary = seed_small(seed=seed, firms=80)
            captured.extend([summary, _signature()])
            raise _Rollback
    except _Rollback:
        pass
    assert not RetrofitProject.objects.exists()
    return captured[0], captured[1]


def test_same_seed_same_programme_other_seed_other_programme(fast_passwords: None) -> None:
    first, first_rows = _seeded(7)
    again, again_rows = _seeded(7)
    other, other_rows = _seeded(8)
    counts = lambda s: (s.providers, s.projects, dict(s.stages), s.ratings, s.verifications)  # noqa: E731
    assert counts(first) == counts(again)
    assert first_rows == again_rows and len(first_rows) > 20
    assert other_rows != first_rows


def test_seed_demo_prints_the_programme_and_its_logins(fast_passwords: None) -> None:
    out = io.StringIO()
    call_command("seed_demo", clusters=1, firms=60, seed=3, stdout=out)
    text = out.getvalue()
    assert "Programme: 8 providers" in text
    for username, password, _role in PROGRAMME_USERS:
        assert f"{username}" in text and password in text
    again = io.StringIO()
    call_command("seed_demo", clusters=1, firms=60, seed=3, stdout=again)
    assert "Programme:" not in again.getvalue()
    assert Programme.objects.filter(slug=PROGRAMME_SLUG).count() == 1


def test_every_stage_is_present(demo: Any) -> None:
    stages = Counter(RetrofitProject.objects.values_list("stage", flat=True))
    assert set(stages) == set(Stage.values)
    assert sum(stages.values()) == demo.projects >= 30
    assert demo.stages == stages


def test_programme_targets_level_two_on_the_2024_indicators(demo: Any) -> None:
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    assert programme.framework_version.framework.slug == "miit-sme"
    assert programme.framework_version.version == "2024.1"
    assert programme.target_level == "L2" and programme.target_firms > 0
    assert programme.target_date is not None and programme.target_date >= programme.starts_on
    assert programme.region.level == "city"
    kinds = set(programme.region.providers.values_list("kind", flat=True))
    assert kinds == {"chain_leader", "integrator", "product"}
    assert 6 <= programme.region.providers.count() <= 10


def test_baseline_and_acceptance_rules_hold_for_every_project(demo: Any) -> None:
    projects = RetrofitProject.objects.select_related(
        "programme", "baseline", "acceptance"
    ).prefetch_related("stage_changes")
    for p in projects:
        assert p.baseline is not None and p.baseline.is_submitted
        assert p.baseline.firm_id == p.firm_id
        assert p.baseline.framework_version_id == p.programme.framework_version_id
        if p.stage in (Stage.DELIVERED, Stage.ACCEPTED):
            assert p.acceptance is not None, p.pk
        if p.acceptance is not None:
            assert p.acceptance.firm_id == p.firm_id
            assert p.acceptance.is_submitted
            assert p.acceptance.framework_version_id == p.programme.framework_version_id
            assert p.acceptance.submitted_at > p.baseline.submitted_at
        assert (p.accepted_at is not None) == (p.stage == Stage.ACCEPTED)
        if p.subsidy_10k_cny is not None:
            assert p.subsidy_10k_cny <= p.budget_10k_cny


def test_stage_changes_chain_from_diagnosis_to_the_stage_in_time_order(demo: Any) -> None:
    for p in RetrofitProject.objects.prefetch_related("stage_changes"):
        changes = list(p.stage_changes.all())
        assert changes[0].from_stage == "" and changes[0].to_stage == Stage.DIAGNOSED
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage == before.to_stage
            assert after.changed_at >= before.changed_at
            assert after.to_stage in services.STAGE_ORDER or after.to_stage == Stage.ABANDONED
        assert changes[-1].to_stage == p.stage
        assert changes[0].changed_at >= p.baseline.submitted_at
        if p.stage == Stage.ABANDONED:
            assert changes[-1].note
        assert all(c.changed_by_id is not None for c in changes)


def test_level_gains_look_real(demo: Any) -> None:
    gains = Counter(
        (p.acceptance.level_rank or 0) - (p.baseline.level_rank or 0)
        for p in RetrofitProject.objects.filter(acceptance__isnull=False).select_related(
            "baseline", "acceptance"
        )
    )
    assert set(gains) <= {0, 1, 2}
    assert gains[1] > gains[0] and gains[1] > gains[2]
    assert gains[1] >= sum(gains.values()) / 2


def test_verified_results_equal_a_fresh_scoring_of_their_answers(demo: Any) -> None:
    completed = Verification.objects.filter(status=Verification.Status.COMPLETED)
    assert completed.count() == demo.verifications >= 3
    changed_somewhere = confirmed_only = 0
    for v in completed.select_related("assessment__framework_version"):
        fw = framework_for(v.assessment.framework_version)
        answers = services.verified_answers(v)
        kept = {c: a for c, a in answers.items() if c in scoring.applicable(fw, answers)}
        fresh = scoring.score(fw, kept)
        assert v.level == (fresh.level or "")
        assert v.total == fresh.total.quantize(v.total)
        assert v.assessment.verified_at is not None
        assert services.verification_unreviewed(v) == []
        changes = services.verification_changes(v)
        assert len(changes) <= 3
        for code, answer in changes.items():
            assert answer.reason and answer.value != answer.reported_value
            assert v.evidence.filter(question_code=code).exists()
        changed_somewhere += bool(changes)
        confirmed_only += not changes
    assert changed_somewhere and confirmed_only
    assert Verification.objects.filter(status=Verification.Status.IN_PROGRESS).count() == 1


def test_evidence_files_are_real_pngs_and_pdfs(demo: Any) -> None:
    kinds = set()
    for item in Evidence.objects.all():
        data = (demo.media_root / item.file.name).read_bytes()
        assert len(data) == item.size
        if item.content_type == "image/png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
        else:
            assert item.content_type == "application/pdf"
            assert data.startswith(b"%PDF-1.4") and b"/Count 1" in data
        kinds.add(item.content_type)
    assert kinds == {"image/png", "application/pdf"}


def test_generated_pdf_is_readable_with_one_page() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(demo_pdf(["On-site verification record", "Question: PE3"])))
    assert len(reader.pages) == 1
    assert "Question: PE3" in reader.pages[0].extract_text()


def test_generated_png_decodes() -> None:
    import random
    import struct
    import zlib

    data = demo_png(random.Random(1), width=10, height=4)
    width, height = struct.unpack(">II", data[16:24])
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    assert (width, height) == (10, 4)
    assert len(zlib.decompress(idat)) == height * (1 + width * 3)


def test_ratings_accounts_and_scopes(demo: Any) -> None:
    ratings = ProviderRating.objects.select_related("project")
    assert ratings.count() == demo.ratings > 0
    assert all(r.project.stage == Stage.ACCEPTED and 1 <= r.score <= 5 for r in ratings)
    accepted = RetrofitProject.objects.filter(stage=Stage.ACCEPTED).count()
    assert ratings.count() >= accepted / 2
    scopes = AssessorScope.objects.all()
    assert {bool(s.region_id) for s in scopes} == {True, False}
    assert ProviderMember.objects.filter(user__username="demo_provider").exists()
    for username, password, _role in PROGRAMME_USERS:
        assert get_user_model().objects.get(username=username).check_password(password)


def test_the_demo_firm_has_an_accepted_verified_project_to_rate(demo: Any) -> None:
    project = RetrofitProject.objects.get(firm__members__user__username="demo_firm")
    assert project.stage == Stage.ACCEPTED
    assert not ProviderRating.objects.filter(project=project).exists()
    verification = Verification.objects.get(assessment=project.acceptance)
    assert verification.is_completed and services.verification_changes(verification)
