"""The project register of a plan: totals by year and by source, 待定 kept and left out with a note,
filters, the plan page's tab, and the Excel export that reads back as the page."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from tracker.planning.models import InvestmentUnit, Plan
from tracker.projects import amounts
from tracker.projects.models import KeyProject, ProjectInvestment, ProjectStatus
from tracker.regions.models import Department
from tracker.tasks.models import Milestone, MilestoneStatus, ProjectNode, ReportState, Task
from tracker.templating import money

from .conftest import client_as, table

YI = InvestmentUnit.YI


def _plan_id(app: Flask, code: str = "zj-14") -> int:
    with app.extensions["tracker.sessions"]() as s:
        return s.scalar(select(Plan.id).where(Plan.code == code))


def _figure(html: str, name: str) -> str:
    match = re.search(rf'<strong data-total="{name}">([^<]*)</strong>', html)
    assert match, name
    return match.group(1)


def _shown(value: Decimal) -> str:
    return money(value, "亿元")


def test_seeded_register_totals_are_exact_and_tbd_is_noted(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    with demo.extensions["tracker.sessions"]() as s:
        projects = list(s.scalars(select(KeyProject).join(Task).where(Task.plan_id == plan_id)))
        total = sum((p.total_investment for p in projects if p.total_investment is not None), Decimal(0))
        tbd = sum(1 for p in projects if p.total_tbd or p.period_tbd)
        confirmed = sum((i.completed for p in projects for i in p.investments
                         if i.state == ReportState.CONFIRMED and i.completed is not None), Decimal(0))
        pending = sum((i.completed for p in projects for i in p.investments
                       if i.state == ReportState.SUBMITTED), Decimal(0))
    assert len(projects) == 17 and tbd == 2
    assert amounts.from_wan(total, YI) == Decimal(893)
    html = client_as(demo, "zj_planner").get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    assert _figure(html, "total") == "893"
    assert _figure(html, "confirmed") == _shown(confirmed)
    assert _figure(html, "pending") == _shown(pending) == "113.94"
    assert "注：另有2个项目投资待定，未计入合计。" in html
    rows = table(html, "project-table")
    assert len(rows) == 17
    tbd_rows = [r for r in rows if r[7] == "待定"]
    assert [r[0] for r in tbd_rows] == ["专栏8", "专栏9"] and all(r[8] == "待定" for r in tbd_rows)
    assert next(r for r in rows if r[0] == "专栏2")[7] == "—"  # no investment at all is not 待定


def test_totals_by_year_and_by_source(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    html = client_as(demo, "zj_leader").get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    years = {r[0]: r[1:] for r in table(html, "year-totals")}
    # 2025: planned 20 + 9 + 44 + 2.5 + 15 + 13 + 5 + 3 + 5 + 6; confirmed nothing yet; submitted all but
    # 专栏15's returned 6.02
    assert years["2025"] == ["122.5", "0", "113.94"]
    assert "2026" not in years  # the demo holds nothing after 2025
    assert years["2021"][0] == "116.7"  # 20 + 8 + 36 + 2.2 + 12 + 22 + 4 + 3 + 4 + 5.5
    assert years["合计"][1] == _figure(html, "confirmed")
    sources = {r[0]: r for r in table(html, "source-totals")}
    assert sources["财政"][1] == "510" and "1个项目金额待定，未计入" in sources["财政"][3]
    assert sources["专项债"][1] == "155" and sources["社会资本"][1] == "70"


@pytest.mark.parametrize(("query", "expected"), [
    ("status=in_use", {"专栏13", "专栏14"}),
    ("status=building", {"专栏1", "专栏3", "专栏4", "专栏7", "专栏11", "专栏12"}),
    ("kind=digital", {"专栏13", "专栏14"}),
])
def test_filters(demo: Flask, query: str, expected: set[str]) -> None:
    plan_id = _plan_id(demo)
    html = client_as(demo, "zj_planner").get(f"/plans/{plan_id}/projects?{query}").get_data(as_text=True)
    assert {r[0] for r in table(html, "project-table")} == expected


def test_filter_by_owner_and_region(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    with demo.extensions["tracker.sessions"]() as s:
        yz = s.scalar(select(Department.id).where(Department.name == "医政医管处", Department.region_id == 1))
        hz = s.scalar(select(KeyProject.region_id).join(Task).where(Task.code == "专栏4", Task.plan_id == plan_id))
    client = client_as(demo, "zj_planner")
    html = client.get(f"/plans/{plan_id}/projects?owner={yz}").get_data(as_text=True)
    assert {r[0] for r in table(html, "project-table")} == {"专栏4"}
    html = client.get(f"/plans/{plan_id}/projects?region={hz}").get_data(as_text=True)
    assert {r[0] for r in table(html, "project-table")} == {"专栏4", "专栏12"}
    assert _figure(html, "total") == "348" and "待定，未计入合计" not in html
    html = client.get(f"/plans/{plan_id}/projects?status=suspended").get_data(as_text=True)
    assert "没有符合条件的项目" in html


@pytest.mark.parametrize("query", ["status=finished", "kind=house", "owner=abc", "region=-1", "page=0"])
def test_bad_filters_are_400(demo: Flask, query: str) -> None:
    response = client_as(demo, "zj_planner").get(f"/plans/{_plan_id(demo)}/projects?{query}")
    assert response.status_code == 400


def test_plan_tab_shows_the_same_totals_and_links_to_projects(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    client = client_as(demo, "zj_head_jk")
    register = client.get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    tab = client.get(f"/plans/{plan_id}?tab=projects").get_data(as_text=True)
    totals = re.search(r'<p class="totals" id="plan-investment-totals">(.*?)</p>', tab, re.S).group(1)
    assert f"总投资合计 <strong>{_figure(register, 'total')}</strong> 亿元" in totals
    assert f"已确认完成投资 <strong>{_figure(register, 'confirmed')}</strong>" in totals
    assert "另有2个项目投资待定，未计入合计" in totals
    assert f'href="/plans/{plan_id}/projects"' in totals
    project = next(p for p in [_project(demo, "专栏4")])
    assert f'href="/projects/{project.id}"' in tab


def _project(app: Flask, code: str) -> KeyProject:
    with app.extensions["tracker.sessions"]() as s:
        return s.scalars(select(KeyProject).join(Task).join(Plan).where(Plan.code == "zj-14", Task.code == code)).one()


def test_the_demo_has_a_project_for_a_department_head_with_a_pending_groundbreaking(demo: Flask) -> None:
    heads = {"疾控处", "医政医管处", "基层卫生处", "中医药管理处"}
    with demo.extensions["tracker.sessions"]() as s:
        found = s.scalars(
            select(KeyProject).join(Task).join(Department, Department.id == Task.lead_department_id)
            .where(Department.name.in_(heads), Department.region_id == 1,
                   Task.milestones.any((Milestone.node == ProjectNode.GROUNDBREAKING)
                                       & (Milestone.status == MilestoneStatus.PENDING)),
                   KeyProject.investments.any(ProjectInvestment.year == 2025))).all()
        assert [p.task.code for p in found] == ["专栏4"]
        assert found[0].status == ProjectStatus.BUILDING


# ------------------------------------------------------------------------------------------ the export


def _workbook(client, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))["重大项目库"]


def _as_page(value: object) -> str:
    """A workbook amount cell in the page's words."""
    if value is None:
        return "—"
    if value == "待定":
        return "待定"
    return money(amounts.to_wan(Decimal(str(value)), YI), "亿元")


