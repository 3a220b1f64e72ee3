"""Framework files (FRAMEWORK_FORMAT.md, version 1): loading and validation.

Pure Python: no Django imports. Every number in a framework becomes a `Decimal` (floats from
YAML/JSON are converted through their shortest text form, so `0.1` is exactly 0.1). The
validator never stops at the first problem: it collects every problem it finds, each as
`path: message`, and raises them together in one `FrameworkError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "QUESTION_TYPES",
    "SCORED_TYPES",
    "Band",
    "Bands",
    "Dimension",
    "Framework",
    "FrameworkError",
    "Level",
    "LevelChoice",
    "Option",
    "Question",
    "Text",
    "builtin_framework_paths",
    "load_framework_file",
    "parse_framework",
    "read_text_file",
    "text",
]

FORMAT = 1
QUESTION_TYPES = ("single", "multi", "yesno", "number", "level", "text")
SCORED_TYPES = frozenset({"single", "multi", "yesno", "number"})
DEFAULT_MAX_LENGTH = 2000
BUILTIN_DIR = Path(__file__).resolve().parent / "frameworks"

_SLUG = re.compile(r"[a-z0-9-]+")
_CODE = re.compile(r"[A-Za-z0-9._-]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")

Text = Mapping[str, str]


class FrameworkError(Exception):
    """A framework file that cannot be used; `problems` lists every problem as `path: message`."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


# --- The parsed framework --------------------------------------------------------------------


@dataclass(frozen=True)
class Bands:
    basic: str
    advanced: str


@dataclass(frozen=True)
class Level:
    code: str
    title: Text
    description: Text | None
    when: tuple[dict, ...]
    notes: Text | None = None


@dataclass(frozen=True)
class Option:
    code: str
    text: Text
    points: Decimal
    exclusive: bool = False


@dataclass(frozen=True)
class Band:
    upto: Decimal | None
    points: Decimal


@dataclass(frozen=True)
class LevelChoice:
    value: int
    text: Text


@dataclass(frozen=True)
class Question:
    code: str
    dimension: str
    type: str
    text: Text
    help: Text | None = None
    required: bool = True
    tags: tuple[str, ...] = ()
    show_if: dict | None = None
    points: Decimal | None = None
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str | None = None
    integer: bool = False
    levels: tuple[LevelChoice, ...] = ()
    max_length: int = DEFAULT_MAX_LENGTH
    notes: Text | None = None

    @property
    def is_scored(self) -> bool:
        """True for the types that earn points (single, multi, yesno, number)."""
        return self.type in SCORED_TYPES

    def option(self, code: str) -> Option:
        """The option with this code (KeyError if there is none)."""
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(code)


@dataclass(frozen=True)
class Dimension:
    code: str
    title: Text
    description: Text | None
    weight: Decimal
    questions: tuple[Question, ...]
    notes: Text | None = None


@dataclass(frozen=True)
class Group:
    """A titled group of questions: those carrying the tag `tag` (MIIT's scene groups)."""

    tag: str
    title: Text


@dataclass(frozen=True)
class Framework:
    slug: str
    version: str
    title: Text
    description: Text | None
    source: Text | None
    languages: tuple[str, ...]
    bands: Bands
    levels: tuple[Level, ...]
    dimensions: tuple[Dimension, ...]
    definition: dict = field(repr=False, compare=False)
    notes: Text | None = None
    groups: tuple[Group, ...] = ()

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in file order."""
        cached = self.__dict__.get("_questions")
        if cached is None:
            cached = tuple(q for d in self.dimensions for q in d.questions)
            object.__setattr__(self, "_questions", cached)
        return cached

    @property
    def default_language(self) -> str:
        """The first language of the file."""
        return self.languages[0]

    def question(self, code: str) -> Question:
        """The question with this code (KeyError if there is none)."""
        index: dict[str, Question] | None = self.__dict__.get("_question_index")
        if index is None:
            index = {q.code: q for q in self.questions}
            object.__setattr__(self, "_question_index", index)
        return index[code]

    def dimension(self, code: str) -> Dimension:
        """The dimension with this code (KeyError if there is none)."""
        for dimension in self.dimensions:
            if dimension.code == code:
                return dimension
        raise KeyError(code)

    def level(self, code: str) -> Level:
        """The level with this code (KeyError if there is none)."""
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(code)

    def group_of(self, question: Question) -> Group | None:
        """The first group whose tag the question carries, or None."""
        for group in self.groups:
            if group.tag in question.tags:
                return group
        return None

    def level_rank(self, code: str | None) -> int:
        """Index of the level in `levels` (lowest is 0); -1 for None (below the first level)."""
        if code is None:
            return -1
        for i, level in enumerate(self.levels):
            if level.code == code:
                return i
        raise KeyError(code)


def text(value: Mapping[str, str] | str | None, language: str) -> str:
    """The text in `language`, falling back to a related language and then the default (first)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if language in value:
        return value[language]
    lang = language.lower().replace("_", "-")
    for key, string in value.items():
        if key.lower() == lang:
            return string
    base = lang.split("-")[0]
    for key, string in value.items():
        if key.lower().split("-")[0] == base:
            return string
    return next(iter(value.values()), "")


