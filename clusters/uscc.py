"""The Unified Social Credit Code (统一社会信用代码) of GB 32100-2015.

Pure rules, no Django: the 18-character code is
    1 registration authority, 2 entity kind, 3–8 administrative region code,
    9–17 organisation code (GB 11714), 18 check character.
The alphabet is the 10 digits and 21 capital letters; I, O, S, V and Z are never used, so they
cannot be confused with 1, 0, 5, U and 2. The check character is
    C18 = 31 − (Σ value(Ci) × Wi mod 31), with Wi = 3^(i−1) mod 31, and 31 written as "0".
Source: GB 32100-2015《法人和其他组织统一社会信用代码编码规则》, section 4 and appendix B.

Where a single mistyped character is. The check character alone cannot tell: 31 is prime and the
alphabet has 31 characters, so at every position exactly one replacement satisfies it. Real codes
obey three more rules, which this module uses only to locate a typo, never to refuse a code
(synthetic test and demo codes need not obey them):
- characters 3–8 are an administrative division code (GB/T 2260), digits only;
- character 1 is a registration authority: 1–9, A, N or Y (GB 32100-2015, table 1);
- characters 9–17 are an organisation code (GB 11714-1997) with its own check character:
    C9 = 11 − (Σ value(Ci) × Wi mod 11), W = 3, 7, 9, 10, 5, 8, 4, 2; 10 is written "X", 11 "0";
  digits count as themselves and letters from A = 10 to Z = 35.
A position is named only when it is the one position where some replacement gives a code that
passes every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, …
LENGTH = 18
FORBIDDEN_LETTERS = "IOSVZ"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
REGISTRATION_AUTHORITIES = "123456789ANY"
_REGION = range(2, 8)  # 0-based indices of characters 3–8
_ORG = slice(8, 17)  # characters 9–17
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class UsccProblem:
    """Why a code is not valid: a machine-readable kind plus the details a message needs."""

    kind: str  # "empty" | "length" | "character" | "check"
    length: int = 0
    position: int = 0  # 1-based
    character: str = ""
    expected: str = ""
    # For "check": the 1-based positions where one replacement gives a code that passes every
    # rule of a real code (see the module docstring). One position names the typo; several or
    # none mean it cannot be located. Left out of equality: it is derived from the code.
    suspects: tuple[int, ...] = field(default=(), compare=False)


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
        return UsccProblem(
            "check", character=code[17], expected=expected, suspects=typo_positions(code)
        )
    return None


def _organisation_code_ok(org: str) -> bool:
    """True when a 9-character organisation code carries its GB 11714 check character."""
    total = sum(int(char, 36) * weight for char, weight in zip(org[:8], _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return org[8] == {10: "X", 11: "0"}.get(check, str(check))


def _like_a_real_code(code: str) -> bool:
    """True when a valid code also obeys the structure every issued code has."""
    return (
        code[0] in REGISTRATION_AUTHORITIES
        and all(code[i].isdigit() for i in _REGION)
        and _organisation_code_ok(code[_ORG])
    )


def typo_positions(code: str) -> tuple[int, ...]:
    """The 1-based positions at which one replaced character makes an 18-character code of
    allowed characters valid and like a real code."""
    # A valid code has Σ value(Ci) × Wi ≡ 0 (mod 31) over all 18 characters, with W18 = 1. At
    # position i only the value that cancels the sum's remainder does, so one candidate each.
    weights = (*WEIGHTS, 1)
    remainder = sum(_VALUES[char] * weight for char, weight in zip(code, weights, strict=True)) % 31
    found = []
    for index, weight in enumerate(weights):
        value = (_VALUES[code[index]] - remainder * pow(weight, -1, 31)) % 31
        candidate = code[:index] + ALPHABET[value] + code[index + 1 :]
        if _like_a_real_code(candidate):
            found.append(index + 1)
    return tuple(found)


def is_valid(raw: str) -> bool:
    """True when the code, once normalised, is a valid USCC."""
    return problem(normalise(raw)) is None
