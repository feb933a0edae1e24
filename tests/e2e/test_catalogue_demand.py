"""咨询这项服务 from an institution's catalogue page becomes a demand for that service with that
institution proposed (web chat API, real stack): the service is never asked for."""

import re

from sqlalchemy import select

from app.stack import Stack
from desk.db import get_sessionmaker
from desk.demands.models import Demand

from .conftest import Chat

CONSULT = '/request_service{"service_id": "6.1.2", "institution_id": "inst-zhouzhuang-calibration"}'
ANSWERS = {
    "need_product": "压力表",
    "need_place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "privacy_consent": "同意",
}


def _texts(messages: list[dict]) -> str:  # type: ignore[type-arg]
    return "\n".join(m.get("text") or "" for m in messages)


def test_consulting_an_institution_opens_a_demand_for_its_service(stack: Stack, chat: Chat) -> None:
    started = _texts(chat.say(CONSULT))
    assert "您选择的服务事项：计量器具台账建立与检定校准代联系（计量）" in started
    assert "意向机构：江阴周庄精准计量校准有限公司" in started
    assert "需要办理什么服务" not in started
    asked: list[str] = []
    last: list[dict] = []  # type: ignore[type-arg]
    for _ in range(10):
        slot = chat.tracker()["slots"].get("requested_slot")
        if slot not in ANSWERS:
            break
        asked.append(str(slot))
        last = chat.say(ANSWERS[slot])
    assert asked[:2] == ["need_product", "need_place"], asked
    assert chat.tracker()["slots"]["requested_slot"] == "need_decision"
    summary = _texts(last)
    assert "江阴周庄精准计量校准有限公司" in summary
    assert re.search(r"\d+\. 提交，选择“江阴周庄精准计量校准有限公司”", summary), summary
    # 好的 submits (a bare digit is at present misread as a mobile by the NLU: reported)
    done = _texts(chat.say("好的"))

    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        demands = list(
            session.scalars(select(Demand).where(Demand.conversation_id == chat.conversation_id))
        )
    assert len(demands) == 1, f"{summary}\n---\n{done}"
    demand = demands[0]
    assert demand.number in done
    assert demand.service_ids == ["6.1.2"]
    assert demand.institution_ids == ["inst-zhouzhuang-calibration"]
    assert (demand.product, demand.place, demand.status) == ("压力表", "江阴市周庄镇", "submitted")
    assert not demand.need_text.startswith("/")  # never the button's payload