def _rate(value: object) -> str:
    return "—" if value is None else f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'))}%"


def _sheet_rows(sheet) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows = []
    for r in sheet.iter_rows(min_row=4, values_only=True):
        if r[0] in ("合计", None) or str(r[0]).startswith("注"):
            continue
        rows.append([str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6] or "", _as_page(r[7]), _as_page(r[8]),
                     _as_page(r[9]), _rate(r[10])])
    return rows


@pytest.mark.parametrize("query", ["", "?status=building", "?kind=new"])
def test_the_export_reads_back_as_the_page(demo: Flask, query: str) -> None:
    plan_id = _plan_id(demo)
    client = client_as(demo, "zj_planner")
    html = client.get(f"/plans/{plan_id}/projects{query}").get_data(as_text=True)
    page = [[c if c != "" else "" for c in row] for row in table(html, "project-table")]
    sheet = _workbook(client, f"/plans/{plan_id}/projects/export.xlsx{query}")
    assert _sheet_rows(sheet) == page
    totals = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert _as_page(totals[7]) == _figure(html, "total") and _as_page(totals[9]) == _figure(html, "confirmed")
    assert _as_page(totals[11]) == _figure(html, "pending")
    headers = [c.value for c in sheet[3]]
    years = {r[0]: r for r in table(html, "year-totals")}
    for year, (planned, confirmed, _pending) in ((k, v[1:]) for k, v in years.items() if k.isdigit()):
        assert _as_page(totals[headers.index(f"{year}年计划（亿元）")]) == planned
        assert _as_page(totals[headers.index(f"{year}年完成（亿元）")]) == confirmed


