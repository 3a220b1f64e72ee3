"""What every API endpoint shares: the error shape, paging, throttles and their schema.

One error shape for every 4xx answer, in the language of Accept-Language (LocaleMiddleware has
activated it before the view runs):

    {"detail": "<one sentence>", "code": "<machine code>", "problems": ["answers.F2: <message>"]}

`problems` has one entry per problem, each prefixed with the path of the field it is about
(`body` for the body as a whole); an error that is not about a field repeats `detail` there.
`ApiSchema` documents that shape under every status an endpoint can answer, so the schema
and the server agree (schemathesis checks it, tests/api/test_schema_fuzz.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import register_converter
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from drf_spectacular.utils import Direction
else:
    StrOrPromise = str

API_PREFIX = "/api/"
MAX_ID = 10**18 - 1  # the largest id a path takes (IdConverter): it fits a 64-bit column

# --- The error shape ---------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer of the API."""

    detail = serializers.CharField(help_text="One sentence in the language of Accept-Language.")
    code = serializers.CharField(help_text="A machine-readable code, e.g. invalid, not_found.")
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text='One entry per problem, prefixed with its field path: "answers.F2: …".',
    )


def flatten(detail: Any, path: str = "") -> Iterator[str]:
    """DRF's nested error detail as "path: message" lines (`body` for the body itself)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "body" if key in ("non_field_errors", "detail") and not path else str(key)
            yield from flatten(value, f"{path}.{name}" if path else name)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield f"{path or 'body'}: {item}"
        else:
            for index, item in enumerate(detail):
                yield from flatten(item, f"{path}.{index}" if path else str(index))
    else:
        yield f"{path or 'body'}: {detail}"


def error_body(
    detail: StrOrPromise, code: str, problems: list[str] | None = None
) -> dict[str, Any]:
    """The API's error shape."""
    return {"detail": str(detail), "code": code, "problems": problems or [str(detail)]}


def error_response(
    status_code: int, detail: StrOrPromise, code: str, problems: list[str] | None = None
) -> Response:
    """A DRF Response in the API's error shape."""
    return Response(error_body(detail, code, problems), status=status_code)


def json_body(request: Request) -> Any:
    """The parsed JSON body; ParseError (400) when the request has none at all."""
    if request.stream is None:
        raise exceptions.ParseError(_("The request needs a JSON body."))
    return request.data


def validated(serializer_class: type[serializers.Serializer], request: Request) -> Any:
    """The request's JSON body checked by the serializer: its validated data, or a 400."""
    body = serializer_class(data=json_body(request))
    body.is_valid(raise_exception=True)
    return body.validated_data


def _first_code(codes: Any) -> str:
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return str(codes) if codes else "invalid"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error answered in the one shape (settings.REST_FRAMEWORK)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args[:1])
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        problems = list(flatten(exc.detail))
        summary = _("The request has %(count)d problem(s).") % {"count": len(problems)}
        response.data = error_body(summary, _first_code(exc.get_codes()), problems)
    else:
        raw = exc.detail if not isinstance(exc.detail, dict | list) else exc.default_detail
        detail = str(raw)
        code = exc.get_codes()
        # A body that cannot be read is a problem of the body as a whole.
        body_problem = [f"body: {detail}"] if isinstance(exc, exceptions.ParseError) else None
        response.data = error_body(detail, code if isinstance(code, str) else "error", body_problem)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL no route matches: the API's shape under /api/, the page elsewhere."""
    if request.path.startswith(API_PREFIX):
        detail = str(exceptions.NotFound.default_detail)
        return JsonResponse(error_body(detail, "not_found"), status=404)
    from gradient import views

    return views.not_found(request, exception)


# --- The schema --------------------------------------------------------------------------------

