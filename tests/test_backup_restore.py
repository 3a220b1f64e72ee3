"""scripts/backup.sh and scripts/restore.sh, end to end on PostgreSQL (docs/deploy.md, Backup).

A database of its own is migrated and seeded (frameworks, a demo cluster with firms and
submitted assessments, so every kind of row is there), beside a media folder with files in
sub-folders; the backup is restored into a fresh database and a fresh folder, and every
table's row count and every file's SHA-256 must match. The scripts also refuse a damaged
backup and a target that is not empty.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.postgres

ROOT = Path(settings.BASE_DIR)
SOURCE = "gradient_backup_source"
TARGET = "gradient_backup_target"


def _server_url() -> str:
    base, _, _name = os.environ["DATABASE_URL"].rpartition("/")
    return base


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{_server_url()}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for table in tables
        }


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    for name in (SOURCE, TARGET):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{_server_url()}/{SOURCE}", f"{_server_url()}/{TARGET}"
    finally:
        for name in (SOURCE, TARGET):
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_restores_every_row_and_file(databases, tmp_path: Path) -> None:
    source_url, target_url = databases
    media = tmp_path / "media"
    (media / "reports" / "2026").mkdir(parents=True)
    (media / "evidence" / "项目").mkdir(parents=True)
    (media / "reports" / "2026" / "cluster-7.pdf").write_bytes(b"%PDF-1.7 " + os.urandom(50_000))
    (media / "reports" / "2026" / "cluster-7.xlsx").write_bytes(os.urandom(20_000))
    (media / "evidence" / "项目" / "现场照片 1.jpg").write_bytes(os.urandom(8_000))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "DATABASE_URL": source_url,
        "MEDIA_ROOT": str(media),
        "GRADIENT_VAR_DIR": str(tmp_path / "var"),
    }
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["load_frameworks"],
        ["seed_demo", "--clusters", "1", "--firms", "30", "--seed", "5"],
    ):
        done = _run([sys.executable, "manage.py", *command], env)
        assert done.returncode == 0, done.stderr[-3000:]
    before = _counts(source_url)
    assert before["clusters_firm"] >= 30 and before["assessments_assessment"] > 0
    assert before["django_migrations"] > 0

    backup = _run(["bash", "scripts/backup.sh", str(tmp_path / "backups")], env)
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "media.tar.gz",
    ]

    restored_media = tmp_path / "restored-media"
    restore_env = {**env, "DATABASE_URL": target_url, "MEDIA_ROOT": str(restored_media)}
    restore = _run(["bash", "scripts/restore.sh", str(folder)], restore_env)
    assert restore.returncode == 0, restore.stderr
    assert _counts(target_url) == before
    assert _hashes(restored_media) == _hashes(media)
    # The three files above, and whatever the demo seeded (evidence of its verifications).
    assert {"reports/2026/cluster-7.pdf", "evidence/项目/现场照片 1.jpg"} <= set(_hashes(media))

    # The restored database is a working one: migrate finds nothing to do.
    plan = _run([sys.executable, "manage.py", "migrate", "--check"], restore_env)
    assert plan.returncode == 0, plan.stdout + plan.stderr

    # A second restore over it is refused: the target is no longer empty.
    again = _run(["bash", "scripts/restore.sh", str(folder)], restore_env)
    assert again.returncode == 2
    assert "restore into an empty one" in again.stderr


def test_a_damaged_backup_is_refused(databases, tmp_path: Path) -> None:
    source_url, target_url = databases
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.txt").write_text("a")
    env = {**os.environ, "DATABASE_URL": source_url, "MEDIA_ROOT": str(media)}
    backup = _run(["bash", "scripts/backup.sh", str(tmp_path / "backups")], env)
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    with (folder / "media.tar.gz").open("ab") as archive:
        archive.write(b"tampered")
    env = {**env, "DATABASE_URL": target_url, "MEDIA_ROOT": str(tmp_path / "restored")}
    restore = _run(["bash", "scripts/restore.sh", str(folder)], env)
    assert restore.returncode == 2
    assert "damaged" in restore.stderr
    assert not (tmp_path / "restored").exists()


def test_backup_names_a_missing_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT"}}
    done = _run(["bash", "scripts/backup.sh", str(tmp_path)], env)
    assert done.returncode == 2
    assert "DATABASE_URL is not set" in done.stderr
    done = _run(
        ["bash", "scripts/backup.sh", str(tmp_path)],
        {**env, "DATABASE_URL": "sqlite:///x.sqlite3", "MEDIA_ROOT": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "must be a postgres:// URL" in done.stderr
