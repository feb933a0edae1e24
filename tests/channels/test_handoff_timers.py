"""The handoff's timers at fixed moments: widen, told once (timeout, out of hours, nobody
online) with the demand offer, a silent consultation back to the bot, parallel sweeps."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from channels.notices import IDLE, OFFLINE, OUT_OF_HOURS, TIMEOUT, NoticeWorker
from desk.escalations.timers import SweepResult
from tests.channels.conftest import Live, LiveFactory
from tests.channels.handoff import (
    MONDAY,
    NATIONAL_DAY,
    QUIET,
    SUNDAY,
    escalate,
    escalation,
    expert,
    line,
    say,
    steps,
    system_lines,
    take,
)

WIDENED = "无人接入，已推送给全部专家"


def cid(prefix: str = "web:") -> str:
    return prefix + "t" + secrets.token_hex(8)


def worker(live: Live) -> NoticeWorker:
    found: NoticeWorker = live.app.app.state.notices
    return found


def sweep(live: Live, moment: datetime) -> SweepResult:
    result: SweepResult = live.app.call(worker(live).sweep(moment))
    return result


def test_offer_widens_to_everyone_after_two_minutes(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    expert(live, "metro.expert", domains=["metrology"])
    mine = cid()
    escalation_id = escalate(live, mine, moment=MONDAY, domain="metrology")
    assert escalation(live, escalation_id).offered_to == ["metro.expert"]

    assert sweep(live, MONDAY + timedelta(seconds=119)).widened == []
    assert sweep(live, MONDAY + timedelta(seconds=121)).widened == [escalation_id]
    assert escalation(live, escalation_id).offered_to == []
    assert sweep(live, MONDAY + timedelta(seconds=150)).widened == []
    assert steps(live, escalation_id).count(WIDENED) == 1
    assert system_lines(live, mine) == []  # the enterprise is told nothing yet


def test_unclaimed_after_ten_minutes_is_told_once_with_the_demand_offer(
    live_any_db: LiveFactory,
) -> None:
    live = live_any_db(**QUIET)
    expert(live, "busy.expert", domains=["testing"])
    mine = cid()
    escalation_id = escalate(live, mine, moment=MONDAY, domain="testing")

    assert sweep(live, MONDAY + timedelta(seconds=599)).notices == []
    [notice] = sweep(live, MONDAY + timedelta(seconds=601)).notices
    assert notice.kind == "timeout" and "回复“留言”" in TIMEOUT
    assert sweep(live, MONDAY + timedelta(seconds=900)).notices == []
    assert system_lines(live, mine) == [TIMEOUT]
    assert escalation(live, escalation_id).notice == "timeout"
    assert escalation(live, escalation_id).status == "waiting"  # an expert may still take it


def test_nobody_online_is_told_once(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    expert(live, "away.expert", domains=["testing"], online=False)
    mine = cid()
    escalation_id = escalate(live, mine, moment=MONDAY)

    [notice] = sweep(live, MONDAY + timedelta(seconds=15)).notices
    assert notice.kind == "offline"
    assert sweep(live, MONDAY + timedelta(seconds=700)).notices == []
    assert system_lines(live, mine) == [OFFLINE]
    assert escalation(live, escalation_id).notice == "offline"


def test_a_holiday_is_out_of_hours_with_the_next_service_start(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    expert(live, "duty.expert", domains=[])
    mine = cid()
    escalate(live, mine, moment=NATIONAL_DAY)

    [notice] = sweep(live, NATIONAL_DAY + timedelta(seconds=15)).notices
    assert notice.kind == "out_of_hours"
    [told] = system_lines(live, mine)
    assert told == OUT_OF_HOURS.format(start="10月9日（周四）9:00")
    assert "工作人员将在1个工作日内响应" in told
    assert sweep(live, NATIONAL_DAY + timedelta(minutes=30)).notices == []


def test_a_sunday_on_wechat_reaches_the_follower_by_the_outbox(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    openid = "o" + secrets.token_hex(8)
    mine = f"wx:{openid}"
    escalate(live, mine, moment=SUNDAY, channel="wechat")

    [notice] = sweep(live, SUNDAY + timedelta(seconds=15)).notices
    assert notice.kind == "out_of_hours"
    expected = OUT_OF_HOURS.format(start="6月16日（周一）9:00")
    deadline = time.monotonic() + 10
    while live.wechat.texts(openid) != [expected] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.wechat.texts(openid) == [expected]
    assert [(o.content, o.status) for o in live.outbox(openid)] == [(expected, "sent")]


def test_a_silent_consultation_returns_to_the_bot_after_thirty_minutes(
    live_any_db: LiveFactory,
) -> None:
    live = live_any_db(**QUIET)
    expert(live, "calm.expert", domains=[])
    mine = cid()
    escalation_id = escalate(live, mine, moment=MONDAY)
    take(live, escalation_id, by="calm.expert", moment=MONDAY + timedelta(minutes=1))
    line(
        live,
        mine,
        sender="expert",
        text="您好，请讲",
        at=MONDAY + timedelta(minutes=5),
        payload={"author": "calm.expert", "escalation_id": escalation_id},
    )
    line(live, mine, sender="system", text="（不算）", at=MONDAY + timedelta(minutes=20))

    assert sweep(live, MONDAY + timedelta(minutes=34)).notices == []
    [notice] = sweep(live, MONDAY + timedelta(minutes=36)).notices
    assert notice.kind == "idle"
    closed = escalation(live, escalation_id)
    assert (closed.status, closed.outcome) == ("closed", "timeout")
    assert system_lines(live, mine)[-1] == IDLE.format(minutes=30)
    # the bot learns what the expert said, silently (the notice told the user)
    [(sender, events)] = live.rasa.appended
    assert sender == mine
    assert [(e["event"], e.get("text") or e.get("value")) for e in events] == [
        ("bot", "您好，请讲"),
        ("slot", "您好，请讲"),
    ]
    assert events[0]["metadata"] == {
        "qclinic_expert": "calm.expert",
        "escalation_id": escalation_id,
    }
    assert live.rasa.executed == []  # nothing said by the bot
    assert sweep(live, MONDAY + timedelta(minutes=60)).notices == []

    assert say(live, mine, "你好") == ["收到：你好"]  # the bot has it again
    assert live.rasa.messages(mine) == ["你好"]


def test_parallel_sweeps_do_each_thing_once(live_any_db: LiveFactory) -> None:
    live = live_any_db(**QUIET)
    other = live.second_app()  # another process on the same database
    expert(live, "metro.one", domains=["metrology"])
    widen = escalate(live, cid(), moment=MONDAY, domain="metrology")
    late = escalate(live, cid(), moment=MONDAY - timedelta(minutes=11))
    weekend = escalate(live, cid(), moment=SUNDAY)  # left from the weekend: unclaimed since
    quiet = escalate(live, cid(), moment=MONDAY - timedelta(hours=1))
    take(live, quiet, by="metro.one", moment=MONDAY - timedelta(hours=1))

    moment = MONDAY + timedelta(minutes=3)
    workers = [worker(live), other.app.state.notices] * 3
    with ThreadPoolExecutor(len(workers)) as pool:
        results = list(pool.map(lambda w: w.sweep_once(moment), workers))

    assert sorted(i for r in results for i in r.widened) == [widen]
    told = sorted((n.escalation_id, n.kind) for r in results for n in r.notices)
    assert told == sorted([(late, "timeout"), (quiet, "idle"), (weekend, "timeout")])
    for escalation_id in (late, quiet, weekend):
        conversation = escalation(live, escalation_id).conversation_id
        assert len(system_lines(live, conversation)) == 1
    assert steps(live, widen).count(WIDENED) == 1
    assert len([s for s in steps(live, quiet) if "已交还智能助手" in s]) == 1
