"""Map domain and validation errors to JSON a person and a machine can read."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from desk.db import database_away
from desk.errors import DeskError

DATABASE_AWAY = "系统正在恢复，请稍后重试。"

_FIELD_NAMES = {
    "conversation_id": "会话编号",
    "text": "消息内容",
    "contact_mobile": "手机号码",
    "contact_name": "联系人",
    "product": "产品或对象",
    "place": "所在区域",
    "need_text": "需求描述",
    "q": "查询文本",
    "k": "返回条数",
    "institution_name": "被投诉机构",
    "complaint_type": "投诉类型",
    "content": "投诉内容",
    "demand": "投诉人要求",
    "channel": "投诉渠道",
    "received_on": "受理日期",
    "follow_up_code": "查询码",
    "resolution": "处理意见",
    "note": "备注",
    "to": "目标状态",
    "kind": "类型",
    "name": "名称",
    "mobile": "手机号码",
    "credit_code": "统一社会信用代码",
    "id_number": "身份证号码",
    "new_name": "新名称",
    "changed_on": "变更日期",
    "document_ids": "材料编号",
    "decision": "审核结果",
    "reason": "原因",
    "notice_version": "隐私告知版本",
    "agreed": "是否同意",
    "verification": "审核状态",
    "month": "月份",
    "start": "起始月份",
    "end": "截止月份",
    "customer_id": "用户编号",
    "review_id": "申请编号",
    "document_id": "材料编号",
}


def _describe(error: dict) -> str:  # type: ignore[type-arg]
    field = next((str(p) for p in reversed(error.get("loc", ())) if isinstance(p, str)), "")
    label = _FIELD_NAMES.get(field, field or "请求")
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if error.get("type") == "missing":
        return f"{label}不能为空"
    if error.get("type") in {"string_too_long", "too_long"}:
        return f"{label}过长"
    if error.get("type") in {"string_too_short", "too_short"}:
        return f"{label}不能为空"
    if error.get("type") == "string_pattern_mismatch":
        return f"{label}格式不正确"
    if any("\u4e00" <= ch <= "\u9fff" for ch in message):
        return message if message.startswith(label) else f"{label}：{message}"
    return f"{label}无效"


def install(app: FastAPI) -> None:
    @app.exception_handler(DeskError)
    async def _desk_error(_request: Request, exc: DeskError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"detail": {"code": exc.code, "message": exc.message}}
        )

    @app.exception_handler(DBAPIError)
    async def _database(_request: Request, exc: DBAPIError) -> JSONResponse:
        """The database away for longer than a transaction waits for it (desk.db)."""
        if not database_away(exc):
            raise exc
        return JSONResponse(
            status_code=503,
            content={"detail": {"code": "database_unavailable", "message": DATABASE_AWAY}},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        messages = [_describe(e) for e in errors]
        return JSONResponse(
            status_code=422,
            content={
                "detail": {
                    "code": "invalid_input",
                    "message": "；".join(dict.fromkeys(messages)) or "请求格式不正确",
                    "errors": [
                        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": m}
                        for e, m in zip(errors, messages, strict=True)
                    ],
                }
            },
        )
