"""Project-wide pages: the home page, the health check and friendly error pages."""

from __future__ import annotations

import logging
import math
import sys
import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django_ratelimit.core import get_usage
from kombu import Connection

from gradient.authentication import client_ip
from gradient.unavailable import database_error, database_unavailable

log = logging.getLogger(__name__)

# How long /healthz waits for the broker before calling it down (seconds).
BROKER_CHECK_TIMEOUT = 2
# How long one process keeps the broker's state (seconds). Connecting to the broker costs a
# few ms (Redis: a connection and a PING) against /healthz's one `SELECT 1`; probes come every
# few seconds from each proxy, and a load test sends thousands a second: they reuse the state.
BROKER_CHECK_CACHE_SECONDS = 5.0
_broker_state: tuple[float, bool] | None = None  # (when checked, monotonic; ok)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page; each app contributes its own panel for the user's roles."""
    return render(request, "home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        log.exception("healthz: the database is unreachable")
        return False
    return True


def _broker_ok() -> bool:
    """The broker's state, checked at most once per BROKER_CHECK_CACHE_SECONDS per process."""
    global _broker_state
    now = time.monotonic()
    if _broker_state is not None and now - _broker_state[0] < BROKER_CHECK_CACHE_SECONDS:
        return _broker_state[1]
    ok = _broker_connects()
    _broker_state = (time.monotonic(), ok)
    return ok


def _broker_connects() -> bool:
    """Connect to the Celery broker once, giving up after BROKER_CHECK_TIMEOUT seconds."""
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    # Redis: bound the connect and each reply; other transports ignore these.
    options.update(socket_connect_timeout=BROKER_CHECK_TIMEOUT, socket_timeout=BROKER_CHECK_TIMEOUT)
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_CHECK_TIMEOUT,
            transport_options=options,
        ) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CHECK_TIMEOUT)
    except Exception:
        log.exception("healthz: the broker is unreachable")
        return False
    return True


def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness probe: 200 when the database and the broker answer, else 503 naming the
    failing parts. Never a traceback: failures are logged, the body only names the part."""
    checks = {
        "database": "ok" if _database_ok() else "unreachable",
        "broker": "ok" if _broker_ok() else "unreachable",
    }
    failing = [part for part, state in checks.items() if state != "ok"]
    if failing:
        return JsonResponse(
            {"status": "unavailable", "failing": failing, "checks": checks}, status=503
        )
    return JsonResponse({"status": "ok", "checks": checks})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A 404 page in the user's language."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500 page in the user's language, never a traceback; a 503 when the error is the
    database being unreachable (Django calls this while the exception is being handled)."""
    if database_error(sys.exc_info()[1]):
        log.warning("the database is unreachable: 503 for %s", request.path)
        return database_unavailable(request)
    return render(request, "500.html", status=500)


class LogoutView(auth_views.LogoutView):
    """Log out by POST as Django wants; a typed or bookmarked GET gets a page with the button
    instead of a blank "405 Method Not Allowed"."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("login")
        return render(request, "registration/logout_confirm.html")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, limited per hour from one address and for one e-mail address.

    Both limits count every request whose form is valid, whether or not an account uses the
    address, and the page over the limit is the same either way: it reveals nothing about
    which addresses have accounts. Counts live in the cache (django-ratelimit).
    """

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        limits = [
            ("password-reset-address", client_ip(self.request), "PASSWORD_RESET_LIMIT_PER_ADDRESS"),
            ("password-reset-account", email, "PASSWORD_RESET_LIMIT_PER_ACCOUNT"),
        ]
        wait = 0
        for group, value, setting in limits:
            usage = get_usage(
                self.request,
                group=group,
                key=lambda _group, _request, value=value: value,
                rate=f"{getattr(settings, setting)}/h",
                increment=True,
            )
            if usage and usage["should_limit"]:
                wait = max(wait, int(usage["time_left"]))
        if wait:
            response = render(
                self.request,
                "registration/password_reset_throttled.html",
                {"minutes": max(1, math.ceil(wait / 60))},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().form_valid(form)
