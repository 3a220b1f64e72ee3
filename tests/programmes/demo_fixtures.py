"""A small demo register with its programme (programmes/demo.py), for the admin and demo tests.

A module of its own rather than a conftest.py: other parts of issue 13 add tests here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_small(*, seed: int = 5, clusters: int = 2, firms: int = 120) -> Any:
    """Seed the demo register, its rounds and its programme; returns the programme summary."""
    from assessments.demo import seed_assessments
    from clusters.demo import seed_register
    from programmes.demo import seed_programme

    register = seed_register(clusters=clusters, firms=firms, seed=seed)
    seed_assessments(clusters=register.clusters, seed=seed, created=register.created)
    return seed_programme(clusters=register.clusters, seed=seed, created=register.created)


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """The demo sets ten passwords: a cheap hasher keeps the tests quick (the rules are the
    same; only the hashing cost differs)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One seeding for a whole test module, rolled back after it (like setUpTestData): each
    test still runs in its own savepoint inside, so what a test writes is undone too."""
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            summary = seed_small()
            summary.media_root = media  # the evidence files (each test gets its own MEDIA_ROOT)
            yield summary
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