# --- Loading ---------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys (SafeLoader silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            ) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {_show(key)}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

# YAML 1.1 reads 010 as 8 (octal), 1:30 as 90 (base 60) and 1_000 as 1000. Such numbers would
# be corrupted silently, so only plain decimal numbers (as in YAML 1.2 and JSON) are numbers
# here; anything else stays a string, which the validator then names ("must be a number").
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
        r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context and "duplicate" not in problem else problem
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {message}"
    return f"YAML: {message}"


def read_text_file(path: str | Path) -> str:
    """The text of a UTF-8 file (a BOM dropped); raises FrameworkError saying why it is unreadable.

    Problems name the file as `path` was given, so a command echoes what the user typed.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FrameworkError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise FrameworkError([f"{path}: is a directory, not a file"]) from None
    except OSError as exc:
        raise FrameworkError([f"{path}: cannot read the file ({exc.strerror or exc})"]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameworkError(
            [f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded)"]
        ) from None


def load_framework_file(path: str | Path) -> Framework:
    """Parse and validate a framework file (YAML or JSON); raises FrameworkError."""
    path = Path(path)
    content = read_text_file(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise FrameworkError(
                [f"line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})"]
            ) from None
    else:
        try:
            data = yaml.load(content, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as exc:
            raise FrameworkError([_yaml_problem(exc)]) from None
        except (ValueError, OverflowError) as exc:  # e.g. an impossible date such as 2024-13-45
            raise FrameworkError([f"YAML: {exc}"]) from None
    return parse_framework(data)


def builtin_framework_paths() -> list[Path]:
    """The built-in framework files, assessments/frameworks/*.yaml, sorted by name."""
    return sorted(BUILTIN_DIR.glob("*.yaml"))


# --- Validation ------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as a person would write it in a file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return _num_str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _num_str(value: Decimal) -> str:
    text_ = format(value.normalize(), "f")
    return text_


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({_show(value)})"
    if isinstance(value, int | float):
        return f"a number ({_show(value)})"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date | dt.datetime):
        return f"a date ({value.isoformat()})"
    return type(value).__name__


_BOOL_HINT = (
    "; YAML reads unquoted yes, no, on, off, true and false as booleans, so put it in quotes"
)
_DATE_HINT = "; YAML reads an unquoted date as a date, so put it in quotes"


def _string_hint(value: object) -> str:
    if isinstance(value, bool):
        return _BOOL_HINT
    if isinstance(value, int | float):
        return f'; put it in quotes, e.g. "{_show(value)}"'
    if isinstance(value, dt.date | dt.datetime):
        return _DATE_HINT
    return ""


def _number_hint(value: object) -> str:
    if isinstance(value, str):
        return "; write numbers without quotes, using a decimal point (e.g. 1000 or 2.5)"
    return ""


def _join(path: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


@dataclass
class _QInfo:
    """What conditions need to know about a question while the file is being validated."""

    index: int
    type: str
    options: tuple[str, ...] = ()
    values: tuple[int, ...] = ()


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.languages: tuple[str, ...] = ()
        self.questions: dict[str, _QInfo] = {}
        self.dimension_codes: set[str] = set()
        self.tags: set[str] = set()
        self.level_codes: list[str] = []
        # (condition, path, context, index of the question for show_if) checked at the end,
        # once every question, dimension and tag is known.
        self.pending: list[tuple[object, str, str, int]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    # -- generic pieces --

    def mapping(
        self,
        value: object,
        path: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        forbidden: Mapping[str, str] | None = None,
    ) -> dict | None:
        """Check a mapping's keys (missing, unknown, not strings); None when not a mapping."""
        if not isinstance(value, dict):
            self.add(path or "top level", f"must be a mapping, got {_kind(value)}")
            return None
        required = list(required)
        allowed = set(required) | set(optional)
        forbidden = forbidden or {}
        for key in value:
            if not isinstance(key, str):
                self.add(
                    _join(path, _show(key)),
                    f"a key must be a string, got {_kind(key)}{_string_hint(key)}",
                )
            elif key in forbidden:
                self.add(_join(path, key), forbidden[key])
            elif key not in allowed:
                self.add(_join(path, key), "unknown key")
        for key in required:
            if key not in value:
                self.add(_join(path, key), "required key is missing")
        return value

    def string(self, value: object, path: str, *, pattern: re.Pattern | None = None) -> str | None:
        if not isinstance(value, str):
            self.add(path, f"must be a string, got {_kind(value)}{_string_hint(value)}")
            return None
        if not value.strip():
            self.add(path, "must not be empty")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(path, f"{_show(value)} is not allowed: use only {pattern.pattern}")
            return None
        return value

    def boolean(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.add(path, f"must be true or false, got {_kind(value)}")
            return None
        return value

    def number(
        self,
        value: object,
        path: str,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        what: str = "",
    ) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, got {_kind(value)}{_number_hint(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, "must be a finite number")
            return None
        number = _decimal(value)
        if minimum is not None and number < minimum:
            self.add(path, f"must be at least {_num_str(minimum)}, got {_num_str(number)}")
            return None
        if maximum is not None and number > maximum:
            self.add(
                path,
                f"exceeds {what or 'the maximum'} {_num_str(maximum)}"
                + (f" (got {_num_str(number)})" if not what else ""),
            )
            return None
        return number

    def integer(self, value: object, path: str, *, minimum: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be a whole number, got {_kind(value)}")
            return None
        if minimum is not None and value < minimum:
            self.add(path, f"must be at least {minimum}, got {value}")
            return None
        return value

    def listing(self, value: object, path: str, *, at_least: int = 0) -> list | None:
        if not isinstance(value, list):
            self.add(path, f"must be a list, got {_kind(value)}")
            return None
        if len(value) < at_least:
            entries = "entry" if at_least == 1 else "entries"
            self.add(path, f"must have at least {at_least} {entries}, got {len(value)}")
        return value

    def text(self, value: object, path: str) -> dict[str, str] | None:
        """A text: a string for every language, or a mapping covering every language."""
        if isinstance(value, str):
            if not value.strip():
                self.add(path, "must not be empty")
                return None
            return dict.fromkeys(self.languages, value)
        if not isinstance(value, dict):
            self.add(
                path,
                f"must be a string or a mapping of languages, got {_kind(value)}"
                f"{_string_hint(value)}",
            )
            return None
        ok = True
        for key, string in value.items():
            if not isinstance(key, str):
                self.add(
                    _join(path, _show(key)),
                    f"a language code must be a string, got {_kind(key)}{_string_hint(key)}",
                )
                ok = False
            elif self.languages and key not in self.languages:
                self.add(
                    _join(path, key),
                    f"unknown language (the file's languages are {', '.join(self.languages)})",
                )
                ok = False
            elif not isinstance(string, str):
                self.add(
                    _join(path, key),
                    f"must be a string, got {_kind(string)}{_string_hint(string)}",
                )
                ok = False
            elif not string.strip():
                self.add(_join(path, key), "must not be empty")
                ok = False
        for language in self.languages:
            if language not in value:
                self.add(path, f'missing language "{language}"')
                ok = False
        if not ok:
            return None
        return {language: value[language] for language in self.languages}

    def _code(self, data: dict, path: str) -> str | None:
        if "code" not in data:
            return None
        return self.string(data["code"], f"{path}.code", pattern=_CODE)

    def optional_text(self, data: dict, key: str, path: str) -> dict[str, str] | None:
        if key not in data:
            return None
        return self.text(data[key], _join(path, key))

    # -- the file --

    def framework(self, data: object) -> Framework | None:
        top = self.mapping(
            data,
            "",
            (
                "format",
                "framework",
                "version",
                "title",
                "languages",
                "bands",
                "levels",
                "dimensions",
            ),
            ("description", "source", "notes", "groups"),
        )
        if top is None:
            return None

        if "format" in top:
            fmt = top["format"]
            if isinstance(fmt, bool) or fmt != FORMAT:
                self.add("format", f"must be {FORMAT}, got {_show(fmt)}")
        slug = None
        if "framework" in top:
            slug = self.string(top["framework"], "framework", pattern=_SLUG)
        version = self.string(top["version"], "version") if "version" in top else None
        if version is not None and version != version.strip():
            self.add("version", "must not start or end with spaces")
            version = None

        self.languages = self._languages(top.get("languages"), "languages" in top)
        title = self.text(top["title"], "title") if "title" in top else None
        description = self.optional_text(top, "description", "")
        source = self.optional_text(top, "source", "")
        notes = self.optional_text(top, "notes", "")
        groups = self._groups(top["groups"]) if "groups" in top else ()

        dimensions = self._dimensions(top.get("dimensions"))
        levels = self._levels(top.get("levels")) if "levels" in top else ()
        bands = self._bands(top["bands"]) if "bands" in top else None
        for condition, path, context, position in self.pending:
            self.condition(condition, path, context, position)

        if self.problems:
            return None
        assert slug and version and title and bands is not None
        return Framework(
            slug=slug,
            version=version,
            title=title,
            description=description,
            source=source,
            languages=self.languages,
            bands=bands,
            levels=levels,
            dimensions=dimensions,
            definition=json.loads(json.dumps(top, ensure_ascii=False)),
            notes=notes,
            groups=groups,
        )

    def _groups(self, value: object) -> tuple[Group, ...]:
        items = self.listing(value, "groups", at_least=1)
        groups: list[Group] = []
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            path = f"groups[{i}]"
            data = self.mapping(item, path, ("tag", "title"))
            if data is None:
                continue
            tag = self.string(data["tag"], f"{path}.tag", pattern=_CODE) if "tag" in data else None
            if tag is not None and tag in seen:
                self.add(f"{path}.tag", f'duplicate group tag "{tag}"')
                tag = None
            title = self.text(data["title"], f"{path}.title") if "title" in data else None
            if tag is not None and title is not None:
                seen.add(tag)
                groups.append(Group(tag, title))
        return tuple(groups)

    def _languages(self, value: object, present: bool) -> tuple[str, ...]:
        if not present:
            return ()
        items = self.listing(value, "languages", at_least=1)
        if items is None:
            return ()
        languages: list[str] = []
        for i, item in enumerate(items):
            code = self.string(item, f"languages[{i}]", pattern=_LANGUAGE)
            if code is None:
                continue
            if code in languages:
                self.add(f"languages[{i}]", f'duplicate language "{code}"')
                continue
            languages.append(code)
        return tuple(languages)

    def _bands(self, value: object) -> Bands | None:
        data = self.mapping(value, "bands", ("basic", "advanced"))
        if data is None:
            return None
        codes: dict[str, str] = {}
        for key in ("basic", "advanced"):
            if key not in data:
                continue
            code = self.string(data[key], f"bands.{key}")
            if code is None:
                continue
            if code not in self.level_codes:
                self.add(f"bands.{key}", f'level "{code}" does not exist')
                continue
            codes[key] = code
        if len(codes) < 2:
            return None
        if self.level_codes.index(codes["advanced"]) < self.level_codes.index(codes["basic"]):
            self.add(
                "bands.advanced",
                f'level "{codes["advanced"]}" is below the basic level "{codes["basic"]}"',
            )
            return None
        return Bands(basic=codes["basic"], advanced=codes["advanced"])

    def _levels(self, value: object) -> tuple[Level, ...]:
        items = self.listing(value, "levels", at_least=1)
        if items is None:
            return ()
        levels: list[Level] = []
        for i, item in enumerate(items):
            path = f"levels[{i}]"
            data = self.mapping(item, path, ("code", "title"), ("description", "when", "notes"))
            if data is None:
                continue
            code = self._code(data, path)
            if code is not None:
                if code in self.level_codes:
                    self.add(f"{path}.code", f'duplicate level code "{code}"')
                else:
                    self.level_codes.append(code)
            title = self.text(data["title"], f"{path}.title") if "title" in data else None
            description = self.optional_text(data, "description", path)
            level_notes = self.optional_text(data, "notes", path)
            when: list[dict] = []
            raw_when = data.get("when")
            if raw_when is not None:
                conditions = self.listing(raw_when, f"{path}.when")
                for j, condition in enumerate(conditions or []):
                    self.pending.append((condition, f"{path}.when[{j}]", "when", -1))
                    if isinstance(condition, dict):
                        when.append(condition)
            if code is not None and title is not None:
                levels.append(Level(code, title, description, tuple(when), level_notes))
        return tuple(levels)

    def _dimensions(self, value: object) -> tuple[Dimension, ...]:
        if value is None:
            return ()
        items = self.listing(value, "dimensions", at_least=1)
        if items is None:
            return ()
        dimensions: list[Dimension] = []
        for i, item in enumerate(items):
            path = f"dimensions[{i}]"
            data = self.mapping(
                item, path, ("code", "title", "weight", "questions"), ("description", "notes")
            )
            if data is None:
                continue
            code = self._code(data, path)
            if code is not None:
                if code in self.dimension_codes:
                    self.add(f"{path}.code", f'duplicate dimension code "{code}"')
                    code = None
                else:
                    self.dimension_codes.add(code)
            title = self.text(data["title"], f"{path}.title") if "title" in data else None
            description = self.optional_text(data, "description", path)
            dim_notes = self.optional_text(data, "notes", path)
            weight = (
                self.number(data["weight"], f"{path}.weight", minimum=Decimal(0))
                if "weight" in data
                else None
            )
            questions: list[Question] = []
            if "questions" in data:
                raw = self.listing(data["questions"], f"{path}.questions", at_least=1)
                for j, question in enumerate(raw or []):
                    parsed = self._question(question, f"{path}.questions[{j}]", code or "")
                    if parsed is not None:
                        questions.append(parsed)
            if code is not None and title is not None and weight is not None:
                dimensions.append(
                    Dimension(code, title, description, weight, tuple(questions), dim_notes)
                )
        return tuple(dimensions)

    _TYPE_KEYS = {
        "single": ("options",),
        "multi": ("options",),
        "yesno": (),
        "number": ("bands", "min", "max", "unit", "integer"),
        "level": ("levels",),
        "text": ("max_length",),
    }
    _ALL_TYPE_KEYS = ("options", "bands", "min", "max", "unit", "integer", "levels", "max_length")

    def _question(self, value: object, path: str, dimension: str) -> Question | None:
        position = len(self.questions)  # index in file order (bad codes hold a place too)
        qtype = value.get("type") if isinstance(value, dict) else None
        if isinstance(qtype, str) and qtype in QUESTION_TYPES:
            own = self._TYPE_KEYS[qtype]
            forbidden = {
                key: f"not allowed for a {qtype} question"
                for key in self._ALL_TYPE_KEYS
                if key not in own
            }
            required = ["code", "type", "text"]
            if qtype in SCORED_TYPES:
                required.append("points")
            else:
                forbidden["points"] = f"not allowed for a {qtype} question (it earns no points)"
            if qtype in ("single", "multi"):
                required.append("options")
            if qtype == "number":
                required.append("bands")
            if qtype == "level":
                required.append("levels")
            optional = ["help", "notes", "required", "tags", "show_if", *own]
        else:
            required = ["code", "type", "text"]
            optional = [
                "help",
                "notes",
                "required",
                "tags",
                "show_if",
                "points",
                *self._ALL_TYPE_KEYS,
            ]
            forbidden = {}
        data = self.mapping(value, path, required, optional, forbidden)
        if data is None:
            return None

        code = self.string(data["code"], f"{path}.code", pattern=_CODE) if "code" in data else None
        if code is not None and code in self.questions:
            self.add(f"{path}.code", f'duplicate question code "{code}"')
            code = None
        if "type" in data and qtype not in QUESTION_TYPES:
            self.add(
                f"{path}.type",
                f"must be one of {', '.join(QUESTION_TYPES)}, got {_show(data['type'])}",
            )
            qtype = None
        qtext = self.text(data["text"], f"{path}.text") if "text" in data else None
        help_text = self.optional_text(data, "help", path)
        question_notes = self.optional_text(data, "notes", path)
        required_flag = True
        if "required" in data:
            flag = self.boolean(data["required"], f"{path}.required")
            required_flag = True if flag is None else flag
        tags: list[str] = []
        if "tags" in data:
            for k, tag in enumerate(self.listing(data["tags"], f"{path}.tags") or []):
                tag_value = self.string(tag, f"{path}.tags[{k}]")
                if tag_value is None:
                    continue
                if tag_value in tags:
                    self.add(f"{path}.tags[{k}]", f'duplicate tag "{tag_value}"')
                    continue
                tags.append(tag_value)
        self.tags.update(tags)

        points: Decimal | None = None
        if qtype in SCORED_TYPES and "points" in data:
            points = self.number(data["points"], f"{path}.points", minimum=Decimal(0))

        kwargs: dict[str, Any] = {}
        info = _QInfo(index=position, type=qtype or "")
        if qtype in ("single", "multi") and "options" in data:
            options = self._options(data["options"], f"{path}.options", qtype, points)
            kwargs["options"] = options
            info.options = tuple(o.code for o in options)
        elif qtype == "number":
            kwargs.update(self._number_keys(data, path, points))
        elif qtype == "level" and "levels" in data:
            choices = self._level_choices(data["levels"], f"{path}.levels")
            kwargs["levels"] = choices
            info.values = tuple(c.value for c in choices)
        elif qtype == "text" and "max_length" in data:
            max_length = self.integer(data["max_length"], f"{path}.max_length", minimum=1)
            if max_length is not None:
                kwargs["max_length"] = max_length

        show_if = data.get("show_if")
        if "show_if" in data:
            self.pending.append((show_if, f"{path}.show_if", "show_if", position))
        if code is not None:
            self.questions[code] = info
        else:
            # Keep file positions right for later show_if checks even when this code is bad.
            self.questions[f"\0{position}"] = info
        if (
            code is None
            or qtype is None
            or qtext is None
            or (qtype in SCORED_TYPES and points is None)
        ):
            return None
        return Question(
            code=code,
            dimension=dimension,
            type=qtype,
            text=qtext,
            help=help_text,
            notes=question_notes,
            required=required_flag,
            tags=tuple(tags),
            show_if=show_if if isinstance(show_if, dict) else None,
            points=points,
            **kwargs,
        )

    def _options(
        self, value: object, path: str, qtype: str, points: Decimal | None
    ) -> tuple[Option, ...]:
        items = self.listing(value, path, at_least=2)
        options: list[Option] = []
        seen: set[str] = set()
        optional = ("exclusive",) if qtype == "multi" else ()
        forbidden = (
            {"exclusive": "only a multi question can have an exclusive option"}
            if qtype == "single"
            else {}
        )
        for i, item in enumerate(items or []):
            opath = f"{path}[{i}]"
            data = self.mapping(item, opath, ("code", "text", "points"), optional, forbidden)
            if data is None:
                continue
            code = self.string(data["code"], f"{opath}.code") if "code" in data else None
            if code is not None and code in seen:
                self.add(f"{opath}.code", f'duplicate option code "{code}"')
                code = None
            if code is not None:
                seen.add(code)
            otext = self.text(data["text"], f"{opath}.text") if "text" in data else None
            opoints = (
                self._points(data["points"], f"{opath}.points", points)
                if "points" in data
                else None
            )
            exclusive = False
            if "exclusive" in data and qtype == "multi":
                flag = self.boolean(data["exclusive"], f"{opath}.exclusive")
                exclusive = bool(flag)
            if code is not None and otext is not None and opoints is not None:
                options.append(Option(code, otext, opoints, exclusive))
        return tuple(options)

    def _points(self, value: object, path: str, question_points: Decimal | None) -> Decimal | None:
        number = self.number(value, path, minimum=Decimal(0))
        if number is None:
            return None
        if question_points is not None and number > question_points:
            self.add(path, f"exceeds question points {_num_str(question_points)}")
            return None
        return number

    def _number_keys(self, data: dict, path: str, points: Decimal | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("min", "max"):
            if key in data:
                out[key] = self.number(data[key], f"{path}.{key}")
        if out.get("min") is not None and out.get("max") is not None and out["min"] > out["max"]:
            self.add(f"{path}.max", f"must not be below min {_num_str(out['min'])}")
        if "unit" in data:
            out["unit"] = self.string(data["unit"], f"{path}.unit")
        if "integer" in data:
            out["integer"] = bool(self.boolean(data["integer"], f"{path}.integer"))
        if "bands" in data:
            items = self.listing(data["bands"], f"{path}.bands", at_least=1)
            bands: list[Band] = []
            previous: Decimal | None = None
            count = len(items or [])
            for i, item in enumerate(items or []):
                bpath = f"{path}.bands[{i}]"
                last = i == count - 1
                band = self.mapping(
                    item,
                    bpath,
                    ("points",) if last else ("upto", "points"),
                    ("upto",) if last else (),
                )
                if band is None:
                    continue
                upto: Decimal | None = None
                if "upto" in band:
                    upto = self.number(band["upto"], f"{bpath}.upto")
                    if upto is not None and previous is not None and upto <= previous:
                        self.add(
                            f"{bpath}.upto",
                            f"must be above the previous band's upto {_num_str(previous)} "
                            "(bands must rise strictly)",
                        )
                    if upto is not None:
                        previous = upto
                bpoints = (
                    self._points(band["points"], f"{bpath}.points", points)
                    if "points" in band
                    else None
                )
                if bpoints is not None:
                    bands.append(Band(upto, bpoints))
            out["bands"] = tuple(bands)
        return {k: v for k, v in out.items() if v is not None}

    def _level_choices(self, value: object, path: str) -> tuple[LevelChoice, ...]:
        items = self.listing(value, path, at_least=1)
        choices: list[LevelChoice] = []
        previous: int | None = None
        for i, item in enumerate(items or []):
            cpath = f"{path}[{i}]"
            data = self.mapping(item, cpath, ("value", "text"))
            if data is None:
                continue
            number = self.integer(data["value"], f"{cpath}.value") if "value" in data else None
            if number is not None and previous is not None and number <= previous:
                self.add(
                    f"{cpath}.value",
                    f"must be above the previous value {previous} (values must rise strictly)",
                )
                number = None
            if number is not None:
                previous = number
            ctext = self.text(data["text"], f"{cpath}.text") if "text" in data else None
            if number is not None and ctext is not None:
                choices.append(LevelChoice(number, ctext))
        return tuple(choices)

    # -- conditions --

    _FORMS = "question, all, any, score, dimension or count"

    def condition(self, value: object, path: str, context: str, position: int) -> None:
        """Check one condition (`context` is "show_if" or "when")."""
        if not isinstance(value, dict):
            self.add(path, f"a condition must be a mapping, got {_kind(value)}")
            return
        keys = {k for k in value if isinstance(k, str)}
        if "question" in keys:
            self._question_condition(value, path, context, position)
        elif "all" in keys or "any" in keys:
            key = "all" if "all" in keys else "any"
            self.mapping(value, path, (key,))
            items = self.listing(value[key], f"{path}.{key}", at_least=1)
            for i, item in enumerate(items or []):
                self.condition(item, f"{path}.{key}[{i}]", context, position)
        elif "score" in keys:
            if context == "show_if":
                self.add(path, "a score condition is only allowed in a level's when")
                return
            self.mapping(value, path, ("score",))
            self.number(value["score"], f"{path}.score", minimum=Decimal(0))
        elif "dimension" in keys:
            if context == "show_if":
                self.add(path, "a dimension condition is only allowed in a level's when")
                return
            self.mapping(value, path, ("dimension", "min"))
            code = value["dimension"]
            if self.string(code, f"{path}.dimension") is not None and (
                code not in self.dimension_codes
            ):
                self.add(f"{path}.dimension", f'dimension "{code}" does not exist')
            if "min" in value:
                self.number(value["min"], f"{path}.min", minimum=Decimal(0))
        elif "count" in keys:
            if context == "show_if":
                self.add(path, "a count condition is only allowed in a level's when")
                return
            self.mapping(value, path, ("count",))
            self._count(value["count"], f"{path}.count")
        else:
            shown = ", ".join(_show(k) for k in value) or "no keys"
            self.add(path, f"unknown condition ({shown}); expected one of {self._FORMS}")

    def _count(self, value: object, path: str) -> None:
        has_tag = isinstance(value, dict) and "tag" in value
        has_dimension = isinstance(value, dict) and "dimension" in value
        selector = "dimension" if has_dimension and not has_tag else "tag"
        data = self.mapping(
            value,
            path,
            (selector, "min_attainment", "at_least"),
            forbidden={"dimension": "give either tag or dimension, not both"}
            if has_tag and has_dimension
            else None,
        )
        if data is None:
            return
        if selector in data:
            name = self.string(data[selector], f"{path}.{selector}")
            if name is not None and selector == "tag" and name not in self.tags:
                self.add(f"{path}.tag", f'no question carries the tag "{name}"')
            if name is not None and selector == "dimension" and name not in self.dimension_codes:
                self.add(f"{path}.dimension", f'dimension "{name}" does not exist')
        if "min_attainment" in data:
            self.number(data["min_attainment"], f"{path}.min_attainment", minimum=Decimal(0))
        if "at_least" in data:
            self.integer(data["at_least"], f"{path}.at_least", minimum=0)

    def _question_condition(self, value: dict, path: str, context: str, position: int) -> None:
        has_in = "in" in value
        has_range = "min" in value or "max" in value
        if has_in:
            self.mapping(
                value,
                path,
                ("question", "in"),
                forbidden={
                    "min": "use either in or min/max, not both",
                    "max": "use either in or min/max, not both",
                },
            )
        elif has_range:
            self.mapping(value, path, ("question",), ("min", "max"))
        else:
            self.mapping(value, path, ("question",), ("in", "min", "max"))
            self.add(path, "a question condition needs in, or min and/or max")
        code = self.string(value["question"], f"{path}.question")
        if code is None:
            return
        info = self.questions.get(code)
        if info is None:
            self.add(f"{path}.question", f'question "{code}" does not exist')
            return
        if context == "show_if":
            if info.index == position:
                self.add(f"{path}.question", f'show_if refers to the question itself ("{code}")')
                return
            if info.index > position:
                self.add(
                    f"{path}.question",
                    f'show_if refers to a later question ("{code}"); it may only use earlier ones',
                )
                return
        if has_in:
            items = self.listing(value["in"], f"{path}.in", at_least=1)
            for i, item in enumerate(items or []):
                self._in_value(item, f"{path}.in[{i}]", code, info)
        for key in ("min", "max"):
            if key in value and not has_in:
                if info.type not in ("number", "level"):
                    self.add(
                        f"{path}.{key}",
                        f'only number and level questions can be compared, "{code}" is '
                        f"{info.type or 'invalid'}",
                    )
                    continue
                self.number(value[key], f"{path}.{key}")

    def _in_value(self, item: object, path: str, code: str, info: _QInfo) -> None:
        qtype = info.type
        if qtype in ("single", "multi"):
            if not isinstance(item, str):
                self.add(
                    path,
                    f'must be an option code of "{code}", got {_kind(item)}{_string_hint(item)}',
                )
            elif info.options and item not in info.options:
                self.add(
                    path,
                    f'option "{item}" is not one of {", ".join(info.options)} (question "{code}")',
                )
        elif qtype == "yesno":
            if not isinstance(item, bool):
                self.add(
                    path, f'"{code}" is a yesno question: use true or false, got {_kind(item)}'
                )
        elif qtype == "number":
            if isinstance(item, bool) or not isinstance(item, int | float):
                self.add(path, f'"{code}" is a number question: use numbers, got {_kind(item)}')
            elif isinstance(item, float) and not math.isfinite(item):
                self.add(path, "must be a finite number")
        elif qtype == "level":
            if isinstance(item, bool) or not isinstance(item, int):
                self.add(
                    path, f'"{code}" is a level question: use whole numbers, got {_kind(item)}'
                )
            elif info.values and item not in info.values:
                values = ", ".join(str(v) for v in info.values)
                self.add(path, f'{item} is not one of the values {values} of "{code}"')
        elif qtype == "text" and not isinstance(item, str):
            self.add(path, f'"{code}" is a text question: use strings, got {_kind(item)}')


def _decimal(value: int | float | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def parse_framework(data: object) -> Framework:
    """Validate a framework mapping (as read from YAML/JSON); raises FrameworkError with all problems."""
    validator = _Validator()
    try:
        framework = validator.framework(data)
    except RecursionError:
        raise FrameworkError(["top level: nested too deeply"]) from None
    if validator.problems or framework is None:
        raise FrameworkError(validator.problems or ["top level: not a valid framework"])
    return framework
