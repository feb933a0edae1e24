"""Improvement items (§8.1.3, §8.2): opened exactly once per dissatisfied evaluation or upheld
complaint, planned, worked, re-checked and closed with evidence; keyword-only, free of HTTP.

An evaluation is dissatisfied when any of its scores (流程, 效率, 态度 or overall, 1–5) is 2 or
less: 1 非常不满意 and 2 不满意 of the five-point scale; 3 一般 is not. Items are due
``IMPROVEMENT_WORKING_DAYS`` working days after they were opened unless staff set another day.
"""

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk import cases
from desk.calendar.service import load_calendar
from desk.clock import now
from desk.complaints.models import TYPE_LABELS, Complaint
from desk.demands.models import Demand, Evaluation
from desk.errors import InvalidInput, NotFound
from desk.improvements.models import (
    ACTIVE_STATUSES,
    SOURCE_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    ImprovementEvent,
    ImprovementFile,
    ImprovementItem,
)
from desk.improvements.schemas import ItemPublic, ItemTransition, PlanUpdate
from desk.sla import WorkingCalendar
from desk.users.models import User
from knowledge.constants import service_domain

log = logging.getLogger(__name__)

DISSATISFIED_MAX = 2  # a score of 2 or less (of 5) on any dimension
IMPROVEMENT_WORKING_DAYS = 10
SCORE_LABELS = {
    "process_score": "流程",
    "efficiency_score": "效率",
    "attitude_score": "态度",
    "overall_score": "总体",
}
OWNER_ROLES = ("staff", "admin")

ITEMS = cases.CaseKind[ImprovementItem](
    name="improvement",
    noun="改进事项",
    transitions=TRANSITIONS,
    labels=STATUS_LABELS,
    step=ImprovementEvent,
    step_owner=ImprovementEvent.item_id,
    subject=lambda item: item.number,
    scoped_roles=frozenset(),
)


def low_scores(evaluation: Evaluation) -> dict[str, int]:
    """The dimensions scored dissatisfied, {label: score}; empty when none is."""
    return {
        label: score
        for name, label in SCORE_LABELS.items()
        if (score := getattr(evaluation, name)) <= DISSATISFIED_MAX
    }


def is_dissatisfied(evaluation: Evaluation) -> bool:
    return bool(low_scores(evaluation))


def find_by_source(session: Session, *, source_key: str) -> ImprovementItem | None:
    return session.scalar(select(ImprovementItem).where(ImprovementItem.source_key == source_key))


def _open(
    session: Session,
    *,
    source: str,
    source_key: str,
    source_number: str,
    institution_id: str | None,
    domain: str | None,
    problem: str,
    actor: str,
) -> ImprovementItem:
    """Open the item in the caller's transaction and commit it with the caller's change; the
    item of a source that has one already is that one."""
    if (existing := find_by_source(session, source_key=source_key)) is not None:
        return existing
    opened_on = now().date()
    item = ImprovementItem(
        number=_next_number(session, opened_on),
        source=source,
        source_key=source_key,
        source_number=source_number,
        institution_id=institution_id,
        domain=domain,
        problem=problem,
        cause="",
        action="",
        status="open",
        recheck_note="",
        evidence="",
        opened_on=opened_on,
        due_on=load_calendar(session).add_working_days(opened_on, IMPROVEMENT_WORKING_DAYS),
    )
    item, _ = cases.open_case(
        session,
        ITEMS,
        item,
        actor=actor,
        note=f"由{SOURCE_LABELS[source]}（{source_number}）自动生成",
        details={"source": source, "source_number": source_number},
        winner=lambda: find_by_source(session, source_key=source_key),
    )
    log.info("improvement opened number=%s source=%s", item.number, source_key)
    return item


def _next_number(session: Session, day: date) -> str:
    from desk.numbering import next_number

    return next_number(session, f"GJ{day:%Y%m%d}-")


def open_for_evaluation(
    session: Session, *, demand: Demand, evaluation: Evaluation, actor: str
) -> ImprovementItem | None:
    """An item for a dissatisfied evaluation (none otherwise); commits with the evaluation."""
    low = low_scores(evaluation)
    if not low:
        return None
    session.flush()  # the evaluation's id
    scores = "、".join(f"{label} {score} 分" for label, score in low.items())
    comment = f"；评价意见：{evaluation.comment.strip()}" if evaluation.comment.strip() else ""
    domains = [service_domain(s) for s in demand.service_ids or ()]
    return _open(
        session,
        source="evaluation",
        source_key=f"evaluation:{evaluation.id}",
        source_number=demand.number,
        institution_id=demand.chosen_institution_id,
        domain=domains[0] if domains else None,
        problem=f"需求 {demand.number} 的服务评价不满意：{scores}{comment}",
        actor=actor,
    )


