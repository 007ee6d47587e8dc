"""The Excel export holds exactly the filtered list, safely and in local formats."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.planning.models import Plan
from tracker.scheduler import run_job
from tracker.spreadsheets import DATE_FORMAT
from tracker.system.models import JobStatus
from tracker.timeutil import format_date

from ..conftest import login
from .html import overdue_rows
from .world import World


def _days_text(n: int) -> str:
    return f"逾期{n}天" if n > 0 else ("今日到期" if n == 0 else f"剩{-n}天")


def _page_rows(client: FlaskClient, query: str) -> list[list[str]]:
    return overdue_rows(client.get("/alerts/overdue" + query).get_data(as_text=True))


def _workbook(client: FlaskClient, query: str):  # type: ignore[no-untyped-def]
    response = client.get("/alerts/overdue/export.xlsx" + query)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def _as_page_cells(values: tuple) -> list[str]:  # type: ignore[type-arg]
    """A workbook row in the page's words, to compare with the page's table."""
    (_, level, kind, plan, region, code, title, milestone, department, _person, deadline, days, status, progress,
     raised) = values
    return [level, kind, plan, region, code, title + (f" 节点：{milestone}" if milestone else ""), department or "",
            format_date(deadline), _days_text(days), status, f"{progress}%{progress}%", format_date(raised)]


@pytest.fixture
def scanned(demo: Flask) -> Flask:
    run = run_job(demo, "scan")
    assert run.status == JobStatus.SUCCEEDED, run.error
    return demo


@pytest.mark.parametrize("query", ["", "?level=severe", "?kind=milestone&sort=department",
                                   "?days_min=10&days_max=400&sort=deadline&dir=desc"])
def test_the_exported_workbook_equals_the_filtered_page(scanned: Flask, query: str) -> None:
    client = scanned.test_client()
    login(client, "zj_supervisor")
    page = _page_rows(client, query)
    assert page, "the demo data has alerts for this filter"
    sheet = _workbook(client, query)["逾期清单"]
    data = [row for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert [r[0] for r in data] == list(range(1, len(data) + 1))
    assert [_as_page_cells(r) for r in data] == page


def test_export_holds_every_page(scanned: Flask) -> None:
    scanned.config["PAGE_SIZE"] = 5
    client = scanned.test_client()
    login(client, "zj_supervisor")
    first = _page_rows(client, "")
    html = client.get("/alerts/overdue").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条", html).group(1))  # type: ignore[union-attr]
    pages = [row for n in range(1, (total + 4) // 5 + 1) for row in _page_rows(client, f"?page={n}")]
    assert pages[:5] == first and len(pages) == total
    sheet = _workbook(client, "")["逾期清单"]
    assert [_as_page_cells(r) for r in sheet.iter_rows(min_row=4, values_only=True)] == pages


def test_printing_all_puts_every_filtered_row_on_one_page(scanned: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """打印全部: the list with its filters on one page (up to the limit, which the page then says), the same rows
    as the pages one by one."""
    scanned.config["PAGE_SIZE"] = 5
    client = scanned.test_client()
    login(client, "zj_supervisor")
    html = client.get("/alerts/overdue?level=severe&sort=deadline").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条", html).group(1))  # type: ignore[union-attr]
    assert total > 5 and 'href="/alerts/overdue?level=severe&amp;sort=deadline&amp;print=all">打印全部' in html
    pages = [row for n in range(1, (total + 4) // 5 + 1) for row in _page_rows(client, f"?level=severe&sort=deadline&page={n}")]
    whole = client.get("/alerts/overdue?level=severe&sort=deadline&print=all&page=3").get_data(as_text=True)
    assert f"共 {total} 条，已全部列出供打印" in whole and "打印全部" not in whole
    assert _page_rows(client, "?level=severe&sort=deadline&print=all") == pages
    monkeypatch.setattr("tracker.alerts.views.PRINT_ALL_LIMIT", 4)
    capped = client.get("/alerts/overdue?level=severe&sort=deadline&print=all").get_data(as_text=True)
    assert f"共 {total} 条，打印前 4 条" in capped
    assert _page_rows(client, "?level=severe&sort=deadline&print=all") == pages[:4]


def test_printing_all_of_a_paged_list(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = demo.test_client()
    login(client, "zj_planner")
    html = client.get("/reports").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条", html).group(1))  # type: ignore[union-attr]
    assert total > 50 and "打印全部" in html
    whole = client.get("/reports?print=all").get_data(as_text=True)
    assert f"共 {total} 条，已全部列出供打印" in whole and whole.count('href="/reports/') >= total
    monkeypatch.setattr("tracker.web.PRINT_ALL_LIMIT", 7)
    assert "打印前 7 条" in client.get("/reports?print=all").get_data(as_text=True)


def test_the_csv_holds_the_same_rows_as_the_workbook(scanned: Flask) -> None:
    client = scanned.test_client()
    login(client, "zj_supervisor")
    response = client.get("/alerts/overdue/export.csv?level=severe&sort=department")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0][0] == "逾期清单（浙江省及下辖地区）" and "预警等级：严重逾期" in lines[0][1]
    assert lines[1][:3] == ["序号", "预警等级", "类型"]
    sheet = _workbook(client, "?level=severe&sort=department")["逾期清单"]
    expected = [[("" if v is None else v.date().isoformat() if isinstance(v, datetime) else str(v)) for v in row]
                for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert lines[2:] == expected and len(expected) > 0


def test_the_page_links_both_exports_with_its_filters(scanned: Flask) -> None:
    client = scanned.test_client()
    login(client, "zj_supervisor")
    html = client.get("/alerts/overdue?level=severe&page=2&fmt=csv").get_data(as_text=True)
    assert 'href="/alerts/overdue/export.xlsx?level=severe"' in html
    assert 'href="/alerts/overdue/export.csv?level=severe"' in html
    assert client.get("/alerts/overdue/export.pdf").status_code == 404


def test_the_workbook_layout(scanned: Flask) -> None:
    client = scanned.test_client()
    login(client, "zj_supervisor")
    with scanned.extensions["tracker.sessions"]() as s:
        plan = s.scalar(select(Plan).where(Plan.code == "zj-14"))
    sheet = _workbook(client, f"?plan={plan.id}&level=severe")["逾期清单"]
    assert sheet["A1"].value == "逾期清单（浙江省及下辖地区）"
    info = sheet["A2"].value
    assert f"规划：{plan.short_name}" in info and "预警等级：严重逾期" in info
    assert re.search(r"导出时间：20\d\d年11月22日 09:00", info)  # the demo day, at nine
    assert [c.value for c in sheet[3]][:4] == ["序号", "预警等级", "类型", "规划"]
    assert sheet.freeze_panes == "A4"
    deadline = sheet["K4"]
    assert isinstance(deadline.value, datetime) and deadline.number_format == DATE_FORMAT
    assert sheet.column_dimensions["G"].width >= 40  # 任务名称 is wide enough for Chinese titles
    assert sheet.auto_filter.ref.startswith("A3:O")


def test_text_cells_are_safe_from_formula_injection(session: Session, world: World, run_scan,
                                                   client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    world.task(session, date(2026, 11, 1), title='=HYPERLINK("http://evil","点我")', responsible_person="@SUM(1)")
    session.commit()
    run_scan()
    login(client, "sup")
    sheet = _workbook(client, "")["逾期清单"]
    row = next(sheet.iter_rows(min_row=4, max_row=4))
    title, person = row[6], row[9]
    assert title.value == "'" + '=HYPERLINK("http://evil","点我")' and title.data_type == "s"
    assert person.value == "'@SUM(1)" and person.data_type == "s"
    lines = list(csv.reader(io.StringIO(client.get("/alerts/overdue/export.csv").data.decode("utf-8-sig"))))
    assert lines[2][6] == "'" + '=HYPERLINK("http://evil","点我")' and lines[2][9] == "'@SUM(1)"
    assert lines[2][0] == "1" and lines[2][1] == row[1].value and lines[2][10] == "2026-11-01"


def test_an_empty_export_is_still_a_workbook(client: FlaskClient, world: World) -> None:
    login(client, "sup")
    sheet = _workbook(client, "?level=severe")["逾期清单"]
    assert sheet.max_row == 3
