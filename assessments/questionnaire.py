"""A draft's questionnaire turned into what a person sees: the parts, the review and the reply
to each saved answer (the counterpart of `results.py`, which presents a submitted result).

Reads answers as the services store them ({code: (value, revision)}) and never writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from assessments import scoring, wording
from assessments.framework import Dimension, Framework, Group, Question
from assessments.models import Assessment
from assessments.services import (
    AnswerSaveResult,
    StoredAnswers,
    answers_given,
    assessment_lock_reason,
    assessment_stored_answers,
    number_text,
)
from assessments.services import framework_text as _t
from assessments.versions import framework_for

__all__ = [
    "AnswerReply",
    "Choice",
    "Progress",
    "QuestionView",
    "answer_display",
    "draft_progress",
    "question_number",
    "questionnaire_context",
    "review_context",
]


@dataclass
class Choice:
    value: str
    label: str
    checked: bool
    exclusive: bool = False


@dataclass
class QuestionView:
    """One question as the page shows it, with its saved value and revision."""

    code: str
    number: int
    type: str
    text: str
    help: str
    required: bool
    applicable: bool
    value: Any
    revision: int
    choices: list[Choice] = field(default_factory=list)
    unit: str = ""
    min: str = ""
    max: str = ""
    integer: bool = False
    max_length: int = 0
    status: str = ""  # "", "saved", "unchanged", "conflict", "invalid", "locked"
    message: str = ""
    other_value: Any = None
    other_revision: int = 0
    other_display: str = ""
    mine_display: str = ""
    locked: bool = False

    @property
    def answered(self) -> bool:
        return self.value is not None

    @property
    def value_text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            return format(self.value, "f").rstrip("0").rstrip(".")
        return str(self.value)


@dataclass
class Progress:
    answered: int
    applicable: int
    missing_required: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 100


def _plain(number: Decimal | int | float | None) -> str:
    if number is None:
        return ""
    return number_text(number)


def answer_display(question: Question, value: Any) -> str:
    """An answer as words, for the conflict message and the review page."""
    if value is None:
        return _("(no answer)")
    if question.type == "yesno":
        return _("Yes") if value else _("No")
    if question.type in {"single", "multi"}:
        codes = value if isinstance(value, list) else [value]
        labels = {o.code: _t(o.text) for o in question.options}
        return wording.join_answers(labels.get(c, str(c)) for c in codes) if codes else _("(none)")
    if question.type == "level":
        levels = {c.value: _t(c.text) for c in question.levels}
        return f"{value} · {levels.get(value, '')}"
    if question.type == "number":
        return f"{_plain(value)} {question.unit or ''}".strip()
    return str(value)


def question_number(fw: Framework, code: str) -> int:
    """The question's number on the pages: its place in the whole questionnaire, from 1."""
    return _numbers(fw)[code]


_numbers = wording.question_numbers


def _question_view(
    question: Question, number: int, stored: tuple[Any, int] | None, applicable: bool
) -> QuestionView:
    value, revision = stored if stored else (None, 0)
    view = QuestionView(
        code=question.code,
        number=number,
        type=question.type,
        text=_t(question.text),
        help=_t(question.help) if question.help else "",
        required=question.required,
        applicable=applicable,
        value=value,
        revision=revision,
    )
    _fill_choices(view, question, value)
    if question.type == "number":
        view.unit = question.unit or ""
        view.min = _plain(question.min)
        view.max = _plain(question.max)
        view.integer = question.integer
    if question.type == "text":
        view.max_length = question.max_length
    return view


def _fill_choices(view: QuestionView, question: Question, value: Any) -> None:
    if question.type in {"single", "multi"}:
        chosen = set(value if isinstance(value, list) else [value])
        view.choices = [
            Choice(o.code, _t(o.text), o.code in chosen, o.exclusive) for o in question.options
        ]
    elif question.type == "yesno":
        view.choices = [
            Choice("true", _("Yes"), value is True),
            Choice("false", _("No"), value is False),
        ]
    elif question.type == "level":
        view.choices = [Choice(str(c.value), _t(c.text), value == c.value) for c in question.levels]


def _progress(fw: Framework, answers: dict[str, Any], applicable: frozenset[str]) -> Progress:
    answered = sum(1 for q in fw.questions if q.code in applicable and q.code in answers)
    return Progress(
        answered=answered,
        applicable=sum(1 for q in fw.questions if q.code in applicable),
        missing_required=len(scoring.missing_required(fw, answers)),
    )


