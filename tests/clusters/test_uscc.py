"""The USCC validator (GB 32100-2015): real codes, every one-character mutation, bad shapes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from clusters import uscc
from clusters.validators import validate_uscc
from tests.factories import make_uscc

# Codes published on the national enterprise credit information system.
REAL_CODES = [
    "91350100M000100Y43",
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴(中国)有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert uscc.problem(code) is None
    assert uscc.is_valid(code)
    validate_uscc(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_mutation_is_rejected(code):
    mutations = 0
    for i, original in enumerate(code):
        for replacement in uscc.ALPHABET:
            if replacement == original:
                continue
            mutated = code[:i] + replacement + code[i + 1 :]
            assert not uscc.is_valid(mutated), mutated
            mutations += 1
    assert mutations == 18 * 30


@pytest.mark.parametrize("code", REAL_CODES)
def test_lower_case_and_blanks_are_normalised(code):
    raw = f"  {code[:9].lower()} {code[9:].lower()} "
    assert uscc.normalise(raw) == code
    assert uscc.is_valid(raw)


@pytest.mark.parametrize("length", [0, 1, 15, 17, 19, 20])
def test_wrong_lengths_are_rejected_with_the_length(length):
    code = ("91350100M000100Y43" * 2)[:length]
    found = uscc.problem(code)
    assert found is not None
    assert found.kind == ("empty" if length == 0 else "length")
    if length:
        assert found.length == length


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_named(letter):
    code = "91350100M000100Y4" + letter
    found = uscc.problem(code)
    assert found == uscc.UsccProblem("character", position=18, character=letter)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        validate_uscc(code)
    assert "第 18 位" in err.value.messages[0]
    assert letter in err.value.messages[0]


def test_punctuation_is_an_illegal_character():
    found = uscc.problem("91350100-000100Y43")
    assert found is not None and found.kind == "character" and found.position == 9


def test_wrong_check_character_names_the_expected_one():
    found = uscc.problem("91350100M000100Y44")
    assert found == uscc.UsccProblem("check", character="4", expected="3")
    with translation.override("en"), pytest.raises(ValidationError) as err:
        validate_uscc("91350100M000100Y44")
    assert "“3”" in err.value.messages[0]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        validate_uscc("91350100M000100Y44")
    assert "校验码" in err.value.messages[0]


def test_check_character_zero_when_the_sum_is_a_multiple_of_31():
    # A body whose weighted sum is 0 mod 31 must get "0", not an out-of-range 31st character.
    body = "0" * 17
    assert uscc.check_character(body) == "0"
    assert uscc.is_valid(body + "0")


@given(st.integers(min_value=0, max_value=999_999_999))
def test_factory_codes_are_valid(n):
    assert uscc.is_valid(make_uscc(n))


@given(st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_check_character_is_valid(body):
    code = body + uscc.check_character(body)
    assert uscc.is_valid(code)
    assert not uscc.is_valid(body + uscc.ALPHABET[(uscc.ALPHABET.index(code[-1]) + 1) % 31])


# --- Locating a single mistyped character -------------------------------------------------------


def _mutations(code):
    for index, original in enumerate(code):
        for replacement in uscc.ALPHABET:
            if replacement != original:
                yield index + 1, code[:index] + replacement + code[index + 1 :]


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_named_typo_position_is_always_the_mistyped_one(code):
    named = several = 0
    for position, mutated in _mutations(code):
        found = uscc.problem(mutated)
        assert found is not None and found.kind == "check", mutated
        # The true position is always among the suspects, so a single suspect is the typo.
        assert position in found.suspects, mutated
        if len(found.suspects) == 1:
            named += 1
        else:
            several += 1
    assert named + several == 18 * 30
    # Most typos in the region code and the organisation code's check character are located.
    assert named > 18 * 30 // 4


def test_a_typo_in_the_region_code_is_named():
    found = uscc.problem("91350A00M000100Y43")  # "1" at position 6 typed as "A"
    assert found is not None and found.suspects == (6,)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        validate_uscc("91350A00M000100Y43")
    assert err.value.messages[0].startswith("Character 6 is probably mistyped")
    assert "should be" not in err.value.messages[0]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        validate_uscc("91350A00M000100Y43")
    assert "第 6 位" in err.value.messages[0]


def test_several_possible_positions_are_not_narrowed_to_one():
    found = uscc.problem("91350100M000100Y44")
    assert found is not None and found.suspects == (1, 2, 18)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        validate_uscc("91350100M000100Y44")
    message = err.value.messages[0]
    assert "several positions" in message and "Character" not in message
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        validate_uscc("91350100M000100Y44")
    assert "校验码" in err.value.messages[0] and "营业执照" in err.value.messages[0]


def test_two_typos_that_no_single_change_explains_say_so():
    code = "91110000802100433B"
    mutated = "9111A0008A2100433B"  # letters in the region code and the organisation code
    found = uscc.problem(mutated)
    assert found is not None and found.kind == "check" and found.suspects == ()
    with translation.override("en"), pytest.raises(ValidationError) as err:
        validate_uscc(mutated)
    assert "more than one may be wrong" in err.value.messages[0]
    assert code != mutated
