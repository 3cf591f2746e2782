"""Tests for the unified social credit code and mobile number validators."""

import pytest
from django.core.exceptions import ValidationError

from kechuang.core.validators import (
    USCC_CHARSET,
    is_valid_uscc,
    normalize_mobile,
    normalize_uscc,
    uscc_check_char,
    validate_mobile,
    validate_uscc,
)

# Real, published codes (public registration records), see the sources in the report:
REAL_USCCS = {
    "914403001922038216": "华为技术有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
    "91330100716105852F": "阿里巴巴（中国）网络技术有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "91370000728611939A": "山东步长制药股份有限公司",
    "91310000132260250X": "上海汽车集团股份有限公司",
    "531000005000160090": "中国红十字基金会",
    "52410000663412719U": "河南省嵩山少林寺文化院",
    "12100000425006133D": "华东师范大学",
}


def _error_code(value):
    with pytest.raises(ValidationError) as info:
        validate_uscc(value)
    return info.value.code, info.value.messages[0]


@pytest.mark.parametrize("code", sorted(REAL_USCCS))
def test_real_credit_codes_are_accepted(code):
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", sorted(REAL_USCCS))
def test_every_single_character_change_of_a_real_code_is_rejected(code):
    for position in range(18):
        for replacement in USCC_CHARSET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert not is_valid_uscc(changed), changed


def test_changed_check_digit_names_the_expected_one():
    code, message = _error_code("914403001922038217")
    assert code == "uscc_check"
    assert "第18位" in message and "“6”" in message and "“7”" in message


def test_changed_organisation_code_names_position_17():
    code, message = _error_code("914403001922038226")
    assert code == "uscc_org_check"
    assert "第17位" in message and "“1”" in message


def test_check_character_matches_standard_weights():
    assert uscc_check_char("91110108551385082") == "Q"
    assert uscc_check_char("91310000132260250") == "X"


def test_normalize_accepts_full_width_lower_case_and_spaces():
    assert normalize_uscc(" ９１１１０１０８５５１３８５０８２ｑ\u3000") == "91110108551385082Q"
    assert validate_uscc("9111 0108 5513 8508 2q") == "91110108551385082Q"
    assert normalize_uscc(None) == ""


@pytest.mark.parametrize(
    ("value", "expected_code", "fragment"),
    [
        ("", "uscc_empty", "不能为空"),
        ("   ", "uscc_empty", "不能为空"),
        ("91440300192203821", "uscc_length", "17位"),
        ("9144030019220382166", "uscc_length", "19位"),
        ("914403001922O38216", "uscc_char", "第13位的“O”"),
        ("91440300192203821I", "uscc_char", "第18位的“I”"),
        ("9144030019220382-6", "uscc_char", "第17位的“-”"),
        ("B14403001922038216", "uscc_authority", "第1位"),
        ("944403001922038216", "uscc_category", "第2位"),
        ("9199A3001922038216", "uscc_region", "第3–8位"),
        ("919903001922038216", "uscc_region", "“990300”"),
        ("9.14403E+17", "uscc_number", "科学计数法"),
        (9.14403001922038e17, "uscc_number", "文本"),
        ("hello world", "uscc_length", "18位"),
        ("统一社会信用代码", "uscc_length", "8位"),
    ],
)
def test_garbage_is_rejected_with_a_precise_message(value, expected_code, fragment):
    code, message = _error_code(value)
    assert code == expected_code
    assert fragment in message


def test_known_nonconforming_pilot_code_is_rejected():
    # An early pilot-area code whose check digit does not follow GB 32100-2015.
    assert not is_valid_uscc("91350211M00013FA1N")


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "008613800138000",
        "8613800138000",
        "(+86)13800138000",
        "１３８００１３８０００",
        13800138000,
        13800138000.0,
    ],
)
def test_mobile_numbers_are_normalised(value):
    assert validate_mobile(value) == "13800138000"


def test_normalize_mobile_keeps_bare_number():
    assert normalize_mobile("199 1234 5678") == "19912345678"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "mobile_empty"),
        (None, "mobile_empty"),
        ("1380013800", "mobile_length"),
        ("138001380001", "mobile_length"),
        ("12800138000", "mobile_prefix"),
        ("010-12345678", "mobile_prefix"),
        ("1380013800x", "mobile_char"),
    ],
)
def test_bad_mobile_numbers_are_rejected(value, code):
    with pytest.raises(ValidationError) as info:
        validate_mobile(value)
    assert info.value.code == code
