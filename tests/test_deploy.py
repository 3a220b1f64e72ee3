"""Production configuration (docs/deploy.md): `check --deploy` is clean with the documented
variables, every variable the code reads is documented in the table and in .env.example,
secret rotation keeps sessions, gunicorn.conf.py reads its environment, and under the
production settings the static files are hashed and compressed and Swagger UI still loads
under the 'self'-only CSP (real gunicorn, real Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_KEY = "p" * 20 + "-production-key-for-tests-0123456789abcdefghijkLMNOP"
OLD_KEY = "o" * 20 + "-old-production-key-for-tests-0123456789abcdefghijkLMN"

# The production column of docs/deploy.md, as an install would set it.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": PRODUCTION_KEY,
    "SECRET_KEY_FALLBACKS": OLD_KEY,
    "ALLOWED_HOSTS": "gradient.example.cn",
    "CSRF_TRUSTED_ORIGINS": "https://gradient.example.cn",
    "SITE_URL": "https://gradient.example.cn",
    "DATABASE_URL": "postgres://gradient:secret@db.internal:5432/gradient",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CACHE_URL": "redis://redis.internal:6379/1",
    "TRUSTED_PROXY_COUNT": "1",
    "LOG_FORMAT": "json",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_URL_HOST": "smtp.internal",
}


def _environ(**extra: str) -> dict[str, str]:
    """The test process's environment without the app's own variables, plus `extra`."""
    names = _code_variables()
    env = {
        k: v for k, v in os.environ.items() if k not in names and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return {**env, "DJANGO_SETTINGS_MODULE": "gradient.settings", **extra}


# --- check --deploy ---------------------------------------------------------------------------


def test_check_deploy_is_clean_with_the_documented_production_variables() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environ(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_without_the_production_variables() -> None:
    # The same check fails with DEBUG on: the test above is not passing by silencing checks.
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "security.W018" in done.stderr  # DEBUG on


def _settings_in(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_sit_behind_the_tls_proxy() -> None:
    done = _settings_in(
        _environ(**PRODUCTION),
        "settings.SECURE_PROXY_SSL_HEADER, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, settings.SECRET_KEY_FALLBACKS,"
        " settings.STORAGES['staticfiles']['BACKEND'], settings.LOGGING['handlers']['console']"
        "['formatter']",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "('HTTP_X_FORWARDED_PROTO', 'https') True True True "
        f"['{OLD_KEY}'] whitenoise.storage.CompressedManifestStaticFilesStorage json"
    )


def test_the_embedded_default_keeps_plain_static_files() -> None:
    done = _settings_in(_environ(), "settings.STORAGES['staticfiles']['BACKEND']")
    assert done.stdout.strip() == "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY_FALLBACKS": "short-old-key"}, "SECRET_KEY_FALLBACKS must be at least 50"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be plain or json"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO"),
        ({"STATIC_MANIFEST": "perhaps"}, "STATIC_MANIFEST must be true or false"),
    ],
)
def test_a_bad_production_value_stops_start_up(env: dict[str, str], message: str) -> None:
    done = _settings_in(_environ(**{**PRODUCTION, **env}), "1")
    assert done.returncode != 0
    assert message in done.stderr


# --- Every variable documented ----------------------------------------------------------------

_READS = re.compile(
    r"""(?:os\.environ\.get|os\.environ\.setdefault|_env_bool|_env_int|_env_list|_int)\(\s*"""
    r"""["']([A-Z][A-Z0-9_]+)["']|os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]"""
)
# Read by the code but not the app's configuration.
_NOT_CONFIG = {"DJANGO_SETTINGS_MODULE"}


def _code_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "gradient" / "settings.py", ROOT / "gunicorn.conf.py"):
        for match in _READS.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names - _NOT_CONFIG


def _env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def _deploy_table_variables() -> set[str]:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_the_code_reads_the_variables_we_expect() -> None:
    # The parser finds reads of each kind (a parser that found nothing would pass below).
    assert {"DEBUG", "SECRET_KEY_FALLBACKS", "DATABASE_URL", "GUNICORN_WORKERS"} <= (
        _code_variables()
    )


def test_every_variable_is_in_env_example() -> None:
    assert _code_variables() - _env_example_variables() == set()
    assert _env_example_variables() - _code_variables() == set()


def test_every_variable_is_in_the_deploy_table() -> None:
    assert _code_variables() - _deploy_table_variables() == set()
    assert _deploy_table_variables() - _code_variables() == set()


def test_the_production_example_sets_only_documented_variables() -> None:
    assert set(PRODUCTION) <= _deploy_table_variables()


