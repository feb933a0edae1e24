"""The pure checks behind validate_need_form."""

import pytest

from bot.actions.validators import (
    clean_name,
    clean_place,
    clean_product,
    mask_mobile,
    normalise_mobile,
)


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
