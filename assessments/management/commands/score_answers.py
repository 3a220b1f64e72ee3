"""`manage.py score_answers FRAMEWORK_FILE ANSWERS_FILE`: print the contract's result JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from assessments.framework import FrameworkError, load_framework_file, read_text_file
from assessments.management.commands._plain import PlainCommand, Problems
from assessments.scoring import AnswerError, score
from gradient.parsers import JSONTooComplex, loads_bounded

# Answers nest three levels deep; extra top-level keys may hold a little more.
ANSWERS_MAX_DEPTH = 100


def read_answers(path: str) -> dict:
    """The "answers" mapping of an answers file; raises Problems naming what is wrong."""
    try:
        content = read_text_file(path)
    except FrameworkError as exc:  # the same read problems as for a framework file
        raise Problems(exc.problems) from None
    try:
        # Bounded like the API's bodies: nesting depth and number length are checked first.
        data = loads_bounded(content, max_depth=ANSWERS_MAX_DEPTH, strict=False)
    except JSONTooComplex as exc:
        raise Problems([f"{path}: invalid JSON ({exc})"]) from None
    except json.JSONDecodeError as exc:
        raise Problems(
            [f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})"]
        ) from None
    except RecursionError:
        raise Problems([f"{path}: invalid JSON (nested too deeply)"]) from None
    except ValueError as exc:  # a safety net: json.loads has other ValueErrors
        raise Problems([f"{path}: invalid JSON ({exc})"]) from None
    if not isinstance(data, dict):
        raise Problems([f'{path}: must be a JSON object such as {{"answers": {{...}}}}'])
    if "answers" not in data:
        raise Problems([f'{path}: has no "answers" key'])
    answers = data["answers"]
    if not isinstance(answers, dict):
        raise Problems(["answers: must be an object mapping question codes to answers"])
    return answers


class Command(PlainCommand):
    help = (
        "Score an answers file against a framework file and print the result as JSON. "
        "Exit 2 with one line per problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """FRAMEWORK_FILE and ANSWERS_FILE."""
        parser.add_argument("framework_file", metavar="FRAMEWORK_FILE")
        parser.add_argument("answers_file", metavar="ANSWERS_FILE")

    def run(self, *args: Any, **options: Any) -> None:
        """Load, check, score and print."""
        try:
            fw = load_framework_file(options["framework_file"])
        except FrameworkError as exc:
            raise Problems(exc.problems) from None
        answers = read_answers(options["answers_file"])
        try:
            result = score(fw, answers)
        except AnswerError as exc:
            raise Problems(exc.problems) from None
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
