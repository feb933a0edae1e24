"""A demand opened by the expert for the enterprise, prefilled from the conversation (§7.2)."""

from datetime import date

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from desk.consultations.ports import ConversationPort
from desk.consultations.schemas import DemandDraft
from desk.customers import service as customers
from desk.demands import service as demands
from desk.demands.schemas import DemandCreate, DemandPublic
from desk.errors import InvalidInput
from desk.escalations.models import Escalation
from knowledge.personal_data import mask_mobile

MASK = "*"
FIELD_LABELS = {
    "need_text": "需求描述",
    "product": "产品或对象",
    "place": "地点",
    "contact_name": "联系人",
    "contact_mobile": "联系电话",
    "credit_code": "统一社会信用代码",
    "quantity": "数量",
    "wanted_date": "期望时间",
    "company_name": "企业名称",
    "service_ids": "服务事项",
}


def _describe(error: ErrorDetails) -> str:
    """One field's problem in Chinese: 联系人不能为空, 联系电话：手机号码应为11位…"""
    field = str(error["loc"][0]) if error["loc"] else ""
    label = FIELD_LABELS.get(field, field)
    if error["type"] in {"missing", "string_too_short"}:
        return f"{label}不能为空"
    if error["type"] in {"string_too_long", "too_long"}:
        return f"{label}过长"
    message = str(error["msg"]).removeprefix("Value error, ")
    if any("\u4e00" <= ch <= "\u9fff" for ch in message):
        return f"{label}不能为空" if message == "不能为空" else f"{label}：{message}"
    return f"{label}格式不正确"


def _known_mobile(session: Session, *, conversation_id: str) -> str | None:
    """The enterprise's number as the desk already holds it: its record, or an earlier demand."""
    customer = customers.customer_for_conversation(session, conversation_id=conversation_id)
    if customer is not None and customer.mobile:
        return customer.mobile
    earlier = demands.list_demands(session, conversation_id=conversation_id, limit=1)
    return earlier[0].contact_mobile if earlier else None


def demand_draft(
    session: Session, *, escalation: Escalation, port: ConversationPort
) -> DemandDraft:
    need = escalation.need or {}
    lines = port.transcript(session, conversation_id=escalation.conversation_id)
    said = [line.text for line in lines if line.sender == "user"][-5:]
    customer = customers.customer_for_conversation(
        session, conversation_id=escalation.conversation_id
    )
    mobile = _known_mobile(session, conversation_id=escalation.conversation_id)
    return DemandDraft(
        need_text=(escalation.summary or "；".join(said))[:2000],
        product=need.get("product", "")[:100],
        place=need.get("place", "")[:100],
        contact_name=(customer.contact_name if customer and customer.contact_name else "")[:40],
        contact_mobile=mask_mobile(mobile) if mobile else need.get("contact_masked", ""),
        company_name=escalation.enterprise or (customer.name if customer else None),
    )


def open_demand(
    session: Session, *, escalation: Escalation, draft: DemandDraft, actor: str, today: date
) -> DemandPublic:
    """One demand per consultation (a second submit returns the first); a masked number is
    replaced by the one the desk holds, so the expert never handles the full number."""
    mobile = draft.contact_mobile.strip()
    if not mobile or MASK in mobile:
        known = _known_mobile(session, conversation_id=escalation.conversation_id)
        if known is None:
            raise InvalidInput(
                "平台没有该企业的联系电话，请向企业确认后填写。", code="mobile_needed"
            )
        mobile = known
    values = draft.model_dump() | {
        "contact_mobile": mobile,
        "conversation_id": escalation.conversation_id,
        "channel": escalation.channel,
        "recommended_by": "staff",
    }
    try:
        data = DemandCreate.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(
            "需求信息不完整或有误：" + "；".join(_describe(e) for e in exc.errors()),
            code="invalid_demand",
        ) from exc
    demand, _created = demands.create_demand(
        session, data=data, idempotency_key=f"escalation:{escalation.id}", today=today, actor=actor
    )
    return demands.public(demand, today=today, masked=True)
