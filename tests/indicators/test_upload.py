"""The Excel template of one year's values, and uploading it back: checked row by row, all or nothing."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker.indicators.exports import HEADER_ROW, SHEET
from tracker.indicators.models import ValueState

from .conftest import client_for, indicator_of, plan_of, value_of


def _template(client: FlaskClient, plan_id: int, year: int) -> Any:
    response = client.get(f"/indicators/plans/{plan_id}/template.xlsx?year={year}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def _rows(wb: Any) -> dict[int, int]:
    """序号 → spreadsheet row."""
    ws = wb[SHEET]
    return {ws.cell(r, 1).value: r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value}


def _upload(client: FlaskClient, plan_id: int, year: int, wb: Any, name: str = "values.xlsx") -> Any:
    buffer = io.BytesIO()
    wb.save(buffer)
    return client.post(f"/indicators/plans/{plan_id}/upload?year={year}",
                       data={"file": (io.BytesIO(buffer.getvalue()), name)}, content_type="multipart/form-data")


def test_template_lists_what_the_person_may_fill_in(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner = _template(client_for(demo, "zj_planner"), plan.id, 2024)
    assert len(_rows(planner)) == 20
    ws = planner[SHEET]
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers == ["序号", "类别", "指标名称", "单位", "目标值", "属性", "监测值", "数据来源", "备注"]
    life = _rows(planner)[1]
    assert ws.cell(life, 3).value == "人均预期寿命" and ws.cell(life, 7).value == "80.25"
    assert planner["_meta"].sheet_state == "hidden"
    department = _template(client_for(demo, "zj_head_jk"), plan.id, 2024)
    assert sorted(_rows(department)) == [10, 15]  # confirmed values are listed (and stay as they are)
    assert _upload(client_for(demo, "zj_head_jk"), plan.id, 2024, department).status_code == 302
    assert client_for(demo, "zj_leader").get(f"/indicators/plans/{plan.id}/template.xlsx").status_code == 403


def test_upload_saves_the_filled_in_values(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    head = client_for(demo, "zj_head_jk")
    wb = _template(head, plan.id, 2020)
    rows, ws = _rows(wb), wb[SHEET]
    ws.cell(rows[10], 7, "58.5")
    ws.cell(rows[10], 8, "省疾控中心")
    ws.cell(rows[15], 7, 9.62)  # typed as a number
    response = _upload(head, plan.id, 2020, wb)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert value_of(db, 10, 2020).value_text == "58.5"  # type: ignore[union-attr]
    assert value_of(db, 10, 2020).source == "省疾控中心"  # type: ignore[union-attr]
    fifteen = value_of(db, 15, 2020)
    assert fifteen is not None and fifteen.value_text == "9.62" and fifteen.state == ValueState.ENTERED


def test_one_wrong_row_saves_nothing_and_is_named(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner = client_for(demo, "zj_planner")
    wb = _template(planner, plan.id, 2020)
    rows, ws = _rows(wb), wb[SHEET]
    ws.cell(rows[4], 7, "33.5")
    ws.cell(rows[6], 7, "三点七")
    ws.cell(rows[8], 7, "5.9")
    response = _upload(planner, plan.id, 2020, wb)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"第{rows[6]}行（序号 6）：监测值“三点七”无法识别为数值" in html
    assert "全部未保存" in html
    assert value_of(db, 4, 2020) is None and value_of(db, 8, 2020) is None


def test_rows_that_are_not_indicators_are_named(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner = client_for(demo, "zj_planner")
    wb = _template(planner, plan.id, 2020)
    ws = wb[SHEET]
    first_four = _rows(wb)[4]
    ws.append([99, "", "不存在的指标", "", "", "", "1"])
    ws.append(["第一", "", "", "", "", "", "1"])
    ws.append([4, "", "重复", "", "", "", "1"])
    response = _upload(planner, plan.id, 2020, wb)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"第{ws.max_row - 1}行：序号“第一”不是整数。" in html
    assert f"第{ws.max_row}行：序号 4 与第{first_four}行重复。" in html
    ws.delete_rows(ws.max_row - 1, 2)
    response = _upload(planner, plan.id, 2020, wb)
    assert response.status_code == 422
    assert f"第{ws.max_row}行：本规划没有序号为 99 的指标。" in response.get_data(as_text=True)


def test_a_department_cannot_upload_anothers_indicator(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner_wb = _template(client_for(demo, "zj_planner"), plan.id, 2020)
    rows, ws = _rows(planner_wb), planner_wb[SHEET]
    ws.cell(rows[6], 7, "3.7")
    ws.cell(rows[10], 7, "50")
    response = _upload(client_for(demo, "zj_head_jk"), plan.id, 2020, planner_wb)
    assert response.status_code == 422
    assert f"第{rows[6]}行（序号 6）：只有指标“每千人执业（助理）医师数”的牵头单位" in response.get_data(as_text=True)
    assert value_of(db, 10, 2020) is None


def test_confirmed_values_cannot_be_changed_by_upload(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    head = client_for(demo, "zj_head_jk")
    wb = _template(head, plan.id, 2024)
    rows, ws = _rows(wb), wb[SHEET]
    ws.cell(rows[15], 7, "8.4")
    response = _upload(head, plan.id, 2024, wb)
    assert response.status_code == 409 and "已由规划处确认" in response.get_data(as_text=True)
    assert value_of(db, 15, 2024).value_text == "8.66"  # type: ignore[union-attr]


def test_the_file_itself_is_checked(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner = client_for(demo, "zj_planner")
    url = f"/indicators/plans/{plan.id}/upload?year=2020"

    def post(data: bytes, name: str) -> Any:
        # The body is encoded in memory: the test client's own temporary file for large bodies is never closed.
        boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
        return planner.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")

    assert "请上传从本页下载的 Excel 模板" in post(b"a,b\n1,2\n", "values.csv").get_data(as_text=True)
    response = post(b"PK\x03\x04 not really a zip", "values.xlsx")
    assert response.status_code == 422 and "不是有效的 Excel" in response.get_data(as_text=True)
    assert "上传的文件是空的" in post(b"", "values.xlsx").get_data(as_text=True)
    assert "文件超过 2 MB" in post(b"0" * (2 * 1024 * 1024 + 1), "values.xlsx").get_data(as_text=True)
    other_year = _template(planner, plan.id, 2024)
    response = _upload(planner, plan.id, 2020, other_year)
    assert response.status_code == 422 and "该模板属于其他规划或年度" in response.get_data(as_text=True)
    stranger = Workbook()
    stranger.active.title = "Sheet1"
    assert "没有“监测值填报”工作表" in _upload(planner, plan.id, 2020, stranger).get_data(as_text=True)
    no_file = planner.post(url, data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "请选择要上传的 Excel 文件。" in no_file.get_data(as_text=True)


def test_exported_text_cannot_run_as_a_formula(demo: Flask, db: Session) -> None:
    plan = plan_of(db)
    planner = client_for(demo, "zj_planner")
    ind = indicator_of(db, 17)
    planner.post(f"/indicators/{ind.id}/values/2025", data={"value_text": "稳步提高", "source": "=1+2"})
    wb = _template(planner, plan.id, 2025)
    assert wb[SHEET].cell(_rows(wb)[17], 8).value == "'=1+2"
