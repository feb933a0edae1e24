"""Command line of the knowledge base.

``python -m knowledge validate | hash | review | export | import`` (see knowledge/README.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from knowledge.constants import KIND_LABELS, KINDS
from knowledge.exchange import FORMATS, ExchangeError, ImportResult, export_entries, import_file
from knowledge.review import review_queue
from knowledge.store import KnowledgeError, load_knowledge
from knowledge.validate import Report, validate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="质量门诊知识库工具")
    commands = parser.add_subparsers(dest="command", required=True)
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument("--root", type=Path, default=None, help="数据目录（默认为包内 data/）")
    today = argparse.ArgumentParser(add_help=False)
    today.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="按此日期判断复审与废止（YYYY-MM-DD，默认今天）",
    )
    real = argparse.ArgumentParser(add_help=False)
    real.add_argument(
        "--real-data", action="store_true", help="正式部署数据：不要求联系方式和资质编号为示例占位"
    )
    commands.add_parser("validate", parents=[root, today, real], help="校验知识库 YAML 数据")
    commands.add_parser("hash", parents=[root], help="打印知识库内容指纹（sha256）")
    review = commands.add_parser("review", parents=[root, today], help="列出待复审的条目")
    review.add_argument("--owner", help="只看某个负责人的条目")
    export = commands.add_parser(
        "export", parents=[root], help="导出为 CSV 或 XLSX（一行一个条目）"
    )
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--kind", choices=KINDS, required=True)
    export.add_argument("--out", type=Path, required=True)
    load = commands.add_parser(
        "import", parents=[root, today, real], help="从 CSV 或 XLSX 导入；整份文件无误才写入"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--kind", choices=KINDS, help="文件没有“类别”列时指定")
    load.add_argument("--dry-run", action="store_true", help="只检查，不写入")
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


def _print_import(path: Path, result: ImportResult) -> None:
    for problem in sorted(result.errors, key=lambda p: p.line):
        print(f"ERROR {problem}", file=sys.stderr)
    for problem in result.warnings:
        print(f"WARN {problem}", file=sys.stderr)
    counts = (
        f"{result.rows} 行：新增 {len(result.created)}，更新 {len(result.updated)}，"
        f"未变 {len(result.unchanged)}"
    )
    if result.errors:
        print(f"导入 {path.name} 未通过：错误 {len(result.errors)}，知识库未做任何修改")
    elif result.written:
        print(f"导入 {path.name} 完成：{counts}")
    elif not (result.created or result.updated):
        print(f"导入 {path.name} 检查通过，内容无变化：{counts}")
    else:
        print(f"导入 {path.name} 检查通过（未写入）：{counts}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "validate":
        report = validate(args.root, today=args.today, real_data=args.real_data)
        _print_report(report)
        return 0 if report.ok else 1
    if args.command == "import":
        result = import_file(
            args.file,
            root=args.root,
            kind=args.kind,
            today=args.today,
            real_data=args.real_data,
            dry_run=args.dry_run,
        )
        _print_import(args.file, result)
        return 0 if result.ok else 1
    try:
        knowledge = load_knowledge(args.root)
        if args.command == "hash":
            print(knowledge.content_hash())
        elif args.command == "review":
            items = review_queue(knowledge.entries(), args.today or date.today(), owner=args.owner)
            for item in items:
                print(f"{item.owner}\t{item.line()}")
            print(f"待复审 {len(items)} 条，其中暂停检索服务 {sum(i.withheld for i in items)} 条")
        else:
            count = export_entries(list(knowledge.entries()), args.kind, args.out)
            print(f"已导出 {count} 条{KIND_LABELS[args.kind]}到 {args.out}")
    except (KnowledgeError, ExchangeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
