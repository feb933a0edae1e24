"""`make run`: start the assistant on localhost, print the URLs, stop cleanly on Ctrl-C."""

import signal
import sys
import time

from app.settings import get_settings
from app.stack import Stack
from app.supervisor import Supervisor


def main() -> int:
    settings = get_settings()
    stack = Stack(settings=settings, log_dir=settings.var_dir / "logs")
    # Stop on Ctrl-C even when started from a shell that ignores SIGINT, and on TERM alike.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.perf_counter()
    print("正在启动 Rasa 服务、动作服务与应用（首次加载模型约需半分钟）…", flush=True)
    stack.start()
    try:
        stack.wait_ready()
        stack.warm()  # the first enterprise waits no longer than the others
        print(f"\n质量门诊已启动（{time.perf_counter() - started:.0f} 秒）:")
        print(f"  网页聊天   {settings.desk_url}/")
        print(f"  控制台     {settings.desk_url}/console/  （专家、工作人员、管理员）")
        print(f"  接口文档   {settings.desk_url}/docs")
        print(f"  检索接口   {settings.desk_url}/api/search?q=电线电缆检测")
        print(f"  Rasa 服务  {settings.rasa_url}  (token: var/secrets/rasa_token)")
        print(f"  日志目录   {stack.log_dir}")
        print("按 Ctrl-C 停止。", flush=True)
        supervisor = Supervisor(
            processes=dict(stack.processes),
            start=stack.start_one,
            say=lambda line: print(f"{line}，详见 {stack.log_dir}", file=sys.stderr, flush=True),
        )
        while True:  # a part that exits is started again, with backoff (app.supervisor)
            supervisor.check()
            time.sleep(0.5)
    except (RuntimeError, TimeoutError) as exc:
        print(f"启动失败：{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("\n正在停止…", flush=True)
        stack.stop()
        print("已停止。")


if __name__ == "__main__":
    sys.exit(main())
