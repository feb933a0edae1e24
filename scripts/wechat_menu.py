#!/usr/bin/env python3
"""Create the Official Account's custom menu through WeChat's API (menu/create).

    .venv/bin/python scripts/wechat_menu.py [--web-url https://…/] [--dry-run]

Credentials and the API base come from the settings (QCLINIC_WECHAT_APP_ID,
QCLINIC_WECHAT_APP_SECRET, QCLINIC_WECHAT_API_BASE, QCLINIC_REDIS_URL for the shared token).
CLICK keys map to the bot's intents in channels/wechat/menu.py.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.settings import AppSettings
from channels.wechat.client import ApiClient, WeChatApiError, storage_and_lock
from channels.wechat.menu import build_menu, menu_problems


def main(argv: list[str] | None = None, settings: AppSettings | None = None) -> int:
    parser = argparse.ArgumentParser(description="创建公众号自定义菜单")
    parser.add_argument("--web-url", help="网页版咨询的地址（VIEW 菜单），省略则不加")
    parser.add_argument("--dry-run", action="store_true", help="只打印菜单，不调用接口")
    args = parser.parse_args(argv)
    menu = build_menu(args.web_url)
    problems = menu_problems(menu)
    if problems:
        print("菜单不符合微信的限制：" + "；".join(problems), file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    settings = settings or AppSettings()
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        print("请先设置 QCLINIC_WECHAT_APP_ID 和 QCLINIC_WECHAT_APP_SECRET。", file=sys.stderr)
        return 2
    storage, lock = storage_and_lock(settings.redis_url, settings.wechat_app_id)
    client = ApiClient(
        settings.wechat_app_id,
        settings.wechat_app_secret.get_secret_value(),
        api_base=settings.wechat_api_base,
        timeout_s=settings.wechat_api_timeout_s,
        storage=storage,
        lock=lock,
    )
    try:
        client.create_menu(menu)
    except WeChatApiError as exc:
        print(f"创建菜单失败：微信返回 {exc.errcode} {exc.errmsg}", file=sys.stderr)
        return 1
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        print(f"创建菜单失败：无法连接微信接口（{exc.__class__.__name__}）", file=sys.stderr)
        return 1
    print("自定义菜单已创建：" + "、".join(b["name"] for b in menu["button"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
