"""The evaluation invitation on WeChat, on the real stack (Rasa, the action server, the database)
through encrypted callbacks, WeChat's API played by a local stand-in: staff complete the demand
(on the replica with the WeChat channel on) → the follower gets the invitation as a
customer-service message with numbered answers → replies 1 and the three scores by digits and a
comment → the evaluation row exists and the demand is 已评价."""

import httpx
from sqlalchemy import select

from app.stack import Stack
from desk.clock import today
from desk.db import get_sessionmaker
from desk.demands import service as demands
from desk.demands.models import Demand, Evaluation
from desk.demands.schemas import DemandCreate
from tests.channels.servers import wait_until
from tests.channels.wechat_calls import text_xml
from tests.e2e.test_evaluation_invitation import TO_COMPLETED
from tests.e2e.wechat import Follower, WeChatApp


def test_the_invitation_is_answered_by_numbered_replies(
    stack: Stack, wechat_app: WeChatApp
) -> None:
    user = Follower(wechat_app)
    user.send(text_xml(user.openid, "你好"), "你好")  # the window opens
    assert stack.settings.database_url
    sessions = get_sessionmaker(stack.settings.database_url)
    with sessions() as session:
        demand, _ = demands.create_demand(
            session,
            data=DemandCreate(
                conversation_id=user.conversation_id,
                channel="wechat",
                need_text="压力表校准",
                product="压力表",
                place="江阴市",
                contact_name="王明",
                contact_mobile="13912345678",
            ),
            idempotency_key=None,
            today=today(),
        )
        number = demand.number
    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{wechat_app.url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    for to, extra in TO_COMPLETED:
        httpx.post(
            f"{wechat_app.url}/api/demands/{number}/transitions",
            headers={"Authorization": f"Bearer {token}"},
            json={"to": to, **extra},
            timeout=20,
        ).raise_for_status()
    wait_until(lambda: any("已完成" in t for t in wechat_app.wechat.texts(user.openid)), timeout=30)
    [invitation] = [t for t in wechat_app.wechat.texts(user.openid) if "已完成" in t]
    assert "1. 现在评价\n2. 以后再说" in invitation

    started = user.send(text_xml(user.openid, "1"), "1")
    assert f"请为需求 {number}" in started and "服务流程" in started, started
    assert "服务效率" in user.send(text_xml(user.openid, "5"), "5")
    assert "服务态度" in user.send(text_xml(user.openid, "4"), "4")
    assert "意见或建议" in user.send(text_xml(user.openid, "5"), "5")
    thanks = user.send(text_xml(user.openid, "没有"), "没有")
    assert f"已记录需求 {number} 的评分：流程 5 分、效率 4 分、态度 5 分" in thanks, thanks

    with sessions() as session:
        row = session.scalar(select(Demand).where(Demand.number == number))
        assert row is not None and row.status == "evaluated"
        evaluation = session.scalar(select(Evaluation).where(Evaluation.demand_id == row.id))
        assert evaluation is not None
        assert (evaluation.process_score, evaluation.efficiency_score) == (5, 4)
        assert (evaluation.attitude_score, evaluation.comment) == (5, "")
    assert not wechat_app.wechat.problems
