"""The task list (任务分解表): template, export, and import checked row by row; the round trip is lossless."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.imports.models import ImportDocument, ImportState
from tracker.imports.tasklist import COLUMNS, HEADER_ROW, SHEET
from tracker.planning.models import Plan
from tracker.spreadsheets import safe_text
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from .conftest import client_for, plan_by_code
from .test_documents import upload

COL = {c.key: i for i, c in enumerate(COLUMNS, start=1)}


def export(client: FlaskClient, plan_id: int) -> Workbook:
    response = client.get(f"/plans/{plan_id}/tasklist.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def as_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def send(client: FlaskClient, plan_id: int, wb: Workbook | bytes, name: str = "任务分解表.xlsx") -> Any:
    data = wb if isinstance(wb, bytes) else as_bytes(wb)
    return upload(client, name, data, url=f"/plans/{plan_id}/tasklist/import")


def staged(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(r"/imports/(\d+)$", response.headers["Location"]).group(1))  # type: ignore[union-attr]


def rows_by_code(wb: Workbook) -> dict[str, int]:
    ws = wb[SHEET]
    return {ws.cell(r, COL["code"]).value: r for r in range(HEADER_ROW + 1, ws.max_row + 1)
            if ws.cell(r, COL["code"]).value}


def snapshot(db: Session, plan_id: int) -> dict[str, tuple[Any, ...]]:
    db.rollback()
    return {t.code: (t.version_id, t.title, t.description, t.parent_id, t.lead_department_id, t.deadline, t.sort_order,
                     tuple(d.id for d in t.co_departments), tuple(i.id for i in t.indicators), t.upstream_task_id)
            for t in db.scalars(select(Task).where(Task.plan_id == plan_id))}


def test_the_template_is_the_export_without_rows(demo: Flask, db: Session) -> None:
    plan = plan_by_code(db, "zj-14")
    response = client_for(demo, "zj_planner").get(f"/plans/{plan.id}/tasklist-template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb[SHEET]
    assert [ws.cell(HEADER_ROW, i).value for i in range(1, len(COLUMNS) + 1)] == [c.header for c in COLUMNS]
    assert ws.max_row == HEADER_ROW
    assert "模板" in ws.cell(1, 1).value
    units = [r[0] for r in wb["本地区单位"].iter_rows(min_row=2, values_only=True)]
    assert "疾控处" in units and "规划发展与信息化处" in units
    assert [r[0] for r in wb["本规划指标"].iter_rows(min_row=2, values_only=True)] == list(range(1, 21))


def test_export_then_import_changes_nothing(demo: Flask, db: Session) -> None:
    plans = [plan_by_code(db, code) for code in ("zj-14", "wz-14", "yq-14")]
    for plan, username in zip(plans, ("zj_planner", "wz_planner", "yq_planner"), strict=True):
        client = client_for(demo, username)
        wb = export(client, plan.id)
        assert len(rows_by_code(wb)) == db.scalar(select(func.count()).select_from(Task).where(Task.plan_id == plan.id))
        before = snapshot(db, plan.id)
        audits = db.scalar(select(func.count()).select_from(AuditEntry))
        doc_id = staged(send(client, plan.id, wb))
        page = client.get(f"/imports/{doc_id}").get_data(as_text=True)
        assert "完全一致" in page, page[:3000]
        response = client.post(f"/imports/{doc_id}/apply", data={})
        assert response.status_code == 302
        assert snapshot(db, plan.id) == before
        # only the import's own record of having been applied
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == audits + 2
        assert db.scalar(select(ImportDocument.state).where(ImportDocument.id == doc_id)) == ImportState.CONFIRMED


def test_a_file_with_errors_saves_nothing_and_lists_every_error(demo: Flask, db: Session) -> None:
    plan = plan_by_code(db, "zj-14")
    client = client_for(demo, "zj_planner")
    wb = export(client, plan.id)
    ws = wb[SHEET]
    rows = rows_by_code(wb)
    ws.cell(rows["1"], COL["title"], "改过的标题（不应保存）")
    ws.cell(rows["2"], COL["lead"], "不存在的处")
    ws.cell(rows["3"], COL["deadline"], "2025年13月1日")
    ws.cell(rows["4"], COL["parent"], "九十九")
    ws.cell(rows["5"], COL["code"], "1")  # a duplicate of row "1"
    ws.cell(rows["6"], COL["level"], "子任务")
    ws.cell(rows["7"], COL["co"], "疾控处、没有这个单位")
    ws.cell(rows["8"], COL["indicators"], "1、99")
    ws.cell(rows["9"], COL["start"], datetime(2026, 1, 1))
    ws.cell(rows["9"], COL["deadline"], datetime(2025, 1, 1))
    ws.cell(rows["10"], COL["weight"], 0)
    ws.cell(rows["11"], COL["lead"]).value = None
    ws.cell(rows["12"], COL["upstream"], "1")  # the provincial plan has no parent plan
    before = snapshot(db, plan.id)
    response = send(client, plan.id, wb)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "未导入任何内容" in html
    expected = [
        (rows["2"], "G列（牵头单位）", "浙江省没有单位“不存在的处”"),
        (rows["3"], "K列（截止日期）", "“2025年13月1日”不是日期"),
        (rows["4"], "B列（上级编号）", "上级编号“九十九”在表中和本规划中都不存在"),
        (rows["5"], "A列（编号）", f"编号“1”与第{rows['1']}行重复"),
        (rows["6"], "C列（层级）", "层级“子任务”无效"),
        (rows["7"], "H列（配合单位）", "浙江省没有单位“没有这个单位”"),
        (rows["8"], "N列（关联指标）", "本规划没有序号为“99”的指标"),
        (rows["9"], "K列（截止日期）", "截止日期不能早于开始日期"),
        (rows["10"], "M列（权重）", "权重须为1到100之间的整数"),
        (rows["11"], "G列（牵头单位）", "牵头单位不能为空"),
        (rows["12"], "O列（上位任务编号）", "本规划没有上位规划"),
    ]
    for row, column, message in expected:
        assert re.search(rf"<td class=\"num\">{row}</td><td>{re.escape(column)}</td><td>[^<]*{re.escape(message)}", html), \
            (row, column, message)
    assert html.count('<td class="num">') >= len(expected)
    assert snapshot(db, plan.id) == before
    assert db.scalar(select(func.count()).select_from(ImportDocument)) == 0


def test_updates_new_rows_and_rows_that_disappeared(demo: Flask, db: Session) -> None:
    plan = plan_by_code(db, "zj-14")
    client = client_for(demo, "zj_planner")
    wb = export(client, plan.id)
    ws = wb[SHEET]
    rows = rows_by_code(wb)
    ws.cell(rows["1"], COL["title"], "强化公共卫生安全防控体系建设（调整）")
    ws.cell(rows["1"], COL["co"], "省疾病预防控制中心、应急办")
    new = ws.max_row + 1
    for key, value in {"code": "1.9", "parent": "1", "level": "工作举措", "title": "建设公共卫生应急物资储备库",
                       "kind": "重大工程", "lead": "应急办", "co": "财务处", "start": date(2025, 1, 1),
                       "deadline": date(2025, 12, 31), "weight": 2, "indicators": "10"}.items():
        ws.cell(new, COL[key], value)
    ws.cell(new + 1, COL["code"], "1.9.1")
    ws.cell(new + 1, COL["parent"], "1.9")
    ws.cell(new + 1, COL["level"], "年度任务")
    ws.cell(new + 1, COL["title"], "完成储备库选址")
    ws.cell(new + 1, COL["lead"], "应急办")
    ws.cell(new + 1, COL["year"], 2025)
    doc_id = staged(send(client, plan.id, wb))
    page = client.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert "新建（2）" in page and "更新（1）" in page and "任务名称、配合单位" in page
    assert client.post(f"/imports/{doc_id}/apply", data={}).status_code == 302
    db.rollback()
    task = db.scalars(select(Task).where(Task.plan_id == plan.id, Task.code == "1.9")).one()
    assert (task.parent.code, task.level, task.lead_department.name, [d.name for d in task.co_departments],
            task.weight, [i.number for i in task.indicators]) == ("1", TaskLevel.MEASURE, "应急办", ["财务处"], 2, [10])
    annual = db.scalars(select(Task).where(Task.plan_id == plan.id, Task.code == "1.9.1")).one()
    assert (annual.year, annual.start_date, annual.deadline) == (2025, date(2025, 1, 1), date(2025, 12, 31))
    changed = db.scalars(select(Task).where(Task.plan_id == plan.id, Task.code == "1")).one()
    assert changed.title.endswith("（调整）")
    assert {d.name for d in changed.co_departments} == {"省疾病预防控制中心", "应急办"}

    # Now the new rows leave the file again, and an old task with history too.
    wb = export(client, plan.id)
    ws = wb[SHEET]
    rows = rows_by_code(wb)
    history = "1.1.1"  # reported on and done: it cannot be deleted
    for code in sorted(("1.9", "1.9.1", history), key=lambda c: -rows[c]):
        ws.delete_rows(rows[code])
    doc_id = staged(send(client, plan.id, wb))
    page = client.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert "表中没有的任务（3）" in page and "不能删除：有 2 份进展填报" in page
    ids = {code: db.scalar(select(Task.id).where(Task.plan_id == plan.id, Task.code == code))
           for code in ("1.9", "1.9.1", history)}
    # deleting the task with history is refused, and nothing is changed
    response = client.post(f"/imports/{doc_id}/apply", data={f"choice_{ids[history]}": "delete"})
    assert response.status_code == 422 and "不能删除" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Task).where(Task.id.in_(ids.values()))) == 3
    response = client.post(f"/imports/{doc_id}/apply", data={
        f"choice_{ids['1.9']}": "delete", f"choice_{ids['1.9.1']}": "delete", f"choice_{ids[history]}": "keep"})
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Task).where(Task.id.in_(ids.values()))) == 1

    # a task missing from the file can be closed (已终止) with the reason
    wb = export(client, plan.id)
    ws = wb[SHEET]
    open_task = db.scalars(select(Task).where(Task.plan_id == plan.id, Task.level == TaskLevel.ANNUAL,
                                              Task.status == TaskStatus.IN_PROGRESS, ~Task.children.any())
                           .order_by(Task.id)).first()
    ws.delete_rows(rows_by_code(wb)[open_task.code])
    doc_id = staged(send(client, plan.id, wb))
    response = client.post(f"/imports/{doc_id}/apply", data={f"choice_{open_task.id}": "close", "reason": "并入其他任务"})
    assert response.status_code == 302
    db.rollback()
    closed = db.get(Task, open_task.id)
    assert closed.status == TaskStatus.TERMINATED and "并入其他任务" in closed.status_note


def test_formula_like_text_survives_the_round_trip(demo: Flask, db: Session) -> None:
    plan = plan_by_code(db, "zj-14")
    client = client_for(demo, "zj_planner")
    wb = export(client, plan.id)
    ws = wb[SHEET]
    ws.cell(rows_by_code(wb)["2"], COL["description"], safe_text("=SUM(A1:A9) 不是公式"))
    doc_id = staged(send(client, plan.id, wb))
    assert client.post(f"/imports/{doc_id}/apply", data={}).status_code == 302
    db.rollback()
    task = db.scalars(select(Task).where(Task.plan_id == plan.id, Task.code == "2")).one()
    assert task.description == "=SUM(A1:A9) 不是公式"
    exported = export(client, plan.id)[SHEET].cell(rows_by_code(wb)["2"], COL["description"])
    assert exported.data_type == "s" and exported.value == "'=SUM(A1:A9) 不是公式"
    before = snapshot(db, plan.id)
    doc_id = staged(send(client, plan.id, export(client, plan.id)))
    assert "完全一致" in client.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert snapshot(db, plan.id) == before


def test_a_new_plan_filled_from_the_template(demo: Flask, db: Session) -> None:
    client = client_for(demo, "zj_planner")
    plan = Plan(code="zj-test", title="测试规划", short_name="测试", level="province", region_id=plan_by_code(
        db, "zj-14").region_id, start_year=2026, end_year=2030)
    db.add(plan)
    db.commit()
    wb = load_workbook(io.BytesIO(client.get(f"/plans/{plan.id}/tasklist-template.xlsx").data))
    ws = wb[SHEET]
    lines = [("一", None, "章", "全面推进健康浙江建设", None, None),
             ("1", "一", "重点任务", "完善监测预警体系", "疾控处", date(2030, 6, 30)),
             ("1.1", "1", "工作举措", "建设智慧化监测平台", "疾控处", "2028-12-31")]
    for r, (code, parent, level, title, lead, deadline) in enumerate(lines, start=HEADER_ROW + 1):
        for key, value in {"code": code, "parent": parent, "level": level, "title": title, "lead": lead,
                           "deadline": deadline}.items():
            ws.cell(r, COL[key], value)
    doc_id = staged(send(client, plan.id, wb))
    assert client.post(f"/imports/{doc_id}/apply", data={}).status_code == 302
    db.rollback()
    tasks = {t.code: t for t in db.scalars(select(Task).where(Task.plan_id == plan.id))}
    assert tasks["1.1"].parent.code == "1" and tasks["1"].parent.code == "一"
    assert tasks["1.1"].deadline == date(2028, 12, 31)


def test_bad_task_list_files(demo: Flask, db: Session) -> None:
    plan = plan_by_code(db, "zj-14")
    client = client_for(demo, "zj_planner")
    response = send(client, plan.id, b"a,b\n", name="tasks.csv")
    assert response.status_code == 422 and "请上传 Excel 工作簿（.xlsx）" in response.get_data(as_text=True)
    response = send(client, plan.id, b"PK\x03\x04 broken", name="tasks.xlsx")
    assert response.status_code == 422 and "已损坏" in response.get_data(as_text=True)
    stranger = Workbook()
    stranger.active.append(["姓名", "电话"])
    response = send(client, plan.id, stranger)
    assert response.status_code == 422 and "找不到表头" in response.get_data(as_text=True)
    empty = export(client, plan.id)
    empty[SHEET].delete_rows(HEADER_ROW + 1, 500)
    response = send(client, plan.id, empty)
    assert response.status_code == 422 and "表中没有任务行" in response.get_data(as_text=True)
