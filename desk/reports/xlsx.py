"""Every table of the dashboard as an XLSX sheet: a title row, the header, the rows.

Cells hold numbers as numbers (rates as percentages with a percent format) so staff can go on
calculating in the spreadsheet; an empty rate is an empty cell, never 0.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from desk.clock import CHINA
from desk.reports.schemas import LevelRow, Rate

PERCENT = "0.0%"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    width: int = 12
    percent: bool = False


@dataclass(frozen=True)
class Sheet:
    title: str  # the sheet's name (≤ 31 characters) and its first row
    columns: Sequence[Column]
    rows: Sequence[Any]
    note: str = ""  # the period and what counts, under the title


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=CHINA)
        return moment.astimezone(CHINA).replace(tzinfo=None)
    return value


def _write(ws: Worksheet, sheet: Sheet) -> None:
    ws.title = sheet.title[:31]
    ws.append([sheet.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([sheet.note])
    ws.append([c.header for c in sheet.columns])
    for i, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=3, column=i)
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = column.width
    for number, row in enumerate(sheet.rows, start=4):  # ws.max_row is a scan: count instead
        ws.append([_cell(c.value(row)) for c in sheet.columns])
        for i, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=number, column=i)
            if column.percent:
                cell.number_format = PERCENT
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A4"


def workbook(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook()
    first = True
    for sheet in sheets:
        ws = book.active if first else book.create_sheet()
        assert ws is not None
        _write(ws, sheet)
        first = False
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the dashboard's tables -------------------------------------------------------------------


def _rate_columns(name: str, label: str) -> list[Column]:
    def get(row: LevelRow) -> Rate:
        return getattr(row, name)  # type: ignore[no-any-return]

    return [
        Column(f"{label}应计", lambda r: get(r).measured, 9),
        Column(f"{label}按时", lambda r: get(r).on_time, 9),
        Column(f"{label}按时率", lambda r: get(r).rate, 11, percent=True),
    ]


def level_columns(first: str) -> list[Column]:
    return [
        Column(first, lambda r: r.label, 22),
        Column("需求数", lambda r: r.demands, 9),
        *_rate_columns("responded", "1日响应"),
        *_rate_columns("recommended", "3日推荐"),
        Column("投诉数", lambda r: r.complaints, 9),
        *_rate_columns("investigated", "7日核实办结"),
        Column("投诉已办结", lambda r: r.complaint_satisfaction.closed, 10),
        Column("投诉人满意", lambda r: r.complaint_satisfaction.satisfied, 10),
        Column("投诉人不满意", lambda r: r.complaint_satisfaction.unsatisfied, 11),
        Column("投诉人未答复", lambda r: r.complaint_satisfaction.unanswered, 11),
        Column("投诉满意率", lambda r: r.complaint_satisfaction.rate, 11, percent=True),
        Column("评价数", lambda r: r.satisfaction.count, 9),
        Column("流程", lambda r: r.satisfaction.process, 8),
        Column("效率", lambda r: r.satisfaction.efficiency, 8),
        Column("态度", lambda r: r.satisfaction.attitude, 8),
        Column("总体", lambda r: r.satisfaction.overall, 8),
    ]


def escalation_columns(first: str) -> list[Column]:
    return [
        Column(first, lambda r: r.label, 18),
        Column("转人工数", lambda r: r.count, 10),
        Column("专家接入", lambda r: r.claimed, 10),
        Column("未接入结束", lambda r: r.unclaimed, 11),
        Column("仍在等待", lambda r: r.waiting_now, 10),
        Column("等待中位数（分钟）", lambda r: r.median_wait_minutes, 14),
        Column("等待90分位（分钟）", lambda r: r.p90_wait_minutes, 14),
        Column("平均等待（分钟）", lambda r: r.mean_wait_minutes, 14),
    ]


def unanswered_columns() -> list[Column]:
    return [
        Column("用户问题（最常见说法）", lambda r: r.text, 40),
        Column("次数", lambda r: r.count, 8),
        Column("会话数", lambda r: r.conversations, 8),
        Column("类型", lambda r: "、".join(r.kinds), 20),
        Column("不同说法", lambda r: r.variants, 9),
        Column("首次出现", lambda r: r.first_at, 17),
        Column("最近出现", lambda r: r.last_at, 17),
    ]
