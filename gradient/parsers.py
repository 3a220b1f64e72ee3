"""Request body parsers for the API whose cost is bounded whatever the body holds.

DRF's JSONParser reads the whole body, however large, and hands it to `json.load`, which
recurses once per nesting level: a body of 100,000 "[" ends in a RecursionError (a 500), and a
number literal of a million digits costs seconds to convert. `BoundedJSONParser` instead

1. refuses a body over `MAX_BODY_BYTES` (from Content-Length, then by reading at most one
   byte more than the limit),
2. decodes it strictly (a body that is not valid UTF-8, or not in its declared charset, is
   refused),
3. scans the bracket depth outside strings before parsing (`MAX_DEPTH`),
4. parses with number literals limited to `MAX_NUMBER_CHARS` characters,

and answers every failure with a ParseError, so DRF replies 400 with a message. The same
checks serve the `score_answers` command through `loads_bounded`.
"""

from __future__ import annotations

import codecs
import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "BoundedFormParser",
    "BoundedJSONParser",
    "JSONTooComplex",
    "loads_bounded",
]

MAX_BODY_BYTES = 1024 * 1024  # answers to the largest framework take a few kilobytes
MAX_DEPTH = 32  # the API's bodies nest three levels deep
MAX_NUMBER_CHARS = 400  # any finite double written out in full is shorter

# A JSON string, escapes included. Possessive, and an unterminated string runs to the end, so
# that removing strings stays linear on any text.
_STRINGS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONTooComplex(ValueError):
    """JSON nested too deeply ("depth") or with a number literal too long ("number")."""

    def __init__(self, kind: str, limit: int) -> None:
        self.kind, self.limit = kind, limit
        if kind == "depth":
            message = f"nested more than {limit} levels deep"
        else:
            message = f"a number longer than {limit} characters"
        super().__init__(message)


def _depth(text: str) -> int:
    """How deep brackets outside strings nest (exact for valid JSON), at C speed."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _bounded(convert: Any) -> Any:
    def parse(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_CHARS:
            raise JSONTooComplex("number", MAX_NUMBER_CHARS)
        return convert(literal)

    return parse


_parse_int = _bounded(int)
_parse_float = _bounded(float)


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_bounded(text: str, *, max_depth: int = MAX_DEPTH, strict: bool = True) -> Any:
    """`json.loads` with bounded depth and number length; raises ValueError subclasses.

    JSONTooComplex names what is too big; json.JSONDecodeError keeps its line and column.
    `strict` refuses NaN and Infinity, as DRF does by default.
    """
    if _depth(text) > max_depth:
        raise JSONTooComplex("depth", max_depth)
    return json.loads(
        text,
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_strict_constant if strict else None,
    )


def _read_bounded(stream: Any, parser_context: dict, limit: int) -> bytes:
    """The body, or ParseError when it is longer than `limit` bytes."""
    request = parser_context.get("request")
    meta = getattr(request, "META", {}) if request is not None else {}
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        declared = 0
    too_large = _("Request body too large: at most %(size)s KB is accepted.") % {
        "size": limit // 1024
    }
    if declared > limit:
        raise ParseError(too_large)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ParseError(too_large)
    return data


def _decode(data: bytes, parser_context: dict) -> str:
    encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ParseError(
            _("Unknown character set “%(charset)s”.") % {"charset": encoding}
        ) from None
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if name == "utf-8" else encoding
        raise ParseError(
            _("The request body is not valid %(charset)s (byte %(position)s).")
            % {"charset": label, "position": exc.start}
        ) from None
    return text.removeprefix("\ufeff")


class BoundedJSONParser(JSONParser):
    """JSONParser with a cap on body size, nesting depth and number length (400 otherwise)."""

    max_bytes = MAX_BODY_BYTES
    max_depth = MAX_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """The parsed body; ParseError (400) for anything that is not small, valid JSON."""
        parser_context = parser_context or {}
        if stream is None:
            return None
        text = _decode(_read_bounded(stream, parser_context, self.max_bytes), parser_context)
        try:
            return loads_bounded(text, max_depth=self.max_depth, strict=self.strict)
        except JSONTooComplex as exc:
            if exc.kind == "depth":
                message = _("The JSON is nested too deeply: at most %(limit)s levels.")
            else:
                message = _("The JSON has a number longer than %(limit)s characters.")
            raise ParseError(message % {"limit": exc.limit}) from None
        except (ValueError, RecursionError) as exc:  # recursion only as a safety net
            # DRF's own wording (untranslated, as DRF has it), which clients may match.
            raise ParseError(f"JSON parse error - {exc}") from None


class BoundedFormParser(FormParser):
    """FormParser with the same cap on body size (DRF's reads the whole body)."""

    max_bytes = MAX_BODY_BYTES

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """The form's QueryDict; ParseError (400) for a body over the size cap."""
        from django.http import QueryDict

        parser_context = parser_context or {}
        data = _read_bounded(stream, parser_context, self.max_bytes)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(data, encoding=encoding)
