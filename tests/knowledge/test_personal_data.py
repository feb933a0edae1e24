"""The one module of personal-data rules: the chat reading and the field reading agree."""

import pytest

from knowledge.personal_data import (
    find_credit_code,
    find_mobile,
    is_mobile,
    mask_code,
    mask_mobile,
    mask_text,
    normalise_credit_code,
    normalise_mobile,
)

CREDIT_CODE = "91320281MA1W6XKQ0T"


@pytest.mark.parametrize("raw", ["13912345678", "+86 139-1234-5678", "0086 139 1234 5678"])
def test_what_the_desk_accepts_the_bot_finds(raw: str) -> None:
    assert find_mobile(raw) == normalise_mobile(raw) == "13912345678"


@pytest.mark.parametrize("raw", ["12345678901", "1391234567", "10912345678"])
def test_what_the_desk_refuses_the_bot_does_not_find(raw: str) -> None:
    assert not is_mobile(raw) and find_mobile(raw) is None
    with pytest.raises(ValueError):
        normalise_mobile(raw)


def test_credit_codes_read_alike() -> None:
    assert find_credit_code(f"无锡华澄 {CREDIT_CODE.lower()}") == normalise_credit_code(CREDIT_CODE)
    assert find_credit_code(CREDIT_CODE[:-1] + "U") is None


def test_one_masking_rule() -> None:
    assert mask_mobile("13912345678") == "139****5678"
    assert mask_mobile("1391234") == "****"  # 3 + 4 characters of a 7-character string is all of it
    assert mask_mobile(None) == mask_mobile("") == "-"
    assert mask_code(CREDIT_CODE) == "91" + "*" * 14 + "0T"
    assert mask_text(f"手机 13912345678，代码 {CREDIT_CODE}") == (
        "手机 139****5678，代码 91**************0T"
    )
