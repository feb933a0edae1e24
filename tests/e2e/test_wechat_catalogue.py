"""The service catalogue on WeChat, through encrypted callbacks on the real stack: the menu's
服务目录 → numbered domains → numbered services → a service's manual → 咨询这项服务 starts the
need form with the service filled in (the next question is the product, never the service)."""

import re

from tests.channels.wechat_calls import event_xml
from tests.e2e.wechat import Follower, WeChatApp


def number_of(text: str, title: str) -> str:
    match = re.search(rf"(\d+)\. {re.escape(title)}", text)
    assert match, f"no option {title!r} in:\n{text}"
    return match.group(1)


def test_menu_catalogue_to_a_need_with_the_service_filled_in(wechat_app: WeChatApp) -> None:
    user = Follower(wechat_app)
    domains = user.send(event_xml(user.openid, "CLICK", "QC_BROWSE_CATALOGUE"), "[菜单] 服务目录")
    assert "服务目录" in domains
    for label in ("计量（4项）", "检验检测（4项）", "知识产权（3项）", "其他/综合（11项）"):
        assert label in domains
    assert user.tracker()["latest_message"]["intent"]["name"] == "browse_catalogue"

    services = user.say(number_of(domains, "检验检测（4项）"))
    assert "检验检测领域有以下服务事项" in services
    page = user.say(number_of(services, "检验检测需求匹配与委托检测"))
    assert "【检验检测需求匹配与委托检测】（检验检测）" in page
    for part in ("受理条件：", "办事材料：", "服务流程：", "服务承诺："):
        assert part in page

    started = user.say(number_of(page, "咨询这项服务"))
    assert "您选择的服务事项：检验检测需求匹配与委托检测（检验检测）" in started
    assert "请问您需要办理什么服务" not in started
    tracker = user.tracker()
    assert tracker["active_loop"]["name"] == "need_form"
    assert tracker["slots"]["need_service_ids"] == ["6.4.2"]
    assert tracker["slots"]["need_domain"] == "检验检测"
    assert tracker["slots"]["need_institution_ids"]  # the labs offering it, for the user's choice
    assert user.requested_slot() == "need_product"
    assert "产品或对象" in started

    user.say("电线电缆")
    assert user.requested_slot() == "need_place"  # the form goes on; the service stays
    assert user.tracker()["slots"]["need_service_ids"] == ["6.4.2"]


def test_typed_catalogue_and_an_unknown_number(wechat_app: WeChatApp) -> None:
    user = Follower(wechat_app)
    domains = user.say("服务目录")
    assert "计量（4项）" in domains
    assert user.tracker()["latest_message"]["intent"]["name"] == "browse_catalogue"
    services = user.say(number_of(domains, "计量（4项）"))
    back = user.say(number_of(services, "返回服务目录"))
    assert "计量（4项）" in back and "检验检测（4项）" in back
