"""Response headers set in one place for the whole app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


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
