"""The Unified Social Credit Code (统一社会信用代码) of GB 32100-2015.

Pure rules, no Django: the 18-character code is
    1 registration authority, 2 entity kind, 3–8 administrative region code,
    9–17 organisation code (GB 11714), 18 check character.
The alphabet is the 10 digits and 21 capital letters; I, O, S, V and Z are never used, so they
cannot be confused with 1, 0, 5, U and 2. The check character is
    C18 = 31 − (Σ value(Ci) × Wi mod 31), with Wi = 3^(i−1) mod 31, and 31 written as "0".
Source: GB 32100-2015《法人和其他组织统一社会信用代码编码规则》, section 4 and appendix B.
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, …
LENGTH = 18
FORBIDDEN_LETTERS = "IOSVZ"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}


@dataclass(frozen=True)
class UsccProblem:
    """Why a code is not valid: a machine-readable kind plus the details a message needs."""

    kind: str  # "empty" | "length" | "character" | "check"
    length: int = 0
    position: int = 0  # 1-based
    character: str = ""
    expected: str = ""


def normalise(raw: str) -> str:
    """The code in canonical form: surrounding and inner blanks removed, upper case."""
    return "".join(str(raw).split()).upper()


def check_character(body: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(_VALUES[char] * weight for char, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> UsccProblem | None:
    """What is wrong with an already-normalised code, or None when it is valid."""
    if not code:
        return UsccProblem("empty")
    if len(code) != LENGTH:
        return UsccProblem("length", length=len(code))
    for position, char in enumerate(code, start=1):
        if char not in _VALUES:
            return UsccProblem("character", position=position, character=char)
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccProblem("check", character=code[17], expected=expected)
    return None


def is_valid(raw: str) -> bool:
    """True when the code, once normalised, is a valid USCC."""
    return problem(normalise(raw)) is None
