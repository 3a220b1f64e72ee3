"""Framework conditions and numbers in words: the one home of every such sentence.

No ORM and no request: it takes the parsed `Framework`, a condition (FRAMEWORK_FORMAT.md) and
a language, and translates with gettext under whatever language is active. Three readers see
conditions, each in their own register, and share everything below the phrasing (numbers,
names of tags, dimensions, questions and answers):

- officials, in the report's methodology appendix and support list:
  `describe_condition(...)`, e.g. "total score at least 60 (now 57.5)";
- methodologists, in the admin's summary of a version, who check it against the file:
  `describe_condition(..., notation=SYMBOLS)`, e.g. "answer to F2 is one of: a, b";
- the firm, on its result page and PDF: `gap_sentence(...)`, e.g. "Raise your total score
  from 57.5 to 60."
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from assessments.framework import Framework, Question, text

DASH = "—"

# The MIIT tags have names; any other tag is quoted as it is written in the file.
_TAG_NAMES = {
    "scene": gettext_noop("scenarios"),
    "constrained": gettext_noop("mandatory scenarios"),
}
# The same names as column heads, capitalised in English.
_TAG_HEADS = {
    "scene": gettext_noop("Scenarios"),
    "constrained": gettext_noop("Mandatory scenarios"),
}


# --- Numbers ---------------------------------------------------------------------------------


def number(
    value: Decimal | float | int | None,
    places: int | None = 2,
    *,
    fixed: bool = False,
    signed: bool = False,
    dash: str = DASH,
) -> str:
    """`value` as text: rounded half-up to `places` decimals (None: exactly as it is), trailing
    zeros dropped unless `fixed`, a "+" before a positive number when `signed`, `dash` for None.
    """
    if value is None:
        return dash
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if not fixed:
        d = d.normalize() if d else Decimal(0)
    return f"{d:+f}" if signed else f"{d:f}"


def percent(value: Decimal | float | None) -> str:
    """A percentage with one decimal, e.g. "62.5%"."""
    return DASH if value is None else number(value, 1, fixed=True) + "%"


# --- Names -----------------------------------------------------------------------------------


def tag_name(tag: str, *, named: bool = True) -> str:
    """The questions carrying a tag, in words: "scenes" (unless not `named`), or "questions
    tagged “T”"."""
    if named and tag in _TAG_NAMES:
        return _(_TAG_NAMES[tag])
    return _("questions tagged “%(tag)s”") % {"tag": tag}


def tag_head(tag: str) -> str:
    """The questions carrying a tag as a column head: "Scenarios", or the tag as written."""
    return _(_TAG_HEADS[tag]) if tag in _TAG_HEADS else tag


def join_answers(labels: Iterable[str]) -> str:
    """Several chosen answers in one line: "a, b" in English, "a、b" in Chinese."""
    return pgettext("separator between chosen answers", ", ").join(labels)


def dimension_title(fw: Framework | None, code: str, language: str) -> str:
    """A dimension's title, or its code when the framework does not know it."""
    try:
        return text(fw.dimension(code).title, language) if fw else code
    except KeyError:
        return code


def _question(fw: Framework | None, code: str) -> Question | None:
    try:
        return fw.question(code) if fw else None
    except KeyError:
        return None


def question_label(fw: Framework | None, code: str, language: str) -> str:
    """A question's code and text ("F2 Network security measures"), or its code alone."""
    q = _question(fw, code)
    return f"{code} {text(q.text, language)}".strip() if q else code


def question_numbers(fw: Framework) -> dict[str, int]:
    """Each question's number as the questionnaire shows it: its place in the file, from 1."""
    numbers: dict[str, int] | None = fw.__dict__.get("_numbers")
    if numbers is None:
        numbers = {q.code: n for n, q in enumerate(fw.questions, start=1)}
        object.__setattr__(fw, "_numbers", numbers)
    return numbers


def numbered_title(fw: Framework, code: str, language: str) -> str:
    """A question as the firm knows it from the questionnaire: "5. Network security measures"
    (its code alone when the framework does not have it)."""
    q = _question(fw, code)
    if q is None:
        return code
    return f"{question_numbers(fw)[code]}. {text(q.text, language)}"


