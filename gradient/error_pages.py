"""The friendly 404 and 500 pages also when DEBUG is on, as it is for the runserver demo.

With DEBUG on, Django answers an unknown URL or an `Http404` with its technical page, which
lists every route, and an exception with a traceback, whatever `handler404` and `handler500`
say. This middleware calls those handlers instead. The traceback still goes to the console
through the `django.request` logger. `TECHNICAL_ERROR_PAGES=1` gives a developer Django's
pages back. With DEBUG off it does nothing: Django calls the handlers itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

logger = logging.getLogger("django.request")


def _active() -> bool:
    return bool(settings.DEBUG) and not getattr(settings, "TECHNICAL_ERROR_PAGES", False)


def _handler(request: HttpRequest, status: int) -> Callable[..., HttpResponse]:
    resolver = get_resolver(getattr(request, "urlconf", None))
    return resolver.resolve_error_handler(status)


class FriendlyErrorPagesMiddleware:
    """Answer unknown URLs, `Http404` and uncaught exceptions with the site's own pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _active():
            # An unknown URL fails before any view runs, so process_exception never sees it.
            try:
                get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
            except Resolver404 as exc:
                return _handler(request, 404)(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The handler's page for an exception a view raised; None leaves it to Django."""
        if not _active() or isinstance(exception, PermissionDenied):
            return None  # a 403 already gets handler403, DEBUG or not
        if isinstance(exception, Http404):
            return _handler(request, 404)(request, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            logger.warning("Bad request: %s", request.path, exc_info=exception)
            return _handler(request, 400)(request, exception)
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return _handler(request, 500)(request)