def open_for_complaint(session: Session, *, complaint: Complaint, actor: str) -> ImprovementItem:
    """An item for a complaint found justified (投诉成立); commits with the complaint's change."""
    kind = TYPE_LABELS.get(complaint.complaint_type, complaint.complaint_type)
    resolution = f"；处理意见：{complaint.resolution}" if complaint.resolution else ""
    return _open(
        session,
        source="complaint",
        source_key=f"complaint:{complaint.id}",
        source_number=complaint.number,
        institution_id=complaint.institution_id,
        domain=None,
        problem=(
            f"投诉 {complaint.number} 经核实成立（{kind}，被投诉机构："
            f"{complaint.institution_title or complaint.institution_name}）{resolution}"
        ),
        actor=actor,
    )


# --- reading ----------------------------------------------------------------------------------


class OverdueClock:
    """Working days past the due day, for many items at once: the calendar is walked back from
    ``today`` once per request, not once per item."""

    def __init__(self, calendar: WorkingCalendar, today: date) -> None:
        self.calendar, self.today = calendar, today
        self._after = {today: 0}  # day → working days after it, up to and including today
        self._earliest = today

    def working_days_after(self, day: date) -> int:
        if day >= self.today:
            return 0
        while self._earliest > day:
            later = self._earliest
            self._earliest = later - timedelta(days=1)
            self._after[self._earliest] = self._after[later] + self.calendar.is_working_day(later)
        return self._after[day]

    def days_late(self, item: ImprovementItem) -> int:
        if item.status not in ACTIVE_STATUSES or self.today <= item.due_on:
            return 0
        return self.working_days_after(item.due_on)


def overdue_clock(session: Session, *, today: date) -> OverdueClock:
    return OverdueClock(load_calendar(session), today)


def public(
    item: ImprovementItem,
    *,
    today: date,
    clock: OverdueClock,
    names: dict[str, str] | None = None,
    files: Sequence[ImprovementFile] = (),
) -> ItemPublic:
    view = ItemPublic.model_validate(item)
    view.source_label = SOURCE_LABELS[item.source]
    view.status_label = STATUS_LABELS[item.status]
    view.overdue = item.status in ACTIVE_STATUSES and today > item.due_on
    view.overdue_days = clock.days_late(item)
    view.owner_name = (names or {}).get(item.owner, item.owner) if item.owner else None
    view.files = [f for f in files]  # type: ignore[misc]
    return view


def _filtered(
    *, status: str | None, source: str | None, overdue_on: date | None, owner: str | None
):  # type: ignore[no-untyped-def]
    query = select(ImprovementItem)
    if status:
        query = query.where(ImprovementItem.status == status)
    if source:
        query = query.where(ImprovementItem.source == source)
    if owner:
        query = query.where(ImprovementItem.owner == owner)
    if overdue_on is not None:
        query = query.where(
            ImprovementItem.status.in_(ACTIVE_STATUSES), ImprovementItem.due_on < overdue_on
        )
    return query


def list_items(
    session: Session,
    *,
    status: str | None = None,
    source: str | None = None,
    owner: str | None = None,
    overdue_on: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ImprovementItem], int, dict[str, int]]:
    """A page of items (overdue and oldest due first), the total, and counts per status."""
    query = _filtered(status=status, source=source, overdue_on=overdue_on, owner=owner)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(
        (ImprovementItem.status == "closed").asc(), ImprovementItem.due_on, ImprovementItem.id
    )
    items = list(session.scalars(page.limit(limit).offset(offset)))
    counted = _filtered(status=None, source=source, overdue_on=overdue_on, owner=owner).subquery()
    counts = {s: 0 for s in STATUS_LABELS}
    for key, n in session.execute(
        select(counted.c.status, func.count()).group_by(counted.c.status)
    ):
        counts[key] = n
    return items, total, counts


def count_overdue(session: Session, *, today: date) -> int:
    query = select(func.count()).where(
        ImprovementItem.status.in_(ACTIVE_STATUSES), ImprovementItem.due_on < today
    )
    return session.scalar(query) or 0


