"""Log-in hardening: the client's address, an address-wide lock-out, and lock-out answers.

- `client_ip`: the one client-address function of every throttle. Behind `TRUSTED_PROXY_COUNT`
  reverse proxies, each appending the address it saw to X-Forwarded-For, the client is the
  entry that many places from the right; the entries left of it are whatever the client sent
  and are never believed. With no trusted proxy (the default) the header is ignored.
- `AddressLimitAxesHandler`: django-axes counts failures per username + address and compares
  them with one limit; this adds a second, higher limit for all failures from one address.
- `lockout_response` and `LockoutAwareBasicAuthentication`: a locked-out browser sees the
  lock-out page, and an API client 429 with `Retry-After`, both saying for how many minutes.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the proxies' X-Forwarded-For entry if trusted."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= count:
            try:
                return str(ipaddress.ip_address(forwarded[-count]))
            except ValueError:
                pass  # not written by our proxy: fall back to the address that connected
    return remote


def cool_off_seconds(request: HttpRequest | None = None) -> int:
    """The lock-out's length. Every try while locked starts it again (axes' default), so a
    locked-out client always has this long to wait from its last try."""
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


class AddressLimitAxesHandler(AxesDatabaseHandler):
    """Axes' database handler, plus a limit on failures from one address for any username.

    The failures are the ones axes records (per username + address); the address total is
    their sum within the cool-off. Once it reaches `AXES_ADDRESS_FAILURE_LIMIT`, the address
    counts as locked for every username. A successful log-in still resets only its own
    username + address record (AXES_LOCKOUT_PARAMETERS), never the address total.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = getattr(settings, "AXES_ADDRESS_FAILURE_LIMIT", None)
        if limit and self.address_failures(request) >= limit:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    @staticmethod
    def address_failures(request: Any) -> int:
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The lock-out page (429), naming the wait in the user's language, with Retry-After."""
    seconds = cool_off_seconds(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "minutes": _minutes(seconds) if seconds else None,
    }
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        context,
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


class LockedOut(exceptions.Throttled):
    """429 for a locked-out API client; DRF adds Retry-After from `wait`."""

    default_code = "locked_out"

    def __init__(self, wait: int) -> None:
        minutes = _minutes(wait)
        detail = ngettext(
            "Account locked: too many failed log-in attempts. Try again in %(minutes)d minute.",
            "Account locked: too many failed log-in attempts. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        exceptions.APIException.__init__(self, detail, self.default_code)
        self.wait = wait


class LockoutAwareBasicAuthentication(BasicAuthentication):
    """HTTP Basic that tells a locked-out client so, and for how long, instead of
    "Invalid username/password" (axes refuses even the right password while locked)."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, None]:
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # Axes flags the request it was given (DRF's) when this try is refused as locked.
            if request is not None and getattr(request, "axes_locked_out", False):
                raise LockedOut(cool_off_seconds(request)) from None
            raise


class LockoutAwareBasicScheme(BasicScheme):
    """The same "basicAuth" scheme in the OpenAPI schema."""

    target_class = "gradient.authentication.LockoutAwareBasicAuthentication"
    priority = 0
