"""Command line: ``python -m knowledge validate [--root DIR]`` and ``python -m knowledge hash``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from knowledge.constants import KIND_LABELS
from knowledge.store import KnowledgeError, load_knowledge
from knowledge.validate import Report, validate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="质量门诊知识库工具")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="校验知识库 YAML 数据")
    check.add_argument("--root", type=Path, default=None, help="数据目录（默认为包内 data/）")
    check.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="按此日期判断复审与废止（YYYY-MM-DD，默认今天）",
    )
    check.add_argument(
        "--real-data", action="store_true", help="正式部署数据：不要求联系方式和资质编号为示例占位"
    )
    digest = commands.add_parser("hash", help="打印知识库内容指纹（sha256）")
    digest.add_argument("--root", type=Path, default=None)
    return parser


def _print_report(report: Report) -> None:
    for problem in report.problems:
        tag = "ERROR" if problem.level == "error" else "WARN"
        print(f"{tag} {problem}", file=sys.stderr)
    counts = "，".join(f"{KIND_LABELS[k]} {n}" for k, n in report.counts.items())
    verdict = "通过" if report.ok else "未通过"
    print(
        f"知识库 {report.root}：{counts}；错误 {len(report.errors)}，"
        f"警告 {len(report.warnings)}；校验{verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "validate":
        report = validate(args.root, today=args.today, real_data=args.real_data)
        _print_report(report)
        return 0 if report.ok else 1
    try:
        print(load_knowledge(args.root).content_hash())
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