def get_item(session: Session, *, number: str) -> ImprovementItem:
    item = session.scalar(select(ImprovementItem).where(ImprovementItem.number == number))
    if item is None:
        raise NotFound(f"未找到编号为 {number} 的改进事项。")
    return item


def files_of(session: Session, *, item: ImprovementItem) -> list[ImprovementFile]:
    query = select(ImprovementFile).where(ImprovementFile.item_id == item.id)
    return list(session.scalars(query.order_by(ImprovementFile.id)))


def events(session: Session, *, item: ImprovementItem) -> list[ImprovementEvent]:
    return cases.timeline(session, ITEMS, item)


def owner_options(session: Session) -> list[User]:
    query = select(User).where(User.role.in_(OWNER_ROLES), User.active.is_(True))
    return list(session.scalars(query.order_by(User.username)))


# --- working an item --------------------------------------------------------------------------


def _apply_plan(
    session: Session, item: ImprovementItem, plan: PlanUpdate, *, today: date
) -> dict[str, str]:
    """Set the plan's given fields; returns what changed (for the audit log)."""
    changed: dict[str, str] = {}
    if plan.owner is not None and plan.owner != item.owner:
        user = session.scalar(select(User).where(User.username == plan.owner))
        if user is None or not user.active or user.role not in OWNER_ROLES:
            raise InvalidInput("责任人须为在用的工作人员账号。", code="owner_invalid")
        item.owner = changed["owner"] = plan.owner
    if plan.due_on is not None and plan.due_on != item.due_on:
        if plan.due_on < item.opened_on:
            raise InvalidInput("整改期限不能早于事项生成日期。", code="due_on_invalid")
        item.due_on = plan.due_on
        changed["due_on"] = plan.due_on.isoformat()
    for name in ("cause", "action"):
        value = getattr(plan, name)
        if value is not None and value.strip() != getattr(item, name):
            setattr(item, name, value.strip())
            changed[name] = "changed"
    return changed


def update_plan(
    session: Session, *, number: str, plan: PlanUpdate, actor: str, today: date
) -> ImprovementItem:
    item = get_item(session, number=number)
    if item.status == "closed":
        raise cases.IllegalTransition("改进事项已关闭，不能再修改。")
    changed = _apply_plan(session, item, plan, today=today)
    if changed:
        cases.record_step(
            session,
            ITEMS,
            item,
            actor=actor,
            note="更新整改计划：" + "、".join(_PLAN_WORDS[k] for k in changed),
            action="plan",
            details=changed,
        )
        session.commit()
    return item


_PLAN_WORDS = {"owner": "责任人", "due_on": "整改期限", "cause": "原因分析", "action": "整改措施"}


def _require(value: str, message: str, code: str) -> None:
    if not value.strip():
        raise InvalidInput(message, code=code)


def transition(
    session: Session, *, number: str, change: ItemTransition, actor: str, today: date
) -> ImprovementItem:
    """Move an item on; each move needs what the loop asks for at that point:
    start → cause, action, owner; re-check → its conclusion; close → the evidence."""
    item = get_item(session, number=number)
    cases.ensure_allowed(ITEMS, item, to=change.to)
    changed = _apply_plan(session, item, change, today=today)
    note = change.note.strip()
    if change.to == "in_progress" and item.status == "open":
        _require(item.cause, "开始整改前请填写原因分析。", "cause_required")
        _require(item.action, "开始整改前请填写整改措施。", "action_required")
        if not item.owner:
            raise InvalidInput("开始整改前请指定责任人。", code="owner_required")
    elif change.to == "in_progress":  # back from a failed re-check
        _require(note, "复查未通过时请说明原因。", "note_required")
    elif change.to == "rechecked":
        recheck = (change.recheck_note or "").strip()
        _require(recheck, "请填写复查结论。", "recheck_note_required")
        item.recheck_note = recheck
        note = note or f"复查结论：{recheck}"
    elif change.to == "closed":
        evidence = (change.evidence or item.evidence).strip()
        _require(evidence, "关闭前请填写整改证据（可另附文件）。", "evidence_required")
        item.evidence = evidence
        item.closed_at = now()
        note = note or f"整改证据：{evidence}"
    cases.transition(
        session,
        ITEMS,
        item,
        to=change.to,
        actor=actor,
        note=note,
        details={"from": item.status, "to": change.to, **changed},
    )
    session.commit()
    return item