# --- Secret rotation --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_signed_with_the_old_key_survives_rotation() -> None:
    from django.test import Client

    from tests.factories import UserFactory

    user = UserFactory(username="rotating")
    kept, idle = Client(), Client()
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        kept.force_login(user)
        idle.force_login(user)
        assert kept.get("/").status_code == 200
    # Rotated: the new key, the old one as a fallback. Still signed in; Django re-signs the
    # session with the new key on this visit.
    with override_settings(SECRET_KEY=PRODUCTION_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert kept.get("/").status_code == 200
    # The fallback removed: the session used meanwhile is on the new key and goes on; one
    # left idle through the whole period is still on the old key and is void.
    with override_settings(SECRET_KEY=PRODUCTION_KEY, SECRET_KEY_FALLBACKS=[]):
        assert kept.get("/").status_code == 200
        response = idle.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_password_reset_link_survives_rotation() -> None:
    from django.contrib.auth.tokens import default_token_generator

    from tests.factories import UserFactory

    user = UserFactory(username="resetting")
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        token = default_token_generator.make_token(user)
    with override_settings(SECRET_KEY=PRODUCTION_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert default_token_generator.check_token(user, token)
    with override_settings(SECRET_KEY=PRODUCTION_KEY, SECRET_KEY_FALLBACKS=[]):
        assert not default_token_generator.check_token(user, token)


# --- gunicorn.conf.py -------------------------------------------------------------------------


def _gunicorn_config(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'timeout', 'graceful_timeout',"
        " 'max_requests', 'max_requests_jitter', 'forwarded_allow_ips', 'logger_class',"
        " 'accesslog')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    import json

    return json.loads(done.stdout)


def test_gunicorn_config_defaults() -> None:
    config = _gunicorn_config(_environ())
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert config["timeout"] >= 60 and config["graceful_timeout"] >= 30
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert config["logger_class"] == "gradient.logging.GunicornLogger"
    assert config["accesslog"] == "-"


def test_gunicorn_config_from_the_environment() -> None:
    config = _gunicorn_config(
        _environ(
            GUNICORN_BIND="0.0.0.0:9000",
            GUNICORN_WORKERS="7",
            GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.2",
        )
    )
    assert (config["bind"], config["workers"], config["forwarded_allow_ips"]) == (
        "0.0.0.0:9000",
        7,
        "10.0.0.2",
    )


# --- Production static files and Swagger UI, on gunicorn, in Chromium -------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """gunicorn with gunicorn.conf.py and the production settings (plain HTTP on 127.0.0.1,
    so no HTTPS redirect), after a real collectstatic into its own STATIC_ROOT."""
    folder = tmp_path_factory.mktemp("production")
    port = _free_port()
    env = _environ(
        **{
            **PRODUCTION,
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "CACHE_URL": "",
            "GRADIENT_VAR_DIR": str(folder / "var"),
            "STATIC_ROOT": str(folder / "static"),
            "MEDIA_ROOT": str(folder / "media"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
        }
    )
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    log = (folder / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except OSError:
                assert server.poll() is None, (folder / "gunicorn.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (folder / "gunicorn.log").read_text()[-3000:]
                time.sleep(0.3)
        yield {"url": base, "log": folder / "gunicorn.log", "static": folder / "static"}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_production_static_files_are_hashed_compressed_and_cached(production_server) -> None:
    manifest = (production_server["static"] / "staticfiles.json").read_text()
    hashed = re.search(
        r'"(drf_spectacular_sidecar/swagger-ui-dist/swagger-ui\.[0-9a-f]{12}\.css)"', manifest
    )
    assert hashed, "collectstatic wrote no hashed name for Swagger UI's CSS"
    request = urllib.request.Request(
        f"{production_server['url']}/static/{hashed.group(1)}",
        headers={"Accept-Encoding": "gzip, br"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] in {"br", "gzip"}
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=315360000" in response.headers["Cache-Control"]


def test_production_access_log_is_json_with_the_request_id(production_server) -> None:
    import json

    request = urllib.request.Request(
        f"{production_server['url']}/healthz", headers={"X-Request-ID": "deploy-test-1"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-ID"] == "deploy-test-1"
    deadline = time.monotonic() + 10
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not lines:
        lines = [
            json.loads(line)
            for line in production_server["log"].read_text().splitlines()
            if "deploy-test-1" in line
        ]
        time.sleep(0.2)
    assert lines and lines[0]["logger"] == "gunicorn.access"
    assert lines[0]["path"] == "/healthz" and lines[0]["status"] == 200


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", [375, 1366])
def test_swagger_ui_loads_under_the_csp_with_production_settings(
    production_server, tmp_path: Path, language: str, width: int
) -> None:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:  # the root conftest fails this under CI, skips it elsewhere
        pytest.skip("Debian's chromium is not installed")
    base = production_server["url"]
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            context = browser.new_context(
                viewport={"width": width, "height": 900},
                locale={"zh-hans": "zh-CN", "en": "en-US"}[language],
            )
            context.set_default_timeout(20_000)
            outside: list[str] = []
            failed: list[str] = []
            violations: list[str] = []

            def only_local(route: Any) -> None:
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.on("requestfailed", lambda r: failed.append(r.url))
            statics: list[str] = []
            page.on(
                "response",
                lambda r: (
                    statics.append(r.url) if "/static/" in r.url and r.status == 200 else None
                ),
            )
            response = page.goto(f"{base}/api/docs/")
            assert response is not None and response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.locator(".opblock").first.wait_for()
            assert "/api/v1/rounds/" in page.locator(".opblock-summary-path").all_inner_texts()
            page.screenshot(path=str(tmp_path / f"api-docs-production-{width}-{language}.png"))
            if os.environ.get("DEPLOY_SCREENSHOTS"):
                shutil.copy(
                    tmp_path / f"api-docs-production-{width}-{language}.png",
                    Path(os.environ["DEPLOY_SCREENSHOTS"]),
                )
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
    assert outside == [] and failed == [] and violations == [], (outside, failed, violations)
    # Swagger UI's files came with hashed names from the manifest.
    swagger = [url for url in statics if "swagger-ui" in url]
    assert swagger and all(re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", url) for url in swagger)
