"""The Official Account's custom menu: CLICK keys start the bot's flows by intent.

``scripts/wechat_menu.py`` creates it through WeChat's API (menu/create).
"""

from typing import Any

# CLICK key → the Rasa intent it triggers (DESIGN §4 intents).
MENU_INTENTS: dict[str, str] = {
    "QC_BROWSE_CATALOGUE": "/browse_catalogue",
    "QC_REQUEST_SERVICE": "/request_service",
    "QC_ASK_FAQ": "/ask_faq",
    "QC_REGISTER": "/start_registration",
    "QC_FILE_COMPLAINT": "/file_complaint",
    "QC_CHECK_PROGRESS": "/check_progress",
    "QC_REQUEST_HUMAN": "/request_human",
}

MENU_TITLES: dict[str, str] = {
    "QC_BROWSE_CATALOGUE": "服务目录",
    "QC_REQUEST_SERVICE": "提出服务需求",
    "QC_ASK_FAQ": "办事咨询",
    "QC_REGISTER": "在对话中注册",
    "QC_CHECK_PROGRESS": "查询办理进度",
    "QC_FILE_COMPLAINT": "我要投诉",
    "QC_REQUEST_HUMAN": "转人工专家",
}


def _click(key: str) -> dict[str, str]:
    return {"type": "click", "name": MENU_TITLES[key], "key": key}


def build_menu(web_chat_url: str | None = None) -> dict[str, Any]:
    """Three top-level entries of at most five each (WeChat's limits)."""
    expert: list[dict[str, str]] = [_click("QC_REQUEST_HUMAN")]
    if web_chat_url:
        expert.append({"type": "view", "name": "网页版咨询", "url": web_chat_url})
    return {
        "button": [
            {
                "name": "办事服务",
                "sub_button": [
                    _click("QC_BROWSE_CATALOGUE"),
                    _click("QC_REQUEST_SERVICE"),
                    _click("QC_ASK_FAQ"),
                    _click("QC_REGISTER"),
                ],
            },
            {
                "name": "进度投诉",
                "sub_button": [_click("QC_CHECK_PROGRESS"), _click("QC_FILE_COMPLAINT")],
            },
            {"name": "人工专家", "sub_button": expert},
        ]
    }


def menu_problems(menu: dict[str, Any]) -> list[str]:
    """What WeChat would refuse in a menu (names: 16 bytes top level, 60 below)."""
    problems: list[str] = []
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return ["1 to 3 top-level buttons"]
    for top in buttons:
        name = str(top.get("name", ""))
        if not name or len(name.encode()) > 16:
            problems.append(f"top-level name {name!r}")
        subs = top.get("sub_button")
        if subs is None:
            problems.extend(_leaf_problems(top))
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
            problems.append(f"{name}: 1 to 5 sub buttons")
            continue
        for sub in subs:
            sub_name = str(sub.get("name", ""))
            if not sub_name or len(sub_name.encode()) > 60:
                problems.append(f"sub name {sub_name!r}")
            problems.extend(_leaf_problems(sub))
    return problems


def _leaf_problems(button: dict[str, Any]) -> list[str]:
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key", ""))
        return [] if key and len(key.encode()) <= 128 else [f"click key {key!r}"]
    if kind == "view":
        url = str(button.get("url", ""))
        ok = url.startswith(("http://", "https://")) and len(url.encode()) <= 1024
        return [] if ok else [f"view url {url!r}"]
    return [f"button type {kind!r}"]
