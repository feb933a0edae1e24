"""The one case lifecycle (desk/cases.py) on each kind of case, on SQLite and PostgreSQL."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import migrate
from desk import cases
from desk.audit import entries_for
from desk.clock import now
from desk.complaints import service as complaints
from desk.complaints.models import Complaint, ComplaintEvent
from desk.complaints.schemas import ComplaintCreate, ComplaintTransition
from desk.db import get_sessionmaker
from desk.demands import service as demands
from desk.demands.models import Demand, DemandEvent
from desk.demands.schemas import DemandCreate, DemandTransition, EvaluationCreate
from desk.errors import Forbidden, NotFound
from desk.escalations import service as escalations
from desk.escalations.models import Escalation, EscalationEvent
from desk.escalations.schemas import EscalationCreate
from desk.users.service import Principal

TODAY = date(2026, 11, 23)  # a Monday
CONVERSATION = "web:cases-0001"
BOT = Principal(username="bot", role="service")
STAFF = Principal(username="staff.user", role="staff")
EXPERT = Principal(username="expert.user", role="expert")
DEMAND = DemandCreate(
    conversation_id=CONVERSATION,
    need_text="电线电缆检测",
    product="电线电缆",
    place="江阴市周庄镇",
    contact_name="张伟",
    contact_mobile="13912345678",
)
COMPLAINT = ComplaintCreate(
    conversation_id=CONVERSATION,
    institution_name="某检测机构",
    complaint_type="quality",
    content="检测报告的结论和复测差别很大",
)
ANONYMOUS = COMPLAINT.model_copy(update={"contact_name": None, "contact_mobile": None})
ESCALATION = EscalationCreate(conversation_id=CONVERSATION, summary="用户：转人工")


@pytest.fixture
def sessions(database_url: str) -> Iterator[Callable[[], Session]]:
    migrate(database_url)
    yield get_sessionmaker(database_url)


def _open_demand(session: Session, key: str | None = None) -> Demand:
    demand, created = demands.create_demand(
        session, data=DEMAND, idempotency_key=key, today=TODAY, actor="bot"
    )
    assert created
    return demand


def _open_complaint(session: Session) -> Complaint:
    complaint, created, _ = complaints.create_complaint(
        session, data=COMPLAINT, idempotency_key=None, today=TODAY, actor="bot", institutions=[]
    )
    assert created
    return complaint


def _open_escalation(session: Session) -> Escalation:
    escalation, created = escalations.create_escalation(
        session, data=ESCALATION, actor="bot", moment=now()
    )
    assert created
    return escalation


def _count(session: Session, column: Any) -> int:
    return int(session.scalar(select(func.count(column))) or 0)


def test_opening_writes_the_first_step_and_the_audit_entry(
    sessions: Callable[[], Session],
) -> None:
    with sessions() as session:
        demand = _open_demand(session)
        complaint = _open_complaint(session)
        escalation = _open_escalation(session)

        opened: list[tuple[Any, Any, str]] = [
            (demands.DEMANDS, demand, "submitted"),
            (complaints.COMPLAINTS, complaint, "received"),
            (escalations.ESCALATIONS, escalation, "waiting"),
        ]
        for kind, case, first in opened:
            [step] = cases.timeline(session, kind, case)
            assert (step.from_status, step.to_status, step.actor) == (None, first, "bot")
            [entry] = entries_for(session, subject=kind.subject(case))
            assert (entry.actor, entry.action) == ("bot", f"{kind.name}.create")


def _illegal_demand_move(session: Session) -> tuple[Callable[[], object], str, str]:
    number = _open_demand(session).number
    change = DemandTransition(to="completed")

    def move() -> object:
        return demands.transition(session, number=number, change=change, actor="staff.user")

    return move, "需求当前状态为“已提交”，不能变更为“已完成”。", number


def _illegal_complaint_move(session: Session) -> tuple[Callable[[], object], str, str]:
    number = _open_complaint(session).number
    change = ComplaintTransition(to="informed")

    def move() -> object:
        return complaints.transition(
            session, number=number, change=change, actor="staff.user", institutions=[]
        )

    return move, "投诉当前状态为“已受理”，不能变更为“已反馈投诉人”。", number


def _illegal_escalation_move(session: Session) -> tuple[Callable[[], object], str, str]:
    escalation = _open_escalation(session)
    escalations.release(
        session,
        escalation_id=escalation.id,
        actor="staff.user",
        note="",
        moment=now(),
        supervisor=True,
    )

    def move() -> object:
        return escalations.claim(
            session, escalation_id=escalation.id, actor="expert.user", moment=now()
        )

    refusal = "该会话当前状态为“已交还智能助手”，不能变更为“专家接待中”。"
    return move, refusal, escalations.subject(escalation)


@pytest.mark.parametrize(
    "illegal_move",
    [_illegal_demand_move, _illegal_complaint_move, _illegal_escalation_move],
    ids=["demand", "complaint", "escalation"],
)
def test_an_illegal_transition_is_refused_on_each_kind(
    sessions: Callable[[], Session],
    illegal_move: Callable[[Session], tuple[Callable[[], object], str, str]],
) -> None:
    with sessions() as session:
        move, refusal, subject = illegal_move(session)
        entries_before = len(entries_for(session, subject=subject))

        with pytest.raises(cases.IllegalTransition) as refused:
            move()
        assert type(refused.value) is cases.IllegalTransition  # the one class, for every kind
        assert (refused.value.code, refused.value.status) == ("illegal_transition", 409)
        assert refused.value.message == refusal
        session.rollback()
        assert len(entries_for(session, subject=subject)) == entries_before  # nothing recorded


def test_evaluating_before_completion_is_an_illegal_transition(
    sessions: Callable[[], Session],
) -> None:
    with sessions() as session:
        number = _open_demand(session).number
        scores = EvaluationCreate(
            process_score=5, efficiency_score=5, attitude_score=5, overall_score=5
        )
        with pytest.raises(cases.IllegalTransition, match="服务完成后才能评价"):
            demands.evaluate(session, number=number, data=scores, actor="bot")


def test_a_transition_writes_step_audit_and_status_together(
    sessions: Callable[[], Session],
) -> None:
    with sessions() as session:
        escalation = _open_escalation(session)
        escalations.claim(session, escalation_id=escalation.id, actor="expert.user", moment=now())
    with sessions() as session:
        steps = cases.timeline(session, escalations.ESCALATIONS, escalation)
        assert [(s.from_status, s.to_status) for s in steps] == [
            (None, "waiting"),
            ("waiting", "claimed"),
        ]
        [_, claim] = entries_for(session, subject=escalations.subject(escalation))
        assert claim.action == "escalation.claim"
        assert claim.details == {"from": "waiting", "to": "claimed"}
        assert session.get(Escalation, escalation.id).status == "claimed"  # type: ignore[union-attr]


def _miss_once(real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, except that its first call finds nothing: the racer had not committed yet."""
    calls = {"n": 0}

    def lookup(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args, **kwargs)

    return lookup


