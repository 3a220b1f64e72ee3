"""Response headers set in one place for the whole app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from gradient.logging import clean_request_id, request_id_var


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in user.

    What only a signed-in user may see (results, questionnaires, register pages, exports,
    report downloads, API answers) must stay out of shared caches and off the disk of a shared
    computer. A view that sets Cache-Control itself keeps its own; anonymous responses (the
    log-in page, /healthz) are left alone, and static files never pass through here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Read after the view: DRF's authentication sets request.user there.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header (settings.PERMISSIONS_POLICY): one constant string, so a
    few lines here rather than another dependency."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.policy and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = self.policy
        return response


class RequestIdMiddleware:
    """One id per request, in every log line of the request and in `X-Request-ID` back.

    The TLS proxy's `X-Request-ID` is kept when it is sane (at most 64 letters, digits and
    `._:-`), so the proxy's access log and the app's lines share it; otherwise (no header, or
    one that is too long or carries other characters) the app makes its own. First in
    MIDDLEWARE, so that even the other middlewares' lines carry it. The id also travels to the
    Celery tasks queued during the request (gradient/logging.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = clean_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs the response's status ("Not Found: …") after
        # the middlewares return. `request_finished` clears it (gradient.logging).
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
