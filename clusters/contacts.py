"""A firm's contact in the register: person, e-mail address and telephone number.

Checked the same way wherever a contact comes in (the register import, the admin): lenient
about how people write a number (spaces, hyphens, brackets, full-width digits, a +86 prefix,
an extension), strict about what it must be. Pure: no Django imports, so the import, the model
validators and the tests share one rule. Sizes are bounded before anything is matched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

MAX_PERSON = 100
MAX_EMAIL = 254  # RFC 5321's limit on a path, as Django's EmailField
MAX_PHONE = 40

PhoneProblem = Literal["length", "form"]

# Mainland numbers after the separators are gone (GB/T and MIIT numbering plan):
# a mobile number is 11 digits starting 13–19; a landline is a trunk 0, a 2- or 3-digit area
# code and a 7- or 8-digit subscriber number (10 to 12 digits in all); 400 and 800 numbers are
# 10 digits. An extension may follow a landline or a 400/800 number.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{1,2}[2-9]\d{6,7}")
_SERVICE = re.compile(r"[48]00\d{7}")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#|-)(\d{1,6})$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-()（）.·]")


def normalise_phone(raw: str) -> str:
    """The number with full-width characters folded and outer blanks removed."""
    return unicodedata.normalize("NFKC", raw[: MAX_PHONE * 2]).strip()


def phone_problem(raw: str) -> PhoneProblem | None:
    """Why a telephone number is not a Chinese mobile, landline or 400/800 number, or None."""
    text = normalise_phone(raw)
    if len(text) > MAX_PHONE:
        return "length"
    number = text
    extension = _EXTENSION.search(number)
    main = number[: extension.start()] if extension else number
    digits = _SEPARATORS.sub("", main)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits.isdigit() or not digits.isascii():
        return "form"
    if _MOBILE.fullmatch(digits):
        return None if extension is None else "form"
    if _LANDLINE.fullmatch(digits) or _SERVICE.fullmatch(digits):
        return None
    if extension is not None and extension.group(0).startswith("-"):
        # "0512-5750 1234" read the last group as an extension: try it as part of the number.
        whole = _SEPARATORS.sub("", number)
        whole = whole[3:] if whole.startswith("+86") else whole
        if _LANDLINE.fullmatch(whole) or _MOBILE.fullmatch(whole) or _SERVICE.fullmatch(whole):
            return None
    return "form"
