"""The desk's side of telling the enterprise (desk/case_notices.py), with ports that answer as
the channels would, or fail: the move stands and the timeline says what happened."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.database import migrate
from app.settings import AppSettings
from desk import case_notices
from desk.case_notices import CaseNotice, NoticeResult
from desk.db import get_sessionmaker
from desk.demands import service
from desk.demands.schemas import DemandCreate, DemandTransition


@dataclass
class Port:
    answer: NoticeResult | None = None  # None: raise
    told: list[CaseNotice] = field(default_factory=list)
    woken: list[str] = field(default_factory=list)

    def tell(self, session: Session, notice: CaseNotice) -> NoticeResult:
        self.told.append(notice)
        if self.answer is None:
            raise RuntimeError("channel exploded")
        return self.answer

    def wake(self, conversation_id: str) -> None:
        self.woken.append(conversation_id)


def _moved(settings: AppSettings, port: Port) -> list[str]:
    assert settings.database_url
    migrate(settings.database_url)
    with get_sessionmaker(settings.database_url)() as session:
        demand, _ = service.create_demand(
            session,
            data=DemandCreate(
                conversation_id="wx:o-notice-1",
                channel="wechat",
                need_text="检测",
                product="电线电缆",
                place="江阴",
                contact_name="张伟",
                contact_mobile="13912345678",
            ),
            idempotency_key=None,
            today=date(2026, 11, 2),
        )
        number = demand.number
        demand = service.transition(
            session, number=number, change=DemandTransition(to="responded"), actor="staff.user"
        )
        case_notices.tell_enterprise(
            session, service.DEMANDS, demand, port=port, actor="staff.user"
        )
        assert service.get_demand(session, number=number).status == "responded"
        return [s.note for s in service.events(session, number=number)]


def test_told_by_template_is_on_the_timeline_and_wakes_the_channel(
    app_settings: AppSettings,
) -> None:
    port = Port(answer=NoticeResult(how="wechat_template"))
    notes = _moved(app_settings, port)
    assert notes[-1] == "已通过微信模板消息告知企业：“已响应”。"
    [notice] = port.told
    assert (notice.conversation_id, notice.noun, notice.status_label) == (
        "wx:o-notice-1",
        "需求",
        "已响应",
    )
    assert notice.text == f"【质量门诊】您的需求（编号 {notice.number}）进展更新：已响应。"
    assert port.woken == ["wx:o-notice-1"]


def test_a_failing_channel_keeps_the_move_and_says_so(app_settings: AppSettings) -> None:
    port = Port(answer=None)
    notes = _moved(app_settings, port)
    assert notes[-1] == "未能告知企业：发送通知时出错，请稍后通过会话或电话告知企业。"
    assert port.woken == []
