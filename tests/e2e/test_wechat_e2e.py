"""WeChat on the real stack: encrypted callbacks through the cable-testing need to the confirmation.

The stack's Rasa server, action server and database serve a second app process that has the
WeChat channel on (as a second replica would); WeChat's API is played by a local server (its
real servers cannot be reached from here). Every callback is answered within WeChat's 5 seconds:
passively when the turn is quick, else 'success' and a customer-service message.
"""

import re
import time

import pytest

from tests.channels.wechat_calls import message_xml, text_xml
from tests.e2e.wechat import Follower, WeChatApp

DEMAND_NUMBER = re.compile(r"XQ\d{8}-\d{4}")


def _option_number(text: str, title: str) -> str | None:
    match = re.search(rf"(\d+)\. {title}", text)
    return match.group(1) if match else None


def test_cable_testing_need_on_wechat(wechat_app: WeChatApp) -> None:
    user = Follower(wechat_app)
    user.say("我们有一批电线电缆需要做检测")
    tracker = user.tracker()
    assert tracker["latest_message"]["intent"]["name"] == "request_service"
    assert tracker["slots"]["need_product"] == "电线电缆"
    assert user.requested_slot() == "need_place"

    # The place comes as a WeChat location: its label is the place.
    user.send(
        message_xml(
            user.openid,
            "location",
            Location_X=31.81,
            Location_Y=120.26,
            Scale=15,
            Label="江阴市周庄镇",
        ),
        "[位置] 江阴市周庄镇",
    )
    assert "周庄" in str(user.tracker()["slots"]["need_place"])

    answers = {
        "need_quantity": "200米",
        "need_date": "跳过",
        "need_service_mode": "1",
        "need_company": "跳过",
        "need_credit_code": "跳过",
        "contact_mobile": "13912345678",
    }
    confirmed = ""
    last = ""
    for _ in range(14):  # the form's questions, whatever their order, up to the confirmation
        slot = user.requested_slot()
        if slot == "contact_name":  # by voice: WeChat's speech recognition
            last = user.send(
                message_xml(user.openid, "voice", MediaId="v1", Format="amr", Recognition="张伟"),
                "[语音] 张伟",
            )
        elif slot in answers:
            last = user.say(answers[slot])
        elif slot == "privacy_consent":
            last = user.say(_option_number(last, "同意") or "同意")
        else:  # the confirmation: the option that submits
            number = _option_number(last, "好的")
            if number is not None:  # buttons the channel numbered: the digit picks /affirm
                confirm = text_xml(user.openid, number, msg_id=int(time.time() * 1000))
                confirmed = user.send(confirm, number)
                events = len(user.tracker()["events"])
                user.app.platform.post(confirm)  # WeChat's retry of the same message
                assert len(user.tracker()["events"]) == events  # no second bot turn
            else:
                confirmed = user.say("好的")
            break
    else:
        pytest.fail(f"no confirmation question; last answer: {last}")

    assert DEMAND_NUMBER.search(confirmed), confirmed
    assert "1个工作日" in confirmed
    assert not wechat_app.wechat.problems
    print("\nWeChat turns (label, seconds, path):")
    for label, seconds, path in user.timings:
        print(f"  {seconds:6.3f}s {path:8s} {label}")
