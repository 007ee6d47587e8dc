"""An indicator the document does not mark 约束性 or 预期性 is never given a nature by default: the draft flags
it, and the planner chooses (one by one or all at once) before the draft can be confirmed."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.imports.draft import NATURE_MISSING
from tracker.indicators.models import Indicator, IndicatorNature
from tracker.planning.models import Plan

from .conftest import client_for, seed
from .test_documents import dept, document_id, latest, upload

DOCUMENT = """浙江省测试卫生健康规划

一、发展目标

表1 主要发展指标
| 类别 | 序号 | 指标 | 单位 | 2025年 | 属性 |
| --- | --- | --- | --- | --- | --- |
| 健康水平 | 1 | 人均预期寿命 | 岁 | 80以上 | 预期性 |
| 健康水平 | 2 | 孕产妇死亡率 | /10万 | 8以下 | |
| 服务体系 | 3 | 每千人口医疗机构床位数 | 张 | 6 | |

二、主要任务

（一）强化公共卫生体系

完善疾病预防控制体系。
"""


def _confirm_form(db: Session) -> dict[str, str]:
    return {"mode": "new", "title": "浙江省测试卫生健康规划", "short_name": "测试导入", "start_year": "2021",
            "end_year": "2025", "parent_id": "", "investment_unit": "wan", "stage": "issued",
            "stage_date": "2021-05-08", "default_lead_id": str(dept(db, "规划发展与信息化处").id)}


def _plans(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Plan)) or 0


def _indicator(db: Session, number: int) -> dict:
    return next(i for i in latest(db).draft["indicators"] if i["number"] == number)


def test_unmarked_indicators_are_doubted_and_confirming_needs_a_choice(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "测试规划.md", DOCUMENT.encode()))
    marked, first, second = (_indicator(db, n) for n in (1, 2, 3))
    assert (marked["nature"], marked["unsure"]) == ("expected", False)
    for unmarked in (first, second):
        assert unmarked["nature"] is None and unmarked["unsure"] and unmarked["reason"] == NATURE_MISSING
    html = planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert html.count("未注明（请选择）") == 2 and "有 2 项指标文档未注明属性" in html
    assert "设置未注明属性的 2 项指标" in html
    confirm_page = planner.get(f"/imports/{doc_id}/confirm").get_data(as_text=True)
    assert "有 2 项指标未注明属性（约束性或预期性），如指标 2“孕产妇死亡率”" in confirm_page

    # confirming now is refused, naming the indicator, and creates nothing
    before = _plans(db)
    response = planner.post(f"/imports/{doc_id}/confirm", data=_confirm_form(db))
    assert response.status_code == 422
    assert "指标 2“孕产妇死亡率”等 2 项指标未注明属性（约束性或预期性）" in response.get_data(as_text=True)
    assert _plans(db) == before

    # saving an indicator without choosing keeps the doubt; choosing removes it
    edit = {"rev": latest(db).draft["rev"], "number": "2", "category": "健康水平", "name": "孕产妇死亡率",
            "unit": "/10万", "target": "8以下", "target_year": "2025", "nature": ""}
    assert planner.post(f"/imports/{doc_id}/indicators/{first['id']}", data=edit).status_code == 302
    assert _indicator(db, 2)["unsure"] and _indicator(db, 2)["reason"] == NATURE_MISSING
    edit.update(rev=latest(db).draft["rev"], nature="binding")
    assert planner.post(f"/imports/{doc_id}/indicators/{first['id']}", data=edit).status_code == 302
    chosen = _indicator(db, 2)
    assert (chosen["nature"], chosen["unsure"], chosen["reason"]) == ("binding", False, None)
    response = planner.post(f"/imports/{doc_id}/confirm", data=_confirm_form(db))
    assert response.status_code == 422
    assert "指标 3“每千人口医疗机构床位数”未注明属性" in response.get_data(as_text=True)

    # the rest at once: an explicit choice is needed
    refused = planner.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"], "nature": ""})
    assert refused.status_code == 422 and "请选择指标属性（约束性或预期性）。" in refused.get_data(as_text=True)
    response = planner.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"],
                                                               "nature": "expected"})
    assert response.status_code == 302
    assert "已把 1 项未注明属性的指标设为预期性指标" in planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert (_indicator(db, 3)["nature"], _indicator(db, 3)["unsure"]) == ("expected", False)
    assert _indicator(db, 2)["nature"] == "binding"  # the one already chosen keeps its nature

    response = planner.post(f"/imports/{doc_id}/confirm", data=_confirm_form(db))
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "测试导入")).one()
    natures = {i.name: i.nature for i in db.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
    assert natures == {"人均预期寿命": IndicatorNature.EXPECTED, "孕产妇死亡率": IndicatorNature.BINDING,
                       "每千人口医疗机构床位数": IndicatorNature.EXPECTED}


def test_choosing_the_nature_keeps_the_other_doubts(demo: Flask, db: Session) -> None:
    """Wenling's indicators come from a prose list: after the nature is chosen they still ask to be checked."""
    county = client_for(demo, "wl_planner")
    doc_id = document_id(upload(county, "温岭2021十大行动.txt", seed("002").read_bytes()))
    indicators = latest(db).draft["indicators"]
    assert indicators and all(i["unsure"] and NATURE_MISSING in i["reason"] for i in indicators)
    assert county.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"],
                                                          "nature": "binding"}).status_code == 302
    for i in latest(db).draft["indicators"]:
        assert i["nature"] == "binding" and i["unsure"] and i["reason"] and NATURE_MISSING not in i["reason"]
    again = county.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"], "nature": "expected"})
    assert again.status_code == 422 and "所有指标都已注明属性。" in again.get_data(as_text=True)