def draft_progress(assessment: Assessment) -> Progress:
    """How far a draft has got: answered and applicable questions, required ones left."""
    fw = framework_for(assessment.framework_version)
    answers = answers_given(assessment_stored_answers(assessment))
    return _progress(fw, answers, scoring.applicable(fw, answers))


def _dimension_nav(
    fw: Framework, answers: dict[str, Any], applicable: frozenset[str]
) -> list[dict[str, Any]]:
    nav = []
    for index, dim in enumerate(fw.dimensions, start=1):
        codes = [q.code for q in dim.questions if q.code in applicable]
        nav.append(
            {
                "index": index,
                "code": dim.code,
                "title": _t(dim.title),
                "answered": sum(1 for c in codes if c in answers),
                "total": len(codes),
            }
        )
    return nav


def _groups(fw: Framework, dim: Dimension) -> list[Group]:
    """The titled groups a part is split into, in order; [] when it has fewer than two."""
    groups: list[Group] = []
    for q in dim.questions:
        group = fw.group_of(q)
        if group is not None and group not in groups:
            groups.append(group)
    return groups if len(groups) > 1 else []


def _page_of(fw: Framework, groups: list[Group], question: Question) -> Group | None:
    """The group page a question is on: its own group, else the first (None: no split)."""
    if not groups:
        return None
    group = fw.group_of(question)
    return group if group in groups else groups[0]


def _page_url(assessment: Assessment, dim_code: str, group: Group | None) -> str:
    url = reverse("assessments:questionnaire_dimension", args=[assessment.pk, dim_code])
    return f"{url}?{urlencode({'group': group.tag})}" if group is not None else url


def _pages(fw: Framework) -> list[tuple[str, Group | None]]:
    """Every page of the questionnaire in order: (dimension code, group or None)."""
    pages: list[tuple[str, Group | None]] = []
    for dim in fw.dimensions:
        groups = _groups(fw, dim)
        pages += [(dim.code, g) for g in groups] if groups else [(dim.code, None)]
    return pages


def questionnaire_context(
    assessment: Assessment, dimension: str | None, group: str | None = None
) -> dict[str, Any]:
    """One page of a draft's questionnaire, with progress: a part (the first when `dimension`
    is None), or one group of a part that the framework splits into groups (its first when
    `group` is None).

    Raises KeyError for a dimension code or group tag the framework does not have there.
    """
    fw = framework_for(assessment.framework_version)
    dims = list(fw.dimensions)
    codes = [d.code for d in dims]
    if dimension is not None and dimension not in codes:
        raise KeyError(dimension)
    index = codes.index(dimension) if dimension is not None else 0
    dim = dims[index]
    stored = assessment_stored_answers(assessment)
    answers = answers_given(stored)
    applicable = scoring.applicable(fw, answers)
    number_of = _numbers(fw)
    lock = assessment_lock_reason(assessment)
    groups = _groups(fw, dim)
    current: Group | None = None
    if groups:
        current = groups[0] if group is None else next((g for g in groups if g.tag == group), None)
        if current is None:
            raise KeyError(group)
    elif group is not None:
        raise KeyError(group)
    pages = _pages(fw)
    at = pages.index((dim.code, current))
    questions = []
    for q in dim.questions:
        if current is not None and _page_of(fw, groups, q) != current:
            continue
        view = _question_view(q, number_of[q.code], stored.get(q.code), q.code in applicable)
        view.locked = bool(lock)
        questions.append(view)
    return {
        "assessment": assessment,
        "framework_title": _t(fw.title),
        "dimension": dim,
        "dimension_title": _t(dim.title),
        "dimension_description": _t(dim.description) if dim.description else "",
        "dimension_index": index + 1,
        "dimension_count": len(dims),
        "previous_dimension": dims[index - 1].code if index > 0 else None,
        "next_dimension": dims[index + 1].code if index + 1 < len(dims) else None,
        "previous_url": _page_url(assessment, *pages[at - 1]) if at > 0 else "",
        "next_url": _page_url(assessment, *pages[at + 1]) if at + 1 < len(pages) else "",
        # Moving to another part says "part"; moving within a part's groups says "page".
        "previous_is_part": at > 0 and pages[at - 1][0] != dim.code,
        "next_is_part": at + 1 < len(pages) and pages[at + 1][0] != dim.code,
        "group": current,
        "group_title": _t(current.title) if current else "",
        "group_index": groups.index(current) + 1 if current else 0,
        "group_count": len(groups),
        "group_nav": [
            {
                "title": _t(g.title),
                "url": _page_url(assessment, dim.code, g),
                "current": g == current,
                "answered": sum(
                    1
                    for q in dim.questions
                    if _page_of(fw, groups, q) == g and q.code in applicable and q.code in answers
                ),
                "total": sum(
                    1
                    for q in dim.questions
                    if _page_of(fw, groups, q) == g and q.code in applicable
                ),
            }
            for g in groups
        ],
        "nav": _dimension_nav(fw, answers, applicable),
        "questions": questions,
        "progress": _progress(fw, answers, applicable),
        "lock_message": lock,
    }


