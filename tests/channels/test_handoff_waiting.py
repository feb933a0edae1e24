"""The enterprise while its escalation waits: place and wait, cancel, leave a demand."""

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from channels.transcript import ChatMessage
from channels.waiting import (
    CANCELLED,
    HOLDING,
    HOLDING_UNATTENDED,
    LEFT_TO_BOT,
    WAITING_FOR_EXPERT,
    is_cancel,
)
from desk.clock import now
from tests.channels.conftest import LiveFactory
from tests.channels.handoff import QUIET, escalate, escalation, say, take


def cid() -> str:
    return "web:h" + secrets.token_hex(8)


def test_cancel_words_are_whole_short_messages() -> None:
    assert (
        is_cancel("算了")
        and is_cancel(" 算了。")
        and is_cancel("不用了！")
        and is_cancel("取消转人工")
    )
    assert is_cancel("不需要了~") and is_cancel("算 了 ！")
    assert not is_cancel("算了，我还是想问一下检测费用")
    assert not is_cancel("不用了解这个，我想问校准")


def test_holding_note_tells_place_and_wait_in_full_once_a_minute(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    for _ in range(2):  # two enterprises ahead; nobody has been claimed yet: 5 minutes each
        escalate(live, cid(), moment=now())
    mine = cid()
    escalate(live, mine, moment=now())

    full = HOLDING.format(place="您前面还有2位企业", minutes=15)
    assert full.startswith("已为您转接专家，您前面还有2位企业，预计等待约15分钟。")
    assert say(live, mine, "我们的电缆要做型式试验") == [full]
    assert say(live, mine, "样品有 20 卷") == [WAITING_FOR_EXPERT]  # within the minute: short

    with live.session() as session:  # a minute later the note is given in full again
        session.execute(
            update(ChatMessage)
            .where(ChatMessage.conversation_id == mine)
            .values(created_at=datetime.now(UTC) - timedelta(seconds=61))
        )
        session.commit()
    assert say(live, mine, "大概多久能出报告") == [full]
    # nothing lost: every message is in the transcript the expert reads; the bot saw none
    assert [t for s, t in live.transcript(mine) if s == "user"] == [
        "我们的电缆要做型式试验",
        "样品有 20 卷",
        "大概多久能出报告",
    ]
    assert live.rasa.messages(mine) == []


def test_cancel_while_waiting_gives_the_bot_back(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    mine = cid()
    escalation_id = escalate(live, mine, moment=now())

    # a longer sentence that starts with a cancel word is a message for the expert
    assert say(live, mine, "算了，我还是想问一下检测费用")[0].startswith("已为您转接专家")
    assert escalation(live, escalation_id).status == "waiting"

    assert say(live, mine, "算了。") == [CANCELLED]
    closed = escalation(live, escalation_id)
    assert (closed.status, closed.outcome, closed.active_key) == ("closed", "cancelled", None)

    assert say(live, mine, "你好") == ["收到：你好"]  # the bot again
    assert live.rasa.messages(mine) == ["你好"]


def test_cancel_words_while_claimed_reach_the_expert(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    mine = cid()
    escalation_id = escalate(live, mine, moment=now())
    take(live, escalation_id, by="expert.a", moment=now())

    assert say(live, mine, "不用了") == []  # no answer of ours: the expert has it
    assert escalation(live, escalation_id).status == "claimed"
    assert live.transcript(mine) == [("user", "不用了")]
    assert live.rasa.messages(mine) == []


def test_leave_a_demand_once_nobody_can_take_it(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    mine = cid()
    escalation_id = escalate(live, mine, moment=now())
    assert say(live, mine, "留言")[0].startswith("已为您转接专家")  # not offered yet: a message
    assert escalation(live, escalation_id).status == "waiting"

    with live.session() as session:  # what the sweep records when it tells nobody is online
        from desk.escalations.models import Escalation

        session.execute(
            update(Escalation).where(Escalation.id == escalation_id).values(notice="offline")
        )
        session.execute(
            update(ChatMessage)
            .where(ChatMessage.conversation_id == mine)
            .values(created_at=datetime.now(UTC) - timedelta(seconds=61))
        )
        session.commit()
    assert say(live, mine, "还要等多久") == [HOLDING_UNATTENDED]

    assert say(live, mine, "留言！") == [LEFT_TO_BOT]
    closed = escalation(live, escalation_id)
    assert (closed.status, closed.outcome) == ("closed", "demand_by_bot")
    # the bot takes the need down (its need form opens the demand)
    assert say(live, mine, "我想给电线电缆做检测") == ["收到：我想给电线电缆做检测"]
    assert live.rasa.messages(mine) == ["我想给电线电缆做检测"]