def answer_values(
    fw: Framework | None, code: str, values: Iterable[object], language: str
) -> list[str]:
    """Answer values of a question in words: option texts, yes / no, numbers as they are."""
    q = _question(fw, code)
    options = {o.code: text(o.text, language) for o in q.options} if q else {}
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append(_("yes") if v else _("no"))
        else:
            out.append(options.get(v, str(v)) if isinstance(v, str) else str(v))
    return out


def question_group(spec: Mapping[str, Any], fw: Framework | None, language: str) -> str:
    """The questions a count condition counts: by tag, or those of a dimension."""
    if "tag" in spec:
        return tag_name(spec["tag"])
    code = spec.get("dimension", "")
    return _("questions of “%(dimension)s”") % {"dimension": dimension_title(fw, code, language)}


def _bounds(condition: Mapping[str, Any], places: int | None = None) -> list[str]:
    parts = []
    if condition.get("min") is not None:
        parts.append(_("at least %(x)s") % {"x": number(condition["min"], places)})
    if condition.get("max") is not None:
        parts.append(_("at most %(x)s") % {"x": number(condition["max"], places)})
    return parts


# --- Conditions, described -------------------------------------------------------------------


@dataclass(frozen=True)
class Notation:
    """How `describe_condition` phrases each form of condition (msgids, translated at use)."""

    score: str
    dimension: str
    count: str
    count_of_dimension: str
    named_tags: bool  # "scenes" rather than the tag code
    question_in: str
    question_range: str
    labels: bool  # question texts and option texts rather than codes
    value_separator: str
    range_separator: Callable[[], str]
    all: str
    any: str
    with_actual: bool  # may end with the firm's value, " (now 57.5)"


WORDS = Notation(
    score=gettext_noop("total score at least %(x)s"),
    dimension=gettext_noop("“%(dimension)s” score at least %(x)s"),
    count=gettext_noop("at least %(n)s %(what)s with attainment %(x)s or more"),
    count_of_dimension=gettext_noop("questions of “%(dimension)s”"),
    named_tags=True,
    question_in=gettext_noop("“%(question)s”: %(values)s"),
    question_range=gettext_noop("“%(question)s”: %(range)s"),
    labels=True,
    value_separator=" / ",
    range_separator=lambda: ", ",
    all=gettext_noop("all of: %(list)s"),
    any=gettext_noop("any of: %(list)s"),
    with_actual=True,
)
SYMBOLS = Notation(
    score=gettext_noop("total score ≥ %(x)s"),
    dimension=gettext_noop("score of %(dimension)s ≥ %(x)s"),
    count=gettext_noop("at least %(n)s %(what)s with attainment ≥ %(x)s"),
    count_of_dimension=gettext_noop("questions of dimension %(dimension)s"),
    named_tags=False,
    question_in=gettext_noop("answer to %(question)s is one of: %(values)s"),
    question_range=gettext_noop("answer to %(question)s is %(range)s"),
    labels=False,
    value_separator=", ",
    range_separator=lambda: _(" and "),
    all=gettext_noop("all of: (%(list)s)"),
    any=gettext_noop("any of: (%(list)s)"),
    with_actual=False,
)


def describe_condition(
    condition: Mapping[str, Any],
    fw: Framework | None,
    language: str,
    actual: Any = None,
    *,
    with_actual: bool = False,
    notation: Notation = WORDS,
) -> str:
    """A condition (a level gate or a show_if) in words; with `with_actual`, the firm's value.

    `fw` gives titles and texts; without it (or for an unknown code) codes stand for
    themselves.
    """
    n = notation
    now: Callable[[str], str] = (
        (lambda said: said + _(" (now %(actual)s)") % {"actual": number(actual)})
        if with_actual and n.with_actual and actual is not None
        else (lambda said: said)
    )
    if "score" in condition:
        return now(_(n.score) % {"x": number(condition["score"], None)})
    if "dimension" in condition:
        title = dimension_title(fw, condition["dimension"], language)
        return now(_(n.dimension) % {"dimension": title, "x": number(condition.get("min"), None)})
    if "count" in condition:
        spec = condition["count"]
        if "tag" in spec:
            what = tag_name(spec["tag"], named=n.named_tags)
        else:
            title = dimension_title(fw, spec.get("dimension", ""), language)
            what = _(n.count_of_dimension) % {"dimension": title}
        return now(
            _(n.count)
            % {
                "n": spec.get("at_least"),
                "what": what,
                "x": number(spec.get("min_attainment"), None),
            }
        )
    if "question" in condition:
        code = condition["question"]
        label = question_label(fw, code, language) if n.labels else code
        if "in" in condition:
            values = answer_values(fw if n.labels else None, code, condition["in"], language)
            return _(n.question_in) % {
                "question": label,
                "values": n.value_separator.join(values),
            }
        parts = _bounds(condition)
        return now(
            _(n.question_range) % {"question": label, "range": n.range_separator().join(parts)}
        )
    for key, phrase in (("all", n.all), ("any", n.any)):
        if key in condition:
            inner = [describe_condition(c, fw, language, notation=n) for c in condition[key]]
            return _(phrase) % {"list": "; ".join(inner)}
    return str(condition)