def test_the_loser_of_an_idempotency_key_race_gets_the_winners_demand(
    sessions: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"{CONVERSATION}:msg-7"
    with sessions() as winner_session:
        winner = _open_demand(winner_session, key=key)
    monkeypatch.setattr(demands, "find_by_key", _miss_once(demands.find_by_key))
    with sessions() as session:
        demand, created = demands.create_demand(
            session, data=DEMAND, idempotency_key=key, today=TODAY, actor="bot"
        )
        assert not created and demand.id == winner.id
        assert _count(session, Demand.id) == 1 and _count(session, DemandEvent.id) == 1
        assert [e.action for e in entries_for(session, subject=winner.number)] == ["demand.create"]
        # the loser's number was rolled back with it: the next demand takes the next one
        assert _open_demand(session).number.endswith("-0002")


def test_the_loser_of_a_complaint_race_gets_the_winners_with_a_fresh_code(
    sessions: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"{CONVERSATION}:msg-8"
    with sessions() as winner_session:
        winner, _, first_code = complaints.create_complaint(
            winner_session,
            data=ANONYMOUS,
            idempotency_key=key,
            today=TODAY,
            actor="bot",
            institutions=[],
        )
    monkeypatch.setattr(complaints, "find_by_key", _miss_once(complaints.find_by_key))
    with sessions() as session:
        complaint, created, code = complaints.create_complaint(
            session, data=ANONYMOUS, idempotency_key=key, today=TODAY, actor="bot", institutions=[]
        )
        assert not created and complaint.id == winner.id
        assert code and first_code and code != first_code  # the repeating caller never saw it
        assert _count(session, Complaint.id) == 1 and _count(session, ComplaintEvent.id) == 1
        actions = [e.action for e in entries_for(session, subject=winner.number)]
        assert actions == ["complaint.create", "complaint.reissue_code"]


def test_the_loser_of_an_escalation_race_gets_the_active_one(
    sessions: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as winner_session:
        winner = _open_escalation(winner_session)
    monkeypatch.setattr(escalations, "active_escalation", _miss_once(escalations.active_escalation))
    with sessions() as session:
        escalation, created = escalations.create_escalation(
            session, data=ESCALATION, actor="bot", moment=now()
        )
        assert not created and escalation.id == winner.id
        assert _count(session, Escalation.id) == 1 and _count(session, EscalationEvent.id) == 1


def test_an_integrity_error_without_a_winner_is_raised(sessions: Callable[[], Session]) -> None:
    with sessions() as session:
        first = _open_demand(session)
        twin = Demand(**DEMAND.model_dump(), number=first.number, status="submitted")
        twin.respond_due = twin.recommend_due = TODAY
        with pytest.raises(IntegrityError):
            cases.open_case(
                session,
                demands.DEMANDS,
                twin,
                actor="bot",
                note="",
                details={},
                winner=lambda: None,
            )
        assert _count(session, Demand.id) == 1


def test_the_bot_sees_only_the_cases_of_its_conversations(
    sessions: Callable[[], Session],
) -> None:
    with sessions() as session:
        demand = _open_demand(session)
        complaint = _open_complaint(session)
        seen: list[tuple[Any, Any, str]] = [
            (demands.DEMANDS, demand, "需求"),
            (complaints.COMPLAINTS, complaint, "投诉"),
        ]
        for kind, case, noun in seen:
            cases.ensure_visible(session, kind, case, caller=BOT, conversation_id=CONVERSATION)
            cases.ensure_visible(session, kind, case, caller=STAFF, conversation_id=None)
            for other in ("web:someone-else", None):
                with pytest.raises(NotFound) as hidden:
                    cases.ensure_visible(session, kind, case, caller=BOT, conversation_id=other)
                assert hidden.value.message == f"未找到该{noun}。"


def test_listing_is_scoped_to_a_conversation_for_the_bot_and_for_experts_on_demands() -> None:
    for kind in (demands.DEMANDS, complaints.COMPLAINTS, escalations.ESCALATIONS):
        cases.ensure_listing_scoped(kind, caller=BOT, conversation_id=CONVERSATION)
        cases.ensure_listing_scoped(kind, caller=STAFF, conversation_id=None)
        with pytest.raises(Forbidden) as refused:
            cases.ensure_listing_scoped(kind, caller=BOT, conversation_id=None)
        assert refused.value.message == f"智能助手只能查询本会话的{kind.noun}。"
    with pytest.raises(Forbidden, match="您没有执行此操作的权限"):
        cases.ensure_listing_scoped(demands.DEMANDS, caller=EXPERT, conversation_id=None)
    cases.ensure_listing_scoped(escalations.ESCALATIONS, caller=EXPERT, conversation_id=None)


def test_only_the_holder_or_a_supervisor_acts_on_a_held_case() -> None:
    refusal = "只有接入该会话的专家或工作人员可以交还会话。"
    cases.ensure_holder(
        holder="expert.user", actor="expert.user", supervisor=False, refusal=refusal
    )
    cases.ensure_holder(holder="expert.user", actor="staff.user", supervisor=True, refusal=refusal)
    with pytest.raises(cases.NotYours) as refused:
        cases.ensure_holder(
            holder="expert.user", actor="expert.two", supervisor=False, refusal=refusal
        )
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "not_yours",
        403,
        refusal,
    )
    assert cases.is_supervisor(STAFF) and not cases.is_supervisor(EXPERT)
