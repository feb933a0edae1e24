"""The pure checks behind validate_need_form."""

import pytest

from bot.actions.validators import (
    clean_name,
    clean_place,
    clean_product,
)
from knowledge.personal_data import find_mobile as normalise_mobile  # the chat reading
from knowledge.personal_data import mask_mobile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678", "13912345678"),
        (" 13912345678 ", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("(+86) 139-1234-5678", "13912345678"),
        ("19912345678", "19912345678"),
        ("我的手机是13912345678", "13912345678"),
        ("电话：+86 139 1234 5678，谢谢", "13912345678"),
    ],
)
def test_mobile_accepted_and_normalised(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "张伟",
        "1391234567",  # 10 digits
        "139123456789",  # 12 digits
        "12912345678",  # second digit 2
        "10912345678",
        "23912345678",
        "0510-86123456",  # a landline
        "+1 139 1234 5678",
        "13912345678 或 13812345678",  # two different numbers: ask again
        "一三九一二三四五六七八",
    ],
)
def test_mobile_rejected(raw: str) -> None:
    assert normalise_mobile(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张伟", "张伟"),
        ("欧阳娜娜", "欧阳娜娜"),
        (" 李娜。", "李娜"),
        ("我叫王芳", "王芳"),
        ("联系人是刘洋", "刘洋"),
        ("姓名：陈静", "陈静"),
        ("嗯就写欧阳娜娜吧", "欧阳娜娜"),
        ("那个，联系人是刘洋吧", "刘洋"),
        ("Zhang Wei", "Zhang Wei"),
        ("张" * 20, "张" * 20),
    ],
)
def test_name_accepted(raw: str, expected: str) -> None:
    assert clean_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "张", "我叫", "13912345678", "12 34", "张" * 21, "   "])
def test_name_rejected(raw: str) -> None:
    assert clean_name(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("江阴市周庄镇", "江阴市周庄镇"),
        ("无锡市新吴区", "无锡市新吴区"),
        ("在江阴", "江阴"),
        ("我们在宜兴市丁蜀镇", "宜兴市丁蜀镇"),
        ("公司地址是江阴市华士镇。", "江阴市华士镇"),
        ("位于新吴区梅村街道", "新吴区梅村街道"),
    ],
)
def test_place_accepted(raw: str, expected: str) -> None:
    assert clean_place(raw) == expected


@pytest.mark.parametrize("raw", ["", "  ", "。", "在", "江" * 51])
def test_place_rejected(raw: str) -> None:
    assert clean_place(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电线电缆", "电线电缆"),
        ("是压力表", "压力表"),
        ("产品是食品", "食品"),
        ("阀门、水泵", "阀门、水泵"),
    ],
)
def test_product_accepted(raw: str, expected: str) -> None:
    assert clean_product(raw) == expected


@pytest.mark.parametrize("raw", ["", "  ", "是", "缆" * 51])
def test_product_rejected(raw: str) -> None:
    assert clean_product(raw) is None


def test_mobile_masked_for_logs() -> None:
    assert mask_mobile("13912345678") == "139****5678"
    assert mask_mobile(None) == "-"
    assert mask_mobile("123") == "****"


# --- short answers, details, scores --------------------------------------------------------------

from bot.actions.validators import (  # noqa: E402 - grouped with their tests
    clean_detail,
    is_agreement,
    is_anonymous,
    is_refusal,
    is_skip,
    parse_choice,
    parse_score,
    service_mode_of,
)
from knowledge.personal_data import (  # noqa: E402 - the chat reading
    find_credit_code as normalise_credit_code,
)


@pytest.mark.parametrize(
    ("raw", "count", "expected"),
    [
        ("2", 3, 2),
        ("２", 3, 2),
        ("第二个", 3, 2),
        ("选3", 3, 3),
        ("就第一家吧", 3, 1),
        ("2号", 3, 2),
        ("4", 3, None),
        ("0", 3, None),
        ("大概2台", 3, None),
        ("12", 3, None),
        ("", 3, None),
    ],
)
def test_choices(raw: str, count: int, expected: int | None) -> None:
    assert parse_choice(raw, count) == expected


@pytest.mark.parametrize("raw", ["跳过", "不清楚", "没有", "暂无", "不知道吧", "无"])
def test_skips(raw: str) -> None:
    assert is_skip(raw)


@pytest.mark.parametrize("raw", ["50台", "江阴", "有", "不清楚的话就跳过吧不行吗"])
def test_not_skips(raw: str) -> None:
    assert not is_skip(raw)


def test_consent_words() -> None:
    assert is_agreement("同意") and is_agreement("好的") and is_agreement("/affirm")
    assert not is_agreement("张伟")
    assert is_refusal("不同意") and is_refusal("我不想留电话") and is_refusal("/deny")
    assert not is_refusal("同意")
    assert is_anonymous("匿名吧") and is_anonymous("不留了") and not is_anonymous("王芳")


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("1", "送样"),
        ("我们自己送样过去", "送样"),
        ("快递寄过去", "送样"),
        ("2", "上门"),
        ("最好上门取样", "上门"),
        ("来厂里现场做", "上门"),
        ("3", "预约"),
        ("约个时间", "预约"),
        ("都可以", "均可"),
        ("4", "均可"),
        ("随便问问", "均可"),
        ("不知道", None),
    ],
)
def test_service_modes(raw: str, mode: str | None) -> None:
    assert service_mode_of(raw) == mode


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91320281AY4CL12THQ", "91320281AY4CL12THQ"),
        ("代码是 91320281ay4cl12thq", "91320281AY4CL12THQ"),  # lower case typed
        ("913202-81AY4C-L12THQ", "91320281AY4CL12THQ"),
        ("91110000600037341L", "91110000600037341L"),
    ],
)
def test_credit_code_accepted(raw: str, expected: str) -> None:
    assert normalise_credit_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "91320281AY4CL12THX",  # wrong check character
        "91320281AY4CL12TH",  # 17 characters
        "91320281AY4CL12THQ 91320200DD272HD1TW",  # two codes
        "9132028IAY4CL12THQ",  # I is not used
        "",
    ],
)
def test_credit_code_rejected(raw: str) -> None:
    assert normalise_credit_code(raw) is None


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        ("5", 5),
        ("5分", 5),
        ("五星", 5),
        ("打4分", 4),
        ("３", 3),
        ("非常满意", 5),
        ("满意", 4),
        ("一般", 3),
        ("不满意", 2),
        ("很不满意", 1),
        ("6", None),
        ("10分", None),
        ("嗯", None),
    ],
)
def test_scores(raw: str, score: int | None) -> None:
    assert parse_score(raw) == score


def test_details_are_short_answers() -> None:
    assert clean_detail(" 200米。") == "200米"
    assert clean_detail("长" * 51) is None and clean_detail("，") is None
