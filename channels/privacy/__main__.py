"""``python -m channels.privacy purge``: the retention purge for operators (PIPL Art. 19).

Without options it does what the app's daily job does, now, under the same lease (so it never
runs beside a replica's); ``--all`` looks at every row older than the retention again, not only
those that aged past it since the last run (after restoring a backup, say); ``--days`` overrides
``QCLINIC_RETENTION_DAYS`` for this run. Prints counts only.
"""

import argparse
import sys
from datetime import timedelta

from channels.models import utcnow
from channels.privacy.erase import tracker_engine
from channels.privacy.retention import purge, run_scheduled
from channels.settings import get_channel_settings
from desk.db import get_sessionmaker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.privacy")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("purge", help="删除超过保存期限的个人信息（只输出数量）")
    run.add_argument("--days", type=int, default=None, help="保存期限（天），默认取设置")
    run.add_argument("--all", action="store_true", help="重新检查全部超期记录")
    args = parser.parse_args(argv)
    settings = get_channel_settings()
    assert settings.database_url is not None
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print("保存期限至少为 1 天。", file=sys.stderr)
        return 2
    sessions = get_sessionmaker(settings.database_url)
    tracker = tracker_engine(settings.database_url)
    retention = timedelta(days=days)
    if args.all:
        with sessions() as session:
            report = purge(session, tracker, cutoff=utcnow() - retention)
    else:
        found = run_scheduled(sessions, tracker, retention=retention, every=timedelta(0))
        if found is None:
            print("另一个进程正在执行清理，本次未执行。")
            return 1
        report = found
    print(f"已清理超过 {days} 天的个人信息：{report.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
