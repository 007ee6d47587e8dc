"""Read a rendered table back as text cells (what a person sees on the page)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Table(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # >0 inside the wanted table
        self.section = ""
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.row_attrs: list[dict[str, str | None]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.depth:
                self.depth += 1
            elif dict(attrs).get("id") == self.table_id:
                self.depth = 1
            return
        if not self.depth:
            return
        if tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr" and self.section == "tbody":
            self.rows.append([])
            self.row_attrs.append(dict(attrs))
        elif tag in ("td", "th") and self.section:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("thead", "tbody"):
            self.section = ""
        elif tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.headers if self.section == "thead" else self.rows[-1]).append(text)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, table_id: str) -> tuple[list[list[str]], list[dict[str, str | None]]]:
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows, parser.row_attrs


OVERDUE_COLUMNS = ["预警", "类型", "规划", "地区", "编号", "任务 / 节点", "牵头单位", "截止日期", "逾期天数", "任务状态",
                   "进度", "预警日期"]


def overdue_rows(html: str) -> list[list[str]]:
    """The overdue list's rows as its twelve alert columns, whatever other columns the page adds."""
    parser = _Table("overdue-table")
    parser.feed(html)
    headers = [h.rstrip(" ↑↓") for h in parser.headers]
    picks = [headers.index(c) for c in OVERDUE_COLUMNS]
    return [[row[i] for i in picks] for row in parser.rows if len(row) == len(headers)]
