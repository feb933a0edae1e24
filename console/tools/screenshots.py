"""Screenshots of the console against mocked API answers (no backend needed).

    cd console && npm run build && npx vite preview --port 4173 &
    /work/main/.venv/bin/python tools/screenshots.py http://127.0.0.1:4173/console/ OUT_DIR

Every /api route is answered by `page.route`. Each mocked answer, and each body the console
sends, is checked against the app's OpenAPI description (console/openapi.json, written by
`python -m app.openapi_dump`), so the mocks cannot drift from the real API; any mismatch is
printed and the tool exits with status 1.
"""

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from playwright.sync_api import Route, sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4173/console/"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "var/console-screenshots")
OUT.mkdir(parents=True, exist_ok=True)
OPENAPI = json.loads((Path(__file__).resolve().parent.parent / "openapi.json").read_text("utf-8"))
MISMATCHES: list[str] = []


# --- a small JSON-schema check, enough for what FastAPI writes --------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = OPENAPI["components"]["schemas"][name]
    return schema


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    schema = _resolve(schema)
    if "anyOf" in schema:
        options = [problems(value, s, where) for s in schema["anyOf"]]
        return [] if any(not p for p in options) else min(options, key=len)
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} is not {schema['const']!r}"]
    kind = schema.get("type")
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    if kind in checks and not checks[kind](value):
        return [f"{where}: {value!r} is not {kind}"]
    out: list[str] = []
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            out += problems(item, schema["items"], f"{where}[{i}]")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{where}: missing {name}")
        for name, item in value.items():
            if name in props:
                out += problems(item, props[name], f"{where}.{name}")
            elif props and schema.get("additionalProperties") is not True:
                out.append(f"{where}: {name} is not in the API")
    return out