_ERROR_DESCRIPTIONS = {
    "400": "The request does not match the schema: the problems name each field.",
    "401": "Not signed in: send a session cookie, HTTP Basic or a token.",
    "403": "Signed in, but not allowed (or a missing CSRF token with a session cookie).",
    "404": "No such resource, or one outside your scope (answered alike), or no such page.",
    "409": "The resource's state does not allow this now.",
    "415": "The body is not JSON: send Content-Type: application/json.",
    "422": "The request is well formed, but its content is refused: see the problems.",
    "429": "Too many requests: wait for Retry-After seconds.",
}


# What DRF's CharField refuses, as a pattern: a NUL anywhere (ProhibitNullCharactersValidator),
# and, when it trims and may not be blank, a text of nothing but the whitespace Python's
# str.strip() removes (spelled out: JavaScript's \s is another set).
_PY_SPACE = "".join(f"\\u{c:04x}" for c in range(0x10000) if chr(c).isspace())
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_PY_SPACE}][^\\u0000]*$"


# A SlugField's text once trimmed: letters, digits, "-" and "_".
SLUG = f"^[{_PY_SPACE}]*[-a-zA-Z0-9_]+[{_PY_SPACE}]*$"


def text_pattern(trimmed_and_required: bool) -> str:
    """The pattern a request text field documents (see NO_NUL and NOT_BLANK)."""
    return NOT_BLANK if trimmed_and_required else NO_NUL


class ApiSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers every endpoint can give, and the
    patterns of what a text field refuses."""

    def _map_serializer_field(
        self, field: Any, direction: Direction, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and "pattern" not in schema
            and "format" not in schema
            and "enum" not in schema
        ):
            if isinstance(field, serializers.SlugField) and not field.allow_unicode:
                schema["pattern"] = SLUG
            else:
                blank_refused = field.trim_whitespace and not field.allow_blank
                schema["pattern"] = text_pattern(blank_refused)
        pattern = schema.get("pattern") if isinstance(schema, dict) else None
        if direction == "request" and pattern and pattern.endswith("$"):
            # Python's "$" also matches before a final newline (its validators use \Z);
            # JavaScript's does not. "(?!\n)" makes both mean the end of the text.
            schema["pattern"] = pattern + "(?!\n)"
        return schema

    def _error_codes(self) -> set[str]:
        codes = {"401", "403", "429"}
        has_body = self.method in ("POST", "PUT", "PATCH")
        listed = self._is_list_view() and self.method == "GET"
        if has_body or listed or self.get_filter_backends():
            codes.add("400")
        if has_body:
            codes.add("415")
        if "{" in self.path or listed:
            codes.add("404")
        return codes

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        declared = {str(code) for code in responses}
        for code in sorted(self._error_codes() | (declared & set(_ERROR_DESCRIPTIONS))):
            if code in responses and "content" in responses[code]:
                continue
            given = responses.get(code, {}).get("description")
            description = given or _ERROR_DESCRIPTIONS[code]
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=description),
                code,
                direction=direction,
            )
        return responses

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> Any:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers = dict(headers or {})
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        return headers


def error(description: str) -> OpenApiResponse:
    """An error answer for extend_schema(responses=...), in the one error shape."""
    return OpenApiResponse(ErrorSerializer, description=description)


HTTP_422 = status.HTTP_422_UNPROCESSABLE_ENTITY


class IdConverter:
    """Path converter `<id:pk>`: a row id of at most 18 digits, so it fits a 64-bit column
    (a longer one is a 404 instead of a database error). Documented as a bounded integer."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


# --- Filters whose bounds the schema states ----------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id in a query string: a whole number from 1 that fits a 64-bit column."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class TextFilter(django_filters.CharFilter):
    """An exact text in a query string, at most `max_length` characters (stated in the schema
    through `text_filter`)."""


def text_filter(field_name: str, max_length: int, help_text: str) -> TextFilter:
    """A TextFilter of at most `max_length` characters, documented as such."""
    bounded = extend_schema_field(
        {"type": "string", "maxLength": max_length, "pattern": text_pattern(False)}
    )(type(f"TextFilter{max_length}", (TextFilter,), {}))
    return bounded(field_name=field_name, max_length=max_length, help_text=help_text)
