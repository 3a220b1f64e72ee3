"""The project skeleton: settings fail loudly on bad values, and the basics respond."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def _environ(**extra: str) -> dict[str, str]:
    """The test process's environment, less what the browser tests set for themselves."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **extra}


def _check_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_environ(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a sqlite:// or postgres://"),
        ({"CELERY_BROKER_URL": "kafka://x"}, "CELERY_BROKER_URL must be"),
        ({"AXES_FAILURE_LIMIT": "five"}, "AXES_FAILURE_LIMIT must be a whole number"),
        ({"SITE_URL": "example.org"}, "SITE_URL must start with http"),
    ],
)
def test_bad_setting_fails_at_start_with_its_name(env: dict[str, str], message: str) -> None:
    result = _check_with(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_defaults_are_chinese_first_with_english() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]


def test_deploy_check_passes_with_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environ(
            DEBUG="false",
            SECRET_KEY="x" * 30 + "-production-secret-key-for-the-check-0123456789",
            ALLOWED_HOSTS="gradient.example.cn",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_health_check_answers(client: object) -> None:
    response = client.get("/healthz")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_home_asks_anonymous_users_to_log_in_in_chinese(client: object) -> None:
    response = client.get("/", follow=True)  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_language_switch_names_each_language_in_itself(client: object) -> None:
    page = client.get("/accounts/login/").content.decode()  # type: ignore[attr-defined]
    assert '<button type="submit" name="language" value="en" class="link" lang="en">English' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})  # type: ignore[attr-defined]
    page = client.get("/accounts/login/").content.decode()  # type: ignore[attr-defined]
    assert 'value="zh-hans" class="link" lang="zh-hans">简体中文' in page
    assert "Log in" in page


def test_no_message_means_two_things_across_the_catalogs() -> None:
    """All catalogs are merged at run time and the first one wins: "Code" meant the credit code
    in the register and turned every question code column into "信用代码"; "since the previous
    round" came with its own brackets inside the PDF's brackets."""
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Code") != "信用代码"
        assert translation.gettext("Credit code") == "信用代码"
        assert "（" not in translation.gettext("since the previous round")


@pytest.mark.parametrize("part", ["core", "clusters", "assessments", "reports"])
def test_chinese_catalog_is_complete_and_well_formed(part: str) -> None:
    catalog = ROOT / "locale" / part / "zh_Hans" / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalog)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr
