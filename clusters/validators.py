"""Django validators and translated messages for the register's identifiers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clusters import contacts, uscc


def uscc_message(problem: uscc.UsccProblem) -> str:
    """A sentence in the active language saying what is wrong with a code."""
    if problem.kind == "empty":
        return _("The unified social credit code is empty.")
    if problem.kind == "length":
        return _("A unified social credit code has 18 characters; this one has %(length)d.") % {
            "length": problem.length
        }
    if problem.kind == "character":
        if problem.character in uscc.FORBIDDEN_LETTERS:
            return _(
                "Character %(position)d is “%(char)s”: the letters I, O, S, V and Z are never "
                "used in a unified social credit code."
            ) % {"position": problem.position, "char": problem.character}
        return _(
            "Character %(position)d is “%(char)s”, which is not allowed: only digits and "
            "capital letters other than I, O, S, V and Z are used."
        ) % {"position": problem.position, "char": problem.character}
    return _check_message(problem)


def _check_message(problem: uscc.UsccProblem) -> str:
    """The check character does not match: name the mistyped character when only one can be."""
    details = {"char": problem.character, "expected": problem.expected}
    # Characters 2 and 18 take part in no rule but the check, so one is a suspect exactly when
    # the other is: a single suspect is never the check character.
    if len(problem.suspects) == 1:
        return _(
            "Character %(position)d is probably mistyped: it is the only character that, "
            "changed, gives a valid code. Correct it rather than the check character "
            "(character 18)."
        ) % {"position": problem.suspects[0]}
    if problem.suspects:
        return (
            _(
                "The code has a typo: the check character is “%(char)s” but should be "
                "“%(expected)s” only if every other character is right, and a single mistyped "
                "character could be at several positions. Compare the whole code with the business "
                "licence; do not just change the last character."
            )
            % details
        )
    return (
        _(
            "The code has a typo: the check character is “%(char)s” but should be “%(expected)s” "
            "only if every other character is right, and no single changed character gives a code "
            "shaped like an issued one, so more than one may be wrong. Compare the whole code with "
            "the business licence."
        )
        % details
    )


def validate_uscc(value: str) -> None:
    """Raise ValidationError unless the value is a valid (normalised) USCC."""
    found = uscc.problem(uscc.normalise(value))
    if found is not None:
        raise ValidationError(uscc_message(found), code=f"uscc_{found.kind}")


def phone_message(problem: contacts.PhoneProblem) -> str:
    """A sentence in the active language saying what is wrong with a telephone number."""
    if problem == "length":
        return _("A telephone number has at most %(max)d characters.") % {"max": contacts.MAX_PHONE}
    return _(
        "Write a mainland mobile number (11 digits, such as 138 1234 5678), a landline with "
        "its area code (such as 0512-5750 1234, an extension after 转), or a 400/800 number."
    )


def validate_phone(value: str) -> None:
    """Raise ValidationError unless the value is a Chinese mobile, landline or 400/800 number."""
    found = contacts.phone_problem(value)
    if found is not None:
        raise ValidationError(phone_message(found), code=f"phone_{found}")