def test_the_export_layout(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    sheet = _workbook(client_as(demo, "zj_planner"), f"/plans/{plan_id}/projects/export.xlsx?status=building")
    assert sheet["A1"].value == "省卫健十四五重大项目库（金额单位：亿元）"
    assert "筛选条件：项目状态：在建" in sheet["A2"].value and "导出时间：2025年11月22日 09:00" in sheet["A2"].value
    headers = [c.value for c in sheet[3]]
    assert headers[:4] == ["编号", "项目名称", "建设性质", "项目状态"]
    assert "2025年计划（亿元）" in headers and "2025年完成（亿元）" in headers and "财政（亿元）" in headers
    assert "2026年计划（亿元）" not in headers  # the years the plan has figures for
    assert sheet.freeze_panes == "C4"
    assert sheet.column_dimensions["B"].width >= 36
    row = next(r for r in sheet.iter_rows(min_row=4) if r[0].value == "专栏4")
    total = row[7]
    assert total.data_type == "n" and total.value == 300 and total.number_format == "#,##0.00##"
    last = [r for r in sheet.iter_rows(min_row=4, values_only=True)][-1][0]
    assert last.startswith("注：") and "规划处已确认" in last


def test_export_text_is_safe_from_formula_injection(demo: Flask) -> None:
    plan_id = _plan_id(demo)
    with demo.extensions["tracker.sessions"]() as s:
        task = s.scalars(select(Task).where(Task.plan_id == plan_id, Task.code == "专栏6")).one()
        task.title = '=HYPERLINK("http://evil","点我")'
        task.project.content = "@SUM(1)"
        s.commit()
    sheet = _workbook(client_as(demo, "zj_planner"), f"/plans/{plan_id}/projects/export.xlsx")
    row = next(r for r in sheet.iter_rows(min_row=4) if r[0].value == "专栏6")
    assert row[1].value == "'" + '=HYPERLINK("http://evil","点我")' and row[1].data_type == "s"
    assert row[-1].value == "'@SUM(1)"


def test_an_empty_register(demo: Flask) -> None:
    plan_id = _plan_id(demo, "wz-14")
    client = client_as(demo, "wz_planner")
    html = client.get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    assert "该规划还没有重大项目" in html and _figure(html, "total") == "0"
    sheet = _workbook(client, f"/plans/{plan_id}/projects/export.xlsx")
    assert [r[0] for r in sheet.iter_rows(min_row=4, values_only=True)][0] == "合计"