def review_context(assessment: Assessment, problems: list[str]) -> dict[str, Any]:
    """The review page of a draft: every applicable answer by part, and what is missing."""
    fw = framework_for(assessment.framework_version)
    answers = answers_given(assessment_stored_answers(assessment))
    applicable = scoring.applicable(fw, answers)
    missing = set(scoring.missing_required(fw, answers))
    number_of = _numbers(fw)
    sections = []
    for dim in fw.dimensions:
        rows = [
            {
                "code": q.code,
                "number": number_of[q.code],
                "text": _t(q.text),
                "answer": answer_display(q, answers.get(q.code)) if q.code in answers else "",
                "missing": q.code in missing,
                "optional": not q.required,
            }
            for q in dim.questions
            if q.code in applicable
        ]
        sections.append({"code": dim.code, "title": _t(dim.title), "rows": rows})
    return {
        "assessment": assessment,
        "framework_title": _t(fw.title),
        "sections": sections,
        "missing_count": len(missing),
        "progress": _progress(fw, answers, applicable),
        "problems": problems,
        "lock_message": assessment_lock_reason(assessment),
    }


class AnswerReply:
    """The htmx reply to one posted answer: the question's new state, the questions of its part
    that appeared or disappeared with it, progress and the parts' counts."""

    def __init__(
        self,
        fw: Framework,
        question: Question,
        answers: StoredAnswers,
        *,
        applicable: frozenset[str],
        applicable_before: frozenset[str],
    ) -> None:
        self.fw = fw
        self.question = question
        self.answers = answers
        self.applicable = applicable
        self.applicable_before = applicable_before
        self.number = question_number(fw, question.code)
        self.view = _question_view(
            question, self.number, answers.get(question.code), question.code in applicable
        )
        self.refresh_controls = False

    @classmethod
    def unsaved(
        cls, fw: Framework, question: Question, answers: StoredAnswers, status: str, message: str
    ) -> AnswerReply:
        """Nothing was saved (`status` "invalid", "locked", or "saved" to show the stored one)."""
        applicable = scoring.applicable(fw, answers_given(answers))
        reply = cls(fw, question, answers, applicable=applicable, applicable_before=applicable)
        reply.view.status, reply.view.message = status, message
        reply.view.locked = status == "locked"
        return reply

    @classmethod
    def saved(
        cls,
        fw: Framework,
        question: Question,
        outcome: AnswerSaveResult,
        *,
        posted: Any,
        base_revision: int,
    ) -> AnswerReply:
        """The reply to a save: saved or unchanged, or on a conflict both answers side by side."""
        reply = cls(
            fw,
            question,
            outcome.answers,
            applicable=outcome.applicable,
            applicable_before=outcome.applicable_before,
        )
        view = reply.view
        view.status = outcome.status
        if outcome.conflict:
            # Keep the person's own value on screen; offer both.
            view.value = posted
            _fill_choices(view, question, posted)
            view.revision = base_revision
            view.other_value = outcome.other_value
            view.other_revision = outcome.revision
            view.other_display = answer_display(question, outcome.other_value)
            view.mine_display = answer_display(question, posted)
            view.message = _("This answer was changed in another tab or by a colleague.")
        return reply

    def context(self, assessment: Assessment) -> dict[str, Any]:
        """The template context of `assessments/_answer_response.html`."""
        fw, question = self.fw, self.question
        answers = answers_given(self.answers)
        number_of = _numbers(fw)
        groups = _groups(fw, fw.dimension(question.dimension))
        changed = [
            _question_view(
                q, number_of[q.code], self.answers.get(q.code), q.code in self.applicable
            )
            for q in fw.questions
            if q.dimension == question.dimension
            and _page_of(fw, groups, q) == _page_of(fw, groups, question)
            and q.code != question.code
            and (q.code in self.applicable_before) != (q.code in self.applicable)
        ]
        return {
            "assessment": assessment,
            "q": self.view,
            "refresh_controls": self.refresh_controls,
            "changed": changed,
            "progress": _progress(fw, answers, self.applicable),
            "nav": _dimension_nav(fw, answers, self.applicable),
            "current_dimension": question.dimension,
        }