# --- Conditions, as what the firm has to do --------------------------------------------------


def gap_sentence(condition: Mapping[str, Any], fw: Framework, language: str, actual: Any) -> str:
    """An unmet condition of the next level as what the firm has to do, with its value now."""
    if "score" in condition:
        return _("Raise your total score from %(actual)s to %(target)s.") % {
            "actual": number(actual, dash="–"),
            "target": number(condition["score"], dash="–"),
        }
    if "dimension" in condition and "count" not in condition:
        title = dimension_title(fw, condition["dimension"], language)
        if actual is None:
            return _('"%(dimension)s" has no score yet: answer its scored questions.') % {
                "dimension": title
            }
        return _('Raise your "%(dimension)s" score from %(actual)s to %(target)s.') % {
            "dimension": title,
            "actual": number(actual, dash="–"),
            "target": number(condition.get("min"), dash="–"),
        }
    if "count" in condition:
        spec = condition["count"]
        have = int(actual or 0)
        need = max(int(spec["at_least"]) - have, 0)
        threshold = Decimal(str(spec.get("min_attainment", 0)))
        selected = [
            q
            for q in fw.questions
            if ("tag" in spec and spec["tag"] in q.tags)
            or ("dimension" in spec and q.dimension == spec["dimension"])
        ]
        if selected and all(q.type == "yesno" for q in selected) and threshold > 0:
            return ngettext(
                "Answer yes to %(n)d more of the %(group)s (now %(have)d of %(want)d).",
                "Answer yes to %(n)d more of the %(group)s (now %(have)d of %(want)d).",
                need,
            ) % {
                "n": need,
                "group": question_group(spec, fw, language),
                "have": have,
                "want": int(spec["at_least"]),
            }
        if selected and all(q.type == "level" for q in selected):
            target = _("level %(level)s or higher") % {"level": number(threshold)}
        else:
            target = _("at least %(share)s%% of their points") % {"share": number(threshold * 100)}
        return ngettext(
            "Bring %(n)d more of the %(group)s to %(target)s (now %(have)d of %(want)d).",
            "Bring %(n)d more of the %(group)s to %(target)s (now %(have)d of %(want)d).",
            need,
        ) % {
            "n": need,
            "group": question_group(spec, fw, language),
            "target": target,
            "have": have,
            "want": int(spec["at_least"]),
        }
    if "question" in condition:
        code = condition["question"]
        label = numbered_title(fw, code, language)
        if "in" in condition:
            return _('Answer "%(question)s" with: %(values)s.') % {
                "question": label,
                "values": _(" or ").join(answer_values(fw, code, condition["in"], language)),
            }
        return _('Bring "%(question)s" to %(range)s.') % {
            "question": label,
            "range": _(" and ").join(_bounds(condition, 2)),
        }
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        inner = [gap_sentence(c, fw, language, None) for c in condition[key]]
        lead = _("Meet all of these:") if key == "all" else _("Meet at least one of these:")
        return lead + " " + " ".join(inner)
    return str(condition)


def subset_sentence(spec: Mapping[str, Any], actual: Any) -> str:
    """A count over a subset of another count's questions, told inside that count's sentence."""
    have = int(actual or 0)
    return _("Of them, %(n)d more must be %(group)s (now %(have)d of %(want)d).") % {
        "n": max(int(spec["at_least"]) - have, 0),
        "group": tag_name(spec["tag"]),
        "have": have,
        "want": int(spec["at_least"]),
    }
