"""Project-wide pages: the home page, the health check and friendly error pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page; each app contributes its own panel for the user's roles."""
    return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """A liveness probe that also touches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A 404 page in the user's language."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500 page in the user's language, never a traceback."""
    return render(request, "500.html", status=500)


class LogoutView(auth_views.LogoutView):
    """Log out by POST as Django wants; a typed or bookmarked GET gets a page with the button
    instead of a blank "405 Method Not Allowed"."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("login")
        return render(request, "registration/logout_confirm.html")
