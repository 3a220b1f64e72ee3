"""Issue 8, parts 4 and 5: log-in and account hardening, headers, health and defaults.

Each test here failed before its fix: password spraying from one address went unchecked, every
client behind the TLS proxy shared the proxy's address, a locked-out API client was told
"Invalid username/password" (403), password resets were unlimited, no CSP, no
Permissions-Policy, no `Cache-Control: private, no-store`, HSTS flags hard-coded, and /healthz
answered 500 with a traceback when the database was down and 200 when the broker was.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
LOGIN = "/accounts/login/"
GOOD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the cache: each test starts from zero."""
    cache.clear()


def _login(client, username: str, password: str = "wrong", **extra):  # noqa: ANN001, ANN202
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


# --- 4a. Password spraying from one address --------------------------------------------------


def test_one_wrong_try_for_each_of_many_users_locks_the_address(client, firm_user, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    for i in range(7):
        assert _login(client, f"victim{i}").status_code == 200  # one try each: no pair lock
    assert _login(client, "victim7").status_code == 429  # the try that reaches the limit
    # The address is now locked for everyone, even with the right password...
    locked = _login(client, "firm_user", GOOD)
    assert locked.status_code == 429
    # ...but only that address.
    elsewhere = _login(client, "firm_user", GOOD, REMOTE_ADDR="198.51.100.20")
    assert elsewhere.status_code == 302


def test_a_sprayer_cannot_reset_the_address_count_by_logging_into_its_own_account(
    client, firm_user, outsider, settings
):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    for i in range(5):
        _login(client, f"victim{i}")
    assert _login(client, "outsider", GOOD).status_code == 302  # the attacker's own account
    client.logout()
    _login(client, "victim5")
    assert _login(client, "firm_user", GOOD).status_code == 429


def test_the_username_and_address_limit_still_applies_below_the_address_limit(
    client, firm_user, settings
):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_ADDRESS_FAILURE_LIMIT = 30
    for _ in range(4):
        assert _login(client, "firm_user").status_code == 200
    assert _login(client, "firm_user").status_code == 429
    assert _login(client, "other", "x").status_code == 200  # other names from here still try


# --- 4b. The client address behind the trusted proxy ----------------------------------------


def test_behind_a_trusted_proxy_each_client_is_locked_out_alone(client, cluster_official, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker = {**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for _ in range(5):
        _login(client, "cluster_official", **attacker)
    assert _login(client, "cluster_official", GOOD, **attacker).status_code == 429
    official = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert _login(client, "cluster_official", GOOD, **official).status_code == 302


def test_a_forged_forwarded_for_entry_does_not_move_the_attacker(
    client, cluster_official, settings
):
    """The proxy appends the address it saw: only that right-most entry is believed."""
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        forged = f"198.51.100.{i + 1}, 203.0.113.9"  # the attacker wrote the first entry
        _login(client, "cluster_official", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forged)
    again = _login(
        client, "cluster_official", GOOD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert again.status_code == 429


def test_without_a_trusted_proxy_the_forwarded_for_header_is_ignored(settings):
    from gradient.authentication import client_ip

    rf = RequestFactory()
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "192.0.2.1"
    settings.TRUSTED_PROXY_COUNT = 2
    two = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.1")
    assert client_ip(two) == "203.0.113.9"
    # A header shorter than the chain, or not an address, did not come through the proxies.
    short = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(short) == "10.0.0.2"
    junk = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="x, <script>")
    assert client_ip(junk) == "10.0.0.2"


# --- 4c. The API says "locked out, for how long" and 401 for a wrong password ---------------


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_api_wrong_password_answers_401_with_a_challenge(client, firm_user):
    response = client.get("/api/v1/clusters/", **_basic("firm_user", "wrong"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")


def test_locked_out_api_client_is_told_so_and_for_how_long(client, firm_user, settings):
    settings.AXES_COOLOFF_TIME = 0.25  # hours
    for _ in range(5):
        client.get("/api/v1/clusters/", **_basic("firm_user", "wrong"))
    response = client.get(
        "/api/v1/clusters/", HTTP_ACCEPT_LANGUAGE="en", **_basic("firm_user", GOOD)
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    detail = response.json()["detail"]
    assert "locked" in detail.lower() and "15 minutes" in detail


def test_web_lock_out_page_names_the_minutes_in_english_too(client, firm_user, settings):
    settings.AXES_COOLOFF_TIME = 0.25
    for _ in range(5):
        locked = _login(client, "firm_user", HTTP_ACCEPT_LANGUAGE="en")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    body = locked.content.decode()
    assert "15 minutes" in body and "locked" in body.lower()


# --- 4d. Password reset is throttled per address and per account ----------------------------


def _reset(client, email: str, **extra):  # noqa: ANN001, ANN202
    return client.post(reverse("password_reset"), {"email": email}, **extra)


def test_password_reset_is_limited_per_account(client, firm_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3
    for i in range(3):
        assert (
            _reset(client, "firm_user@example.com", REMOTE_ADDR=f"192.0.2.{i}").status_code == 302
        )
    over = _reset(client, "FIRM_USER@example.com", REMOTE_ADDR="192.0.2.99")
    assert over.status_code == 429
    assert len(mail.outbox) == 3
    assert int(over["Retry-After"]) > 0


def test_password_reset_is_limited_per_address(client, db, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 4
    for i in range(4):
        assert _reset(client, f"someone{i}@example.com").status_code == 302
    assert _reset(client, "someone-else@example.com").status_code == 429
    assert _reset(client, "someone-else@example.com", REMOTE_ADDR="192.0.2.50").status_code == 302


def test_password_reset_limit_does_not_reveal_whether_the_account_exists(
    client, firm_user, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 1
    pages = {}
    for email in ("firm_user@example.com", "nobody@example.com"):
        assert _reset(client, email, REMOTE_ADDR="192.0.2.1").status_code == 302
        over = _reset(client, email, REMOTE_ADDR="192.0.2.2", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert over.status_code == 429
        page = over.content.decode().replace(email, "EMAIL")
        page = re.sub(r"[A-Za-z0-9]{64}", "CSRF", page)  # the tokens differ
        # The wait differs by e-mail (django-ratelimit offsets each key's window by a hash of
        # the key), never by whether an account has it.
        pages[email] = re.sub(r"\d+", "N", page)
    assert pages["firm_user@example.com"] == pages["nobody@example.com"]
    assert "分钟" in pages["nobody@example.com"]  # tells the user, in Chinese, to wait


# --- 5a. Content-Security-Policy and Permissions-Policy --------------------------------------


def test_pages_carry_a_strict_csp_and_a_permissions_policy(client, firm_user):
    client.force_login(firm_user)
    for url in ("/", LOGIN):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        directives = dict(
            (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in csp.split(";")) if part
        )
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"].startswith("'self'")
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


def test_api_docs_load_only_the_apps_own_files(client, firm_user):
    # Issue 12: Swagger UI is served from the app's static files, under the site-wide policy.
    client.force_login(firm_user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>" not in page  # its own script comes from ?script
    assert "<style" not in page
    assert "https://" not in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] == client.get("/")["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(url.startswith(("/static/", "/api/docs/")) for url in sources), sources


TEMPLATES = ROOT / "templates"
INLINE = [
    (re.compile(r"\sstyle\s*="), "a style attribute"),
    (re.compile(r"<style\b"), "a <style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)"), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event-handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_web_template_has_inline_script_or_style():
    """Under the CSP these would be blocked. PDF templates are WeasyPrint's, not a browser's."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "pdf" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_chart_svg_styles_carry_the_request_nonce(client, firm_user):
    from gradient.csp import nonce_styles

    request = RequestFactory().get("/")
    request.csp_nonce = "abc123"  # type: ignore[attr-defined]
    svg = '<svg><defs><style type="text/css">#c{fill:red}</style></defs><g style="opacity: 0"></g></svg>'
    out = str(nonce_styles(svg, request))
    assert '<style nonce="abc123" type="text/css">' in out
    assert "style=" not in out.replace("<style nonce", "")


# --- 5b. Cache-Control on what only a signed-in user may see -------------------------------


def test_signed_in_pages_and_api_are_private_and_not_stored(client, firm_user):
    client.force_login(firm_user)
    for url in ("/", "/api/v1/clusters/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control


def test_public_pages_keep_their_own_cache_headers(client, db):
    assert "no-store" not in client.get("/healthz").get("Cache-Control", "")
    assert (
        client.get(LOGIN)["Cache-Control"]
        == "max-age=0, no-cache, no-store, must-revalidate, private"
    )


def test_a_view_that_sets_cache_control_keeps_it():
    from django.contrib.auth.models import AnonymousUser

    from gradient.middleware import PrivateCacheMiddleware

    def view(request):  # noqa: ANN001, ANN202
        response = HttpResponse("x")
        response["Cache-Control"] = "private, max-age=60"
        return response

    request = RequestFactory().get("/")
    request.user = type("U", (), {"is_authenticated": True})()  # type: ignore[attr-defined]
    assert PrivateCacheMiddleware(view)(request)["Cache-Control"] == "private, max-age=60"
    anonymous = RequestFactory().get("/")
    anonymous.user = AnonymousUser()  # type: ignore[attr-defined]
    plain = PrivateCacheMiddleware(lambda r: HttpResponse("x"))(anonymous)
    assert not plain.has_header("Cache-Control")


# --- 5c. HSTS flags from the environment ----------------------------------------------------


def _production(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **env,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 30 + "-production-secret-key-for-the-check-0123456789",
        "ALLOWED_HOSTS": "gradient.example.cn",
        **extra,
    }


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


SHOW_HSTS = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gradient.settings');"
    "django.setup(); from django.conf import settings as s;"
    "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
)


def test_hsts_flags_come_from_the_environment():
    default = _python(SHOW_HSTS, _production())
    assert default.stdout.split() == ["31536000", "True", "True"], default.stderr
    off = _python(
        SHOW_HSTS,
        _production(SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="false"),
    )
    assert off.stdout.split() == ["31536000", "False", "False"], off.stderr
    bad = _python(SHOW_HSTS, _production(SECURE_HSTS_PRELOAD="sometimes"))
    assert bad.returncode != 0 and "SECURE_HSTS_PRELOAD must be true or false" in bad.stderr


# --- 5d. /healthz names the failing part ------------------------------------------------------

HEALTHZ = (
    "import django, os, time; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gradient.settings');"
    "django.setup(); from django.test import Client;"
    "t = time.monotonic(); r = Client(raise_request_exception=False).get('/healthz');"
    "print(r.status_code, round(time.monotonic() - t, 2)); print(r.get('Content-Type'));"
    "print(r.content.decode())"
)


def _healthz(tmp_path: Path, **env: str) -> tuple[int, float, str, dict]:
    import json

    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = _python(HEALTHZ, {**base, "GRADIENT_VAR_DIR": str(tmp_path), **env})
    lines = result.stdout.splitlines()
    assert len(lines) >= 3, result.stderr
    status, seconds = lines[0].split()
    return int(status), float(seconds), lines[1], json.loads("\n".join(lines[2:]))


def test_healthz_answers_503_naming_the_database_when_it_is_unreachable(tmp_path):
    status, _, content_type, body = _healthz(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/gradient"
    )
    assert status == 503
    assert content_type == "application/json"
    assert body["status"] == "unavailable" and body["failing"] == ["database"]
    assert "Traceback" not in str(body)


def test_healthz_answers_503_naming_the_broker_when_it_is_unreachable(tmp_path):
    status, seconds, _, body = _healthz(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert status == 503
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert seconds < 5


def test_healthz_broker_check_is_bounded_in_time(tmp_path):
    """An address that never answers (a dropped packet, not a refusal) still fails fast."""
    started = time.monotonic()
    status, _, _, body = _healthz(tmp_path, CELERY_BROKER_URL="redis://10.255.255.1:6379/0")
    assert status == 503 and body["failing"] == ["broker"]
    assert time.monotonic() - started < 15  # includes starting Python and Django


def test_healthz_answers_200_with_json_when_all_is_well(tmp_path):
    status, _, _, body = _healthz(tmp_path)
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT must be a whole number"),
        ({"AXES_ADDRESS_FAILURE_LIMIT": "0"}, "AXES_ADDRESS_FAILURE_LIMIT must be at least 1"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL must be a redis://"),
    ],
)
def test_bad_new_settings_fail_at_start_with_their_name(env: dict[str, str], message: str):
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = _python(SHOW_HSTS, {**base, **env})
    assert result.returncode != 0 and message in result.stderr
