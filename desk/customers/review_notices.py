"""Telling the applicant a review's result in its own channel (§7.1.1.5 将审核结果通知用户).

Through the desk's :class:`~desk.case_notices.CaseNoticePort`, as demands and complaints are
told: the web page's stream, a WeChat customer-service message, or a template message. The
review keeps how the applicant was told, or why not; the audit log says the same.

Outside a WeChat follower's 48-hour window the result goes by the status template message
(``QCLINIC_WECHAT_TEMPLATE_CASE``: the applicant's name, the result with the reason, the time);
without one it is kept and shown at the follower's next message, and the review then says so
(:func:`shown_later`, called by the channels' kept notices).
"""

import logging

from sqlalchemy.orm import Session

from desk import audit
from desk.case_notices import (
    HOW_WORDS,
    KEPT,
    NOTICE_FAILED,
    CaseNotice,
    CaseNoticePort,
    NoticeResult,
)
from desk.customers.models import (
    DOCUMENT_KIND_LABELS,
    REVIEW_KIND_LABELS,
    REVIEW_STATUS_LABELS,
    Customer,
    CustomerReview,
)
from desk.customers.service import conversation_ids, subject

log = logging.getLogger(__name__)

NO_CONVERSATION = "该申请没有在线会话，未自动通知用户；请电话告知审核结果。"
APPROVED = {
    "registration": "【质量门诊】您的{kind}注册申请（{name}）已审核通过，欢迎使用平台的各项服务。",
    "name_change": "【质量门诊】您的企业名称变更申请已审核通过，企业名称已更新为“{new_name}”。",
}
REJECTED = {
    "registration": "【质量门诊】很抱歉，您的注册申请（{name}）未通过审核。原因：{reason}",
    "name_change": "【质量门诊】很抱歉，您的企业名称变更申请未通过审核。原因：{reason}",
}
MISSING = "需补充：{labels}。"
RESUBMIT = "请回复“补充资料”，按提示上传后重新提交审核。"
RESUBMIT_NAME = "请回复“企业改名了”，按提示重新提交。"
NOUNS = {"registration": "注册申请", "name_change": "企业名称变更申请"}
HEADLINE = "您的{noun}有新的审核结果"
WELCOME = "欢迎使用平台的各项服务。"
NEXT_CONTACT = "next_contact"  # notice_how: shown when the applicant wrote again
NUMBER = "审核{id}"  # the kept notice's number: the review it tells


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", ".")) else text + "。"


def notice_text(review: CustomerReview, customer: Customer) -> str:
    values = {
        "kind": "企业用户" if customer.kind == "enterprise" else "普通用户",
        "name": customer.name,
        "new_name": review.new_name or customer.name,
        "reason": _sentence(review.reason or "资料不完善"),
    }
    if review.status == "approved":
        return APPROVED[review.kind].format(**values)
    text = REJECTED[review.kind].format(**values)
    if review.missing_documents:
        labels = "、".join(DOCUMENT_KIND_LABELS.get(k, k) for k in review.missing_documents)
        text += MISSING.format(labels=labels)
    return text + (RESUBMIT if review.kind == "registration" else RESUBMIT_NAME)


def _detail(review: CustomerReview) -> str:
    """A rejection's reason and the materials to upload again, for a template message."""
    if review.status != "rejected":
        return ""
    detail = (review.reason or "资料不完善").strip().rstrip("。")
    if review.missing_documents:
        labels = "、".join(DOCUMENT_KIND_LABELS.get(k, k) for k in review.missing_documents)
        detail += "；" + MISSING.format(labels=labels).rstrip("。")
    return detail


def notice_of(review: CustomerReview, customer: Customer, *, conversation_id: str) -> CaseNotice:
    noun = NOUNS[review.kind]
    name = (review.new_name or customer.name) if review.status == "approved" else customer.name
    if review.status == "rejected":
        remark = RESUBMIT if review.kind == "registration" else RESUBMIT_NAME
    else:
        remark = WELCOME
    return CaseNotice(
        conversation_id=conversation_id,
        number=NUMBER.format(id=review.id),
        noun=REVIEW_KIND_LABELS[review.kind],
        status_label=REVIEW_STATUS_LABELS[review.status],
        text=notice_text(review, customer),
        detail=_detail(review),
        case_kind="review",
        headline=HEADLINE.format(noun=noun),
        subject=name,
        remark=remark,
    )


def _conversation(session: Session, review: CustomerReview) -> str | None:
    """Where the review came from; else the customer's latest linked conversation."""
    if review.conversation_id:
        return review.conversation_id
    linked = conversation_ids(session, customer_id=review.customer_id)
    return linked[-1] if linked else None


def tell_applicant(
    session: Session,
    review: CustomerReview,
    customer: Customer,
    *,
    port: CaseNoticePort,
    actor: str,
) -> NoticeResult:
    """Tell the decided review's result and keep how (or why not) on the review; commits."""
    conversation_id = _conversation(session, review)
    if conversation_id is None:
        result = NoticeResult(how=None, reason=NO_CONVERSATION)
    else:
        notice = notice_of(review, customer, conversation_id=conversation_id)
        try:
            result = port.tell(session, notice)
        except Exception:  # the decision stands; the review says the applicant was not told
            log.exception("review notice failed review=%s", review.id)
            session.rollback()
            result = NoticeResult(how=None, reason=NOTICE_FAILED)
    reason = result.reason
    if reason is not None and result.kept:
        reason = reason.rstrip("。") + KEPT + "。"
    review.notice_how, review.notice_reason = result.how, reason
    audit.record(
        session,
        actor=actor,
        action="customer.review_notice",
        subject=subject(customer.id),
        details={
            "review_id": review.id,
            "how": result.how,
            "how_label": HOW_WORDS.get(result.how or ""),
            "reason": result.reason,
            "kept": result.kept,
        },
    )
    session.commit()
    if result.told and conversation_id:
        port.wake(conversation_id)
    log.info("review notice review=%s how=%s", review.id, result.how)
    return result


def shown_later(session: Session, *, number: str, conversation_id: str) -> None:
    """A kept result was shown at the applicant's next message (inside that transaction)."""
    try:
        review_id = int(number.removeprefix(NUMBER.format(id="")))
    except ValueError:
        return
    review = session.get(CustomerReview, review_id)
    if review is None:
        return
    review.notice_how = NEXT_CONTACT
    audit.record(
        session,
        actor="system",
        action="customer.review_notice",
        subject=subject(review.customer_id),
        details={
            "review_id": review.id,
            "how": NEXT_CONTACT,
            "how_label": "企业再次发来消息时",
            "reason": review.notice_reason,
            "conversation_id": conversation_id,
        },
    )