def _operation(method: str, path: str) -> dict[str, Any] | None:
    for template, ops in OPENAPI["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return ops[method.lower()]
    return None


def check(method: str, path: str, status: int, body: Any, sent: Any) -> None:
    op = _operation(method, path)
    if op is None:
        MISMATCHES.append(f"{method} {path}: no such route in the API")
        return
    request_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if sent is not None and "schema" in request_schema:
        for p in problems(sent, request_schema["schema"]):
            MISMATCHES.append(f"{method} {path} request {p}")
    if status >= 400:
        return
    answer = op.get("responses", {}).get(str(status))
    if answer is None:
        MISMATCHES.append(f"{method} {path}: the API does not answer {status}")
        return
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema and body is not None:
        for p in problems(body, schema):
            MISMATCHES.append(f"{method} {path} answer {p}")


NOW = datetime.now(UTC)


def ago(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


def esc(
    id_,
    status,
    *,
    channel="web",
    domain="metrology",
    enterprise="苏州精工仪表有限公司",
    expert=None,
    waiting=3,
    reason="requested",
    offered=(),
):
    labels = {
        "metrology": "计量",
        "testing": "检验检测",
        "certification": "认证认可",
        "standardization": "标准化",
    }
    return {
        "id": id_,
        "conversation_id": f"conv-{id_}",
        "channel": channel,
        "reason": reason,
        "reason_label": {"requested": "用户要求转人工", "fallback": "连续未能理解"}[reason],
        "summary": "咨询压力表检定周期及送检机构",
        "status": status,
        "status_label": {
            "waiting": "等待专家接入",
            "claimed": "专家接待中",
            "closed": "已交还智能助手",
        }[status],
        "expert": expert,
        "expert_name": {"zhang": "张工", "li": "李老师"}.get(expert or ""),
        "domain": domain,
        "domain_label": labels[domain],
        "enterprise": enterprise,
        "offered_to": list(offered),
        "created_at": ago(waiting),
        "claimed_at": ago(1) if expert else None,
        "closed_at": None,
        "waiting_minutes": waiting,
        "outcome": None,
        "outcome_label": None,
        "last_message_at": ago(1),
    }


QUEUE = {
    "waiting": [
        esc(
            201,
            "waiting",
            channel="wechat",
            domain="testing",
            enterprise=None,
            waiting=12,
            reason="fallback",
        ),
        esc(
            202,
            "waiting",
            domain="certification",
            enterprise="无锡新材料科技股份有限公司",
            waiting=2,
        ),
    ],
    "claimed": [
        esc(101, "claimed", channel="wechat", expert="zhang", waiting=5),
        esc(
            102,
            "claimed",
            domain="standardization",
            enterprise="常州机电设备厂",
            expert="li",
            waiting=8,
        ),
    ],
}


def line(
    id_,
    sender,
    text,
    minutes,
    author=None,
    author_name=None,
    delivery=None,
    channel="wechat",
    buttons=(),
):
    return {
        "id": id_,
        "sender": sender,
        "text": text,
        "created_at": ago(minutes),
        "channel": channel,
        "author": author,
        "author_name": author_name,
        "delivery": delivery,
        "buttons": list(buttons),
    }


def conversation(window_open: bool):
    return {
        "escalation": QUEUE["claimed"][0],
        "transcript": [
            line(1, "user", "你好，我们厂的压力表需要多久检定一次？", 20, channel="web"),
            line(
                2,
                "bot",
                "一般压力表的检定周期不超过半年，具体以检定规程 JJG 52 为准。"
                "需要我为您推荐检定机构吗？",
                20,
                channel="web",
                buttons=[
                    {"title": "推荐检定机构", "payload": "/recommend"},
                    {"title": "转人工", "payload": "/human"},
                ],
            ),
            line(3, "user", "我们用在锅炉上的，是强制检定吗？能不能上门？", 15),
            line(4, "system", "用户要求人工服务，已转专家", 14),
            line(
                -5,
                "note",
                "该企业去年有一次逾期送检的投诉，注意解释清楚。",
                6,
                "zhang",
                "张工",
                channel="",
            ),
            line(
                6,
                "expert",
                "您好，我是计量专家张工。用于锅炉安全监控的压力表属于强制检定计量器具，需要定期送检。",
                4,
                "zhang",
                "张工",
                {"state": "sent", "errcode": None, "errmsg": None, "mode": "send"},
            ),
            line(
                7,
                "expert",
                "苏州市计量测试院可以提供上门检定服务，我稍后把联系方式发您。",
                3,
                "zhang",
                "张工",
                {
                    "state": "failed",
                    "errcode": 45047,
                    "errmsg": "out of response count limit",
                    "mode": "send",
                },
            ),
            line(
                8,
                "expert",
                "另外检定证书请妥善保存，年检时需要出示。",
                2,
                "zhang",
                "张工",
                {"state": "queued", "errcode": None, "errmsg": None, "mode": "queue"},
            ),
            line(9, "user", "好的，那费用大概多少？", 1),
        ],
        "need_summary": {
            "domain": "metrology",
            "product": "压力表（锅炉用）",
            "place": "江苏省苏州市",
            "urgency": "一周内",
            "contact_masked": "138****5678",
            "text": "企业需为锅炉用压力表办理强制检定，希望上门服务。",
        },
        "customer": {
            "id": 7,
            "name": "苏州精工仪表有限公司",
            "kind": "企业",
            "credit_code_masked": "9132****XXXX56",
            "verification": "verified",
            "verification_label": "已认证",
            "consent": True,
        },
        "demands": [
            {
                "number": "XQ20240611-0003",
                "status": "responded",
                "status_label": "已响应",
                "service_title": "压力表检定",
                "respond_by": ago(-60 * 24),
                "recommend_by": ago(-60 * 72),
                "overdue": False,
            }
        ],
        "complaints": [
            {
                "number": "TS20240102-0001",
                "status": "closed",
                "status_label": "已办结",
                "institution": "某检测有限公司",
                "deadline": ago(60 * 24 * 30),
                "overdue": False,
            }
        ],
        "window": (
            {
                "channel": "wechat",
                "free_text": True,
                "reason": None,
                "remaining": 3,
                "until": ago(-60 * 30),
                "template_available": True,
            }
            if window_open
            else {
                "channel": "wechat",
                "free_text": False,
                "reason": "用户已超过 48 小时未发消息，微信不允许再发客服消息",
                "remaining": 0,
                "until": ago(60),
                "template_available": False,
            }
        ),
    }


EXPERTS = {
    "items": [
        {
            "username": "zhang",
            "display_name": "张工",
            "domains": ["metrology", "testing"],
            "domain_labels": ["计量", "检验检测"],
            "presence": "online",
            "presence_label": "在线",
            "active_consultations": 1,
        },
        {
            "username": "li",
            "display_name": "李老师",
            "domains": ["standardization"],
            "domain_labels": ["标准化"],
            "presence": "online",
            "presence_label": "在线",
            "active_consultations": 1,
        },
        {
            "username": "wang",
            "display_name": "王研究员",
            "domains": ["certification", "quality", "ip"],
            "domain_labels": ["认证认可", "质量管理", "知识产权"],
            "presence": "away",
            "presence_label": "离开",
            "active_consultations": 0,
        },
    ]
}

CANNED = [
    {
        "id": 1,
        "shortcut": "问候",
        "title": "开场问候",
        "text": "您好，我是质量门诊的专家，很高兴为您服务。",
        "scope": "shared",
        "owner": None,
    },
    {
        "id": 2,
        "shortcut": "检定周期",
        "title": "压力表检定周期",
        "text": "压力表检定周期一般不超过 6 个月。",
        "scope": "personal",
        "owner": "zhang",
    },
]

SUGGESTIONS = {
    "query": "好的，那费用大概多少？",
    "results": [
        {
            "id": "faq-12",
            "kind": "常见问题",
            "title": "压力表检定收费标准",
            "text": "压力表检定按照各地物价部门核定的收费标准执行，"
            "一般每块数十元，上门服务另收差旅费。",
            "score": 0.82,
        },
        {
            "id": "svc-3",
            "kind": "服务",
            "title": "压力表检定（上门）",
            "text": "苏州市计量测试院提供上门检定，预约后 3 个工作日内安排。",
            "score": 0.71,
        },
    ],
}


# page.route cannot hold a response open, so a real EventSource would see the mocked stream end
# and keep reconnecting. This one reads the mocked stream once (through the same route) and then
# stays open, as the app's long-lived stream does.
HELD_EVENT_SOURCE = """
window.EventSource = class {
  static CONNECTING = 0; static OPEN = 1; static CLOSED = 2
  constructor(url) {
    this.url = url; this.readyState = 0; this.onopen = null; this.onerror = null; this.handlers = {}
    fetch(url).then((r) => r.text()).then((text) => {
      if (this.readyState === 2) return
      this.readyState = 1
      this.onopen?.(new Event('open'))
      for (const block of text.split('\\n\\n')) {
        let name = 'message', id = ''
        const data = []
        for (const line of block.split('\\n')) {
          if (line.startsWith('event: ')) name = line.slice(7)
          else if (line.startsWith('data: ')) data.push(line.slice(6))
          else if (line.startsWith('id: ')) id = line.slice(4)
        }
        if (!data.length) continue
        const event = new MessageEvent(name, { data: data.join('\\n'), lastEventId: id })
        for (const h of this.handlers[name] ?? []) h(event)
      }
    })
  }
  addEventListener(name, handler) { (this.handlers[name] ??= []).push(handler) }
  close() { this.readyState = 2 }
}
"""


def demand_public(draft):
    return {
        "id": 12,
        "number": "XQ20240612-0007",
        "status": "submitted",
        "status_label": "已提交",
        "channel": "wechat",
        "conversation_id": "conv-101",
        "created_at": ago(0),
        "need_text": draft["need_text"],
        "product": draft["product"],
        "place": draft["place"],
        "contact_name": draft["contact_name"],
        "contact_mobile": "138****5678",
        "quantity": draft.get("quantity"),
        "wanted_date": draft.get("wanted_date"),
        "service_mode": draft.get("service_mode"),
        "company_name": draft.get("company_name"),
        "credit_code": draft.get("credit_code"),
        "service_ids": draft.get("service_ids", []),
        "institution_ids": [],
        "chosen_institution_id": None,
        "recommended_by": "staff",
        "respond_due": ago(-60 * 24)[:10],
        "recommend_due": ago(-60 * 72)[:10],
        "respond_overdue": False,
        "recommend_overdue": False,
    }


def install_mocks(page, *, role="expert", must_change=False, window_open=True):
    me = {
        "username": "zhang" if role == "expert" else "admin",
        "display_name": "张工" if role == "expert" else "管理员",
        "role": role,
        "must_change_password": must_change,
        "domains": ["metrology"],
        "presence": "online",
    }
    canned = [dict(c) for c in CANNED]

    def handle(route: Route):
        req = route.request
        url = req.url.split("/api/", 1)[1]
        path, _, query = url.partition("?")
        method = req.method
        try:
            sent = json.loads(req.post_data) if req.post_data else None
        except ValueError:
            sent = None

        def ok(body, status=200):
            check(method, "/api/" + path, status, body, sent)
            if status == 204:
                return route.fulfill(status=204, body="")
            route.fulfill(
                status=status,
                content_type="application/json",
                body=json.dumps(body, ensure_ascii=False),
            )

        if path == "auth/login":
            if (sent or {}).get("password") != "secret-password":
                return ok(
                    {"detail": {"code": "bad_credentials", "message": "用户名或密码不正确"}}, 401
                )
            return ok(
                {
                    "token": "t",
                    "expires_at": ago(-600),
                    "role": role,
                    "username": me["username"],
                    "display_name": me["display_name"],
                    "must_change_password": must_change,
                }
            )
        if path == "auth/me":
            return ok({"username": me["username"], "role": role})
        if path == "auth/profile":
            return ok(me)
        if path == "console/stream-ticket":
            return ok({"ticket": "tk", "expires_in_s": 60})
        if path == "console/stream":
            new = esc(203, "waiting", domain="metrology", enterprise="昆山电子有限公司", waiting=0)
            check("GET", "/api/escalations/203", 200, new, None)  # the event is EscalationPublic
            body = (
                "retry: 100000\n\n: ping\n\nid: e41m1207\nevent: escalation\ndata: "
                + json.dumps(new, ensure_ascii=False)
                + "\n\n"
            )
            return route.fulfill(
                status=200, headers={"Content-Type": "text/event-stream"}, body=body
            )
        if path == "escalations":
            status = "waiting" if "waiting" in query else "claimed"
            return ok({"items": QUEUE[status]})
        if path.endswith("/conversation"):
            return ok(conversation(window_open))
        if path.endswith("/suggestions"):
            return ok(SUGGESTIONS)
        if path == "canned-replies" and method == "POST":
            reply = {
                "id": max([c["id"] for c in canned], default=0) + 1,
                "owner": None if sent.get("scope") == "shared" else me["username"],
                "scope": sent.get("scope", "personal"),
                **{k: sent[k] for k in ("shortcut", "title", "text")},
            }
            canned.append(reply)
            return ok(reply, 201)
        if path == "canned-replies":
            q = parse_qs(query).get("q", [""])[0]
            items = [c for c in canned if not q or q in c["shortcut"] + c["title"] + c["text"]]
            return ok({"items": items})
        if path.startswith("canned-replies/") and method == "DELETE":
            reply_id = int(path.rsplit("/", 1)[1])
            canned[:] = [c for c in canned if c["id"] != reply_id]
            return ok(None, 204)
        if path.endswith("/claim"):
            # the race's loser: another expert claimed it first
            return ok(
                {"detail": {"code": "illegal_transition", "message": "该会话已由李老师接入。"}}, 409
            )
        if path.endswith("/demand") and method == "POST":
            return ok(demand_public(sent), 201)
        if path.endswith("/knowledge-draft"):
            return ok({"id": 31, "status": "draft", "domain": "metrology", **sent}, 201)
        if path == "experts":
            return ok(EXPERTS)
        if path.endswith("/demand-draft"):
            return ok(
                {
                    "need_text": "锅炉用压力表强制检定，希望上门",
                    "product": "压力表",
                    "place": "江苏省苏州市",
                    "contact_name": "陈先生",
                    "contact_mobile": "138****5678",
                    "quantity": None,
                    "wanted_date": None,
                    "service_mode": "上门",
                    "company_name": "苏州精工仪表有限公司",
                    "credit_code": None,
                    "service_ids": ["svc-3"],
                }
            )
        return ok({"detail": {"code": "not_mocked", "message": "未模拟"}}, 404)

    page.add_init_script(HELD_EVENT_SOURCE)
    page.route("**/api/**", handle)


def shot(page, name):
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(path)


with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )
    viewport = {"width": 1366, "height": 768}

    # login, with a wrong password
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    install_mocks(page)
    page.goto(BASE + "login")
    page.get_by_label("用户名").fill("zhang")
    page.get_by_label("密码", exact=True).fill("wrong")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码不正确").wait_for()
    shot(page, "01-login-error")

    # log in properly: the queue and a conversation with an open WeChat window
    page.get_by_label("密码", exact=True).fill("secret-password")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("待认领").first.wait_for()
    page.wait_for_timeout(500)
    shot(page, "02-queue")
    page.goto(BASE + "consultations/101")
    page.get_by_text("我们用在锅炉上的").wait_for()
    page.wait_for_timeout(600)
    shot(page, "03-conversation")
    page.get_by_role("log", name="对话记录").evaluate("el => { el.scrollTop = 0 }")
    page.wait_for_timeout(200)
    shot(page, "03b-transcript-start")
    print("title:", page.title())

    # canned replies with "/"
    box = page.get_by_label("回复内容")
    box.click()
    box.type("/检")
    page.wait_for_timeout(800)
    shot(page, "04-canned")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    print("after canned insert:", box.input_value())
    box.fill("")

    # suggestions tab
    page.get_by_role("tab", name="建议答案 2").click()
    page.wait_for_timeout(300)
    shot(page, "05-suggestions")

    # private note mode
    page.get_by_text("私密备注", exact=True).first.click()
    page.wait_for_timeout(200)
    shot(page, "06-note-mode")

    # dialogs
    page.get_by_role("button", name="转给同事").click()
    page.get_by_role("dialog").get_by_text("专家").first.wait_for()
    page.locator(".el-dialog .el-select").click()
    page.wait_for_timeout(400)
    shot(page, "07-transfer")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    page.wait_for_timeout(400)
    page.get_by_role("button", name="结束咨询").click()
    page.wait_for_timeout(400)
    shot(page, "08-close")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    page.wait_for_timeout(400)
    page.get_by_role("button", name="为企业提交需求").click()
    page.wait_for_timeout(600)
    shot(page, "09-demand")
    page.get_by_role("dialog").get_by_role("button", name="提交需求").click()
    page.get_by_text("需求已提交，编号 XQ20240612-0007").wait_for()
    page.wait_for_timeout(400)
    page.get_by_role("button", name="存为知识草稿").click()
    page.wait_for_timeout(400)
    shot(page, "10-knowledge")
    page.get_by_role("dialog").get_by_role("button", name="存为草稿").click()
    page.get_by_text("已存为知识草稿").wait_for()
    page.wait_for_timeout(3500)  # the messages fade

    # canned replies management, from the reply box
    page.get_by_role("button", name="管理常用回复").click()
    page.get_by_role("dialog", name="管理常用回复").get_by_text("/检定周期").wait_for()
    page.wait_for_timeout(400)
    shot(page, "16-canned-manage")
    page.get_by_role("button", name="添加常用回复").click()
    add = page.get_by_role("dialog", name="添加常用回复")
    add.get_by_label("快捷词").fill("上门")
    add.get_by_label("标题").fill("上门检定说明")
    add.get_by_label("内容").fill("上门检定需提前 3 个工作日预约，请准备好设备清单。")
    add.get_by_text("共享（所有人可用）").hover()
    page.wait_for_timeout(400)
    shot(page, "17-canned-add")
    add.get_by_role("button", name="保存").click()
    page.get_by_text("已添加常用回复 /上门").wait_for()
    page.get_by_role("dialog", name="管理常用回复").get_by_text("/上门", exact=True).wait_for()
    page.wait_for_timeout(300)
    shot(page, "18-canned-added")
    page.get_by_role("dialog", name="管理常用回复").get_by_role(
        "button", name="关闭", exact=True
    ).click()
    page.wait_for_timeout(3000)

    # a claim lost to a colleague: the API's message, and the queue reloads
    page.get_by_role("tab", name="待认领").click()
    page.get_by_role("button", name="认领").first.click()
    page.get_by_text("该会话已由李老师接入。").wait_for()
    page.wait_for_timeout(200)
    shot(page, "19-claim-lost")
    ctx.close()

    # closed WeChat window
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    ctx.add_init_script(
        "localStorage.setItem('qclinic.console.token','t');localStorage.setItem('qclinic.console.expires_at','2999-01-01T00:00:00Z')"
    )
    page = ctx.new_page()
    install_mocks(page, window_open=False)
    page.goto(BASE + "consultations/101")
    page.get_by_text("我们用在锅炉上的").wait_for()
    page.wait_for_timeout(600)
    shot(page, "11-window-closed")
    page.locator("button:has-text('发送模板消息')").hover(force=True)
    page.get_by_text("发送模板消息").first.hover()
    page.wait_for_timeout(500)
    shot(page, "12-template-tooltip")
    ctx.close()

    # admin: domains page, and a forced password change
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    ctx.add_init_script(
        "localStorage.setItem('qclinic.console.token','t');localStorage.setItem('qclinic.console.expires_at','2999-01-01T00:00:00Z')"
    )
    page = ctx.new_page()
    install_mocks(page, role="admin")
    page.goto(BASE + "experts")
    page.get_by_text("王研究员").wait_for()
    page.wait_for_timeout(300)
    shot(page, "13-admin-domains")
    page.goto(BASE + "consultations/102")
    page.get_by_text("我们用在锅炉上的").wait_for()
    page.wait_for_timeout(500)
    shot(page, "14-admin-conversation")
    ctx.close()

    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    ctx.add_init_script(
        "localStorage.setItem('qclinic.console.token','t');localStorage.setItem('qclinic.console.expires_at','2999-01-01T00:00:00Z')"
    )
    page = ctx.new_page()
    install_mocks(page, role="admin", must_change=True)
    page.goto(BASE + "consultations")
    page.get_by_text("请先修改密码").wait_for()
    shot(page, "15-must-change-password")
    ctx.close()
    browser.close()

if MISMATCHES:
    print("mocks or requests that differ from the API:", file=sys.stderr)
    for m in dict.fromkeys(MISMATCHES):
        print("  " + m, file=sys.stderr)
    sys.exit(1)
print("all mocked answers and sent bodies match console/openapi.json")
