"""Limits every API list and caller shares: bounded pages, and request rates per caller.

Kept apart from gradient/api.py: DRF imports its default throttle and pagination classes while
its own views module loads, before drf-spectacular can be imported.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from gradient.authentication import client_ip

# --- Paging ------------------------------------------------------------------------------------


class Pagination(PageNumberPagination):
    """Pages of 50 (`page_size` up to 200). A page that is not a positive whole number is a
    400; a page past the last one a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings:
            return raw
        if not str(raw).isdigit() or int(raw) < 1 or len(str(raw)) > 9:
            raise exceptions.ValidationError({"page": [_("Enter a whole number from 1.")]})
        return raw

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [_("Enter a whole number from 1 to %(max)d.") % {"max": 200}]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
            else:
                parameter["schema"]["maximum"] = 999_999_999
        return parameters


# --- Throttles ---------------------------------------------------------------------------------


class AnonThrottle(AnonRateThrottle):
    """Anonymous callers, counted per client address (gradient.authentication.client_ip) in
    the shared cache; the rate is API_ANON_RATE."""

    def get_rate(self) -> str:
        return str(settings.API_ANON_RATE)

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class UserThrottle(UserRateThrottle):
    """Signed-in callers, counted per user in the shared cache; the rate is API_USER_RATE."""

    def get_rate(self) -> str:
        return str(settings.API_USER_RATE)

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class SignedIn(IsAuthenticated):
    """IsAuthenticated, with anonymous callers counted by the throttles before they are refused
    (DRF checks permissions before throttles, so a 401 would otherwise never be throttled)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if super().has_permission(request, view):
            return True
        view.check_throttles(request)
        return False
