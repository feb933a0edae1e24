"""The typed details of one message (bot/actions/details.py): many phrasings and their negative
twins; products and places come from the real NLU lookups."""

import pytest

from bot.actions.details import (
    find_company,
    find_date,
    find_person,
    find_quantity,
    is_name_like,
    kind_of,
    read_details,
    states_a_need,
)

WHOLE_NEED = (
    "江阴华达机械有限公司，联系人王明13912345678，我们有50根电线电缆要测导体电阻，"
    "在周庄镇，两周内要结果，送样"
)


def test_a_whole_need_in_one_line_fills_every_kind() -> None:
    assert read_details(WHOLE_NEED).found() == {
        "product": "电线电缆",
        "quantity": "50根",
        "place": "周庄镇",
        "date": "两周内",
        "company": "江阴华达机械有限公司",
        "person": "王明",
        "mobile": "13912345678",
        "service_mode": "送样",
    }


def test_a_need_with_a_question_in_passing() -> None:
    details = read_details("我们是做电机的，想找家机构做能效检测，顺便问下要准备什么材料")
    assert (details.product, details.question) == ("电机", "要准备什么材料")
    assert details.company is None  # 「我们是做电机的」 names no company


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("20块", "20块"),
        ("大概50台吧", "50台"),
        ("二十多根", "二十多根"),
        ("3000件左右", "3000件"),
        ("200米电缆", "200米"),
        ("有一批压力表", "一批"),
        ("5公斤样品", "5公斤"),
    ],
)
def test_quantities(text: str, quantity: str) -> None:
    assert find_quantity(text) == quantity


@pytest.mark.parametrize(
    "text", ["两周内", "下周", "3天内", "1个工作日", "2个月内", "第2个", "13912345678", "越快越好"]
)
def test_not_quantities(text: str) -> None:
    assert find_quantity(text) is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("两周内要结果", "两周内"),
        ("下周", "下周"),
        ("下周五前", "下周五前"),
        ("月底前", "月底前"),
        ("这个月底之前", "这个月底之前"),
        ("3天内", "3天内"),
        ("10个工作日内出报告", "10个工作日内"),
        ("6月30日前", "6月30日前"),
        ("越快越好", "越快越好"),
        ("年底前要拿证", "年底前"),
    ],
)
def test_dates(text: str, date: str) -> None:
    assert find_date(text) == date


@pytest.mark.parametrize("text", ["50根", "王明", "周庄镇", "电线电缆", "13912345678"])
def test_not_dates(text: str) -> None:
    assert find_date(text) is None


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("江阴华达机械有限公司，联系人王明", "江阴华达机械有限公司"),
        ("我们是无锡恒通电缆股份有限公司的", "无锡恒通电缆股份有限公司"),
        ("单位是江阴市长泾五金厂", "江阴市长泾五金厂"),
    ],
)
def test_companies(text: str, company: str) -> None:
    assert find_company(text) == company


@pytest.mark.parametrize(
    "text", ["我们厂的压力表要校准", "想找家机构做检测", "我们公司在新吴区", "我们是做电机的"]
)
def test_not_companies(text: str) -> None:
    assert find_company(text) is None


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("联系人王明13912345678", "王明"),
        ("联系人是李娜，电话13800001111", "李娜"),
        ("我叫张伟", "张伟"),
        ("张伟 13912345678", "张伟"),
        ("13912345678，张伟", "张伟"),
        ("找王工就行", "王工"),
    ],
)
def test_persons(text: str, person: str) -> None:
    assert find_person(text) == person


@pytest.mark.parametrize(
    "text", ["电话13912345678", "我的手机13912345678", "联系人下周再定", "下周", "20块"]
)
def test_not_persons(text: str) -> None:
    assert find_person(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("下周", "date"),
        ("两周内", "date"),
        ("20块", "quantity"),
        ("周庄镇", "place"),
        ("电线电缆", "product"),
        ("13912345678", "mobile"),
        ("送样", "service_mode"),
        ("王明", None),
        (WHOLE_NEED, None),  # a sentence is not one value
    ],
)
def test_kind_of_a_short_answer(text: str, kind: str | None) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize("text", ["下周", "20块", "周庄镇", "电线电缆", "不知道", "好的", "检测"])
def test_a_date_or_a_quantity_is_never_a_name(text: str) -> None:
    assert not is_name_like(text)


@pytest.mark.parametrize("text", ["王明", "欧阳娜娜", "张伟"])
def test_names(text: str) -> None:
    assert is_name_like(text)


def test_service_modes_in_a_sentence() -> None:
    assert read_details("我们自己送样过去").service_mode == "送样"
    assert read_details("希望上门服务").service_mode == "上门"
    assert read_details("先预约一下").service_mode == "预约"
    assert read_details("电缆送到了吗").service_mode is None


def test_a_mobile_is_not_read_as_a_quantity_or_date() -> None:
    details = read_details("13912345678")
    assert (details.mobile, details.quantity, details.date) == ("13912345678", None, None)


def test_a_button_payload_carries_nothing() -> None:
    assert read_details("/request_service").found() == {}
    assert read_details("").found() == {}


@pytest.mark.parametrize(
    ("text", "need"),
    [
        (WHOLE_NEED, True),
        ("50台压力表，下周要", True),
        ("想做导体电阻检测，周庄镇", True),
        ("江阴", False),
        ("下周", False),
        ("张伟 13912345678", False),
    ],
)
def test_which_details_state_a_need(text: str, need: bool) -> None:
    assert states_a_need(read_details(text), text) is need