def test_a_promoted_target_has_no_nature_until_chosen(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "温州说明.txt", seed("000").read_bytes()))
    candidate = latest(db).draft["candidates"][0]
    assert planner.post(f"/imports/{doc_id}/candidates/{candidate['id']}/promote",
                        data={"rev": latest(db).draft["rev"]}).status_code == 302
    [indicator] = latest(db).draft["indicators"]
    assert indicator["nature"] is None and NATURE_MISSING in indicator["reason"]
    assert "由正文语句转来" in indicator["reason"]


def test_updating_a_plan_keeps_the_nature_of_its_indicators(demo: Flask, db: Session) -> None:
    """An indicator the plan already has (same number) keeps its nature when the draft names none; a new
    plan from the same draft still needs the choice."""
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "测试规划.md", DOCUMENT.encode()))
    planner.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"], "nature": "binding"})
    assert planner.post(f"/imports/{doc_id}/confirm", data=_confirm_form(db)).status_code == 302
    # the same file again is an update of that plan; the planner changes a target and chooses no nature
    doc_id = document_id(upload(planner, "测试规划.md", DOCUMENT.encode()))
    first = _indicator(db, 2)
    assert first["nature"] is None and first["unsure"]
    assert planner.post(f"/imports/{doc_id}/indicators/{first['id']}", data={
        "rev": latest(db).draft["rev"], "number": "2", "category": "健康水平", "name": "孕产妇死亡率",
        "unit": "/10万", "target": "7以下", "target_year": "2025", "nature": ""}).status_code == 302
    new_plan = planner.post(f"/imports/{doc_id}/confirm", data={**_confirm_form(db), "short_name": "另一个"})
    assert new_plan.status_code == 422 and "未注明属性" in new_plan.get_data(as_text=True)
    response = planner.post(f"/imports/{doc_id}/confirm", data={**_confirm_form(db), "mode": "update"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "测试导入")).one()
    updated = db.scalars(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.number == 2)).one()
    assert (updated.target_text, updated.nature) == ("7以下", IndicatorNature.BINDING)
