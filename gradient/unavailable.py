"""503, never a 500 page, while the database cannot be reached (down, restarting, or it
dropped the connection): the faults of tests/faults/test_database_restart.py.

The error can come from anywhere in the request: the session and the user are loaded by
middleware (the audit trail's reads the user before the view runs), where no view decorator
sees it. So a receiver of `got_request_exception` marks the request, and
DatabaseUnavailableMiddleware, outside the middlewares that use the database, swaps the
500 it gets for `database_unavailable`. The site's 500 handler does the same for errors that
reach it directly (gradient.views.server_error).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

# A client may send again after this many seconds.
RETRY_AFTER_SECONDS = 5
_MARK = "_gradient_database_unavailable"


def database_error(exc: BaseException | None) -> bool:
    """Whether the exception, or one it was raised from, says the database is unreachable."""
    for _depth in range(10):
        if exc is None:
            return False
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 in the user's language: JSON in the API's error shape under /api/, a fragment for
    htmx (the questionnaire shows it and sends the answer again after Retry-After), a small
    page otherwise. Built without the database: no session, no user, no context processors."""
    language = translation.get_language_from_request(request) or settings.LANGUAGE_CODE
    with translation.override(language):
        if request.method == "POST":
            message = _(
                "Not saved yet: the server cannot reach its database for a moment. Your "
                "answer is kept on this page and sent again in a few seconds."
            )
        else:
            message = _("The server cannot reach its database for a moment. Try again shortly.")
        if request.path.startswith("/api/"):
            from gradient.api import error_body

            response: HttpResponse = JsonResponse(
                error_body(message, "database_unavailable"), status=503
            )
        elif request.headers.get("HX-Request"):
            response = HttpResponse(
                format_html(
                    '<p class="msg msg-error" data-unavailable role="alert">{}</p>', message
                ),
                status=503,
            )
        else:
            title = _("Briefly unavailable")
            response = HttpResponse(
                format_html(
                    '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width, initial-scale=1">'
                    "<title>{}</title></head><body><h1>{}</h1><p data-unavailable>{}</p>"
                    "</body></html>",
                    language,
                    title,
                    title,
                    message,
                ),
                status=503,
            )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _note_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Mark a request whose uncaught exception is the database being unreachable."""
    if request is not None and database_error(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_note_database_error, dispatch_uid="gradient_database_unavailable")


class DatabaseUnavailableMiddleware:
    """Answer 503 (database_unavailable) instead of the 500 of a request that failed because
    the database could not be reached. Sits before the session middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500 and getattr(request, _MARK, False):
            return database_unavailable(request)
        return response
