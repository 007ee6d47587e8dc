"""The succession page × every role, and the walk through it: the button on the final evaluation, the
selection page, the refusals next to the form, the new plan's page, and a double submission."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import client_for
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.planning.models import Plan
from tracker.succession import services
from tracker.succession.models import Succession

from ..indicators.routes import Route, check, endpoints, only
from .conftest import PROBLEMS, evaluation_of, final_evaluation, user

ROUTES = [
    Route("succession.start", "/succession/evaluations/{final}", only("planner")),
    Route("succession.start", "/succession/evaluations/{annual}", {**only(), "planner": 409}),
    Route("succession.start", "/succession/evaluations/999999", {}, default=404),
]


def test_every_succession_route_and_role(demo: Flask, db: Session) -> None:
    ids = {"final": evaluation_of(db, "zj-13").id, "annual": evaluation_of(db, "zj-14", EvaluationKind.ANNUAL).id}
    db.rollback()
    assert check(demo, ROUTES, ids) == []
    assert endpoints(demo, "succession.") == {r.endpoint for r in ROUTES}


def _form(db: Session, evaluation_id: int, *, carry: int | None = None, undecided: int | None = None,
          indicator: int | None = None) -> dict[str, object]:
    """What the page posts: the proposal's names, the chapters ticked, each task closed (one carried to the top,
    one left undecided on request) and one indicator."""
    evaluation = db.get(Evaluation, evaluation_id)
    p = services.proposal(db, user(db, "zj_planner"), evaluation)
    data: dict[str, object] = {"title": p.title, "short_name": p.short_name, "start_year": p.start_year,
                               "end_year": p.end_year, "chapter": [str(c.id) for c in p.chapters]}
    for u in p.unfinished:
        key = f"task-{u.task.id}"
        data[f"{key}-version"] = str(u.task.version_id)
        data[f"{key}-chapter"] = ""
        if u.task.id == undecided:
            continue
        data[key] = "carry" if u.task.id == carry else "close"
        data[f"{key}-note"] = "" if u.task.id == carry else "并入常规工作"
    if indicator is not None:
        data["indicator"] = [str(indicator)]
    db.rollback()
    return data


def _csrf_free(demo: Flask) -> None:
    demo.config["WTF_CSRF_ENABLED"] = False


def test_the_planner_starts_the_next_plan_from_the_final_evaluation(later: Flask, db: Session) -> None:
    final = final_evaluation(db)
    planner = client_for(later, "zj_planner")
    page = planner.get(f"/evaluations/{final.id}").get_data(as_text=True)
    assert 'id="start-next-plan"' in page
    assert 'id="start-next-plan"' not in client_for(later, "zj_evaluator").get(f"/evaluations/{final.id}").get_data(
        as_text=True)
    form_page = planner.get(f"/succession/evaluations/{final.id}").get_data(as_text=True)
    assert "浙江省卫生健康事业发展“十五五”规划" in form_page and "2030" in form_page
    assert "个别指标进展滞后" in form_page  # the background shown
    assert "80.43" in form_page and "2025年已确认监测值" in form_page
    assert not re.search(r'name="indicator" value="\d+" checked', form_page)  # nothing else pre-ticked
    assert not re.search(r'name="task-\d+" value="\w+" checked', form_page)

    _csrf_free(later)
    final_id, old_plan_id = final.id, final.plan_id
    p = services.proposal(db, user(db, "zj_planner"), final)
    carried, life = p.unfinished[0].task, next(c.indicator for c in p.indicators if c.indicator.name == "人均预期寿命")
    db.rollback()
    # undecided: refused, the task named, nothing made
    undecided = _form(db, final_id, carry=carried.id, undecided=p.unfinished[1].task.id, indicator=life.id)
    refused = planner.post(f"/succession/evaluations/{final_id}", data=undecided)
    assert refused.status_code == 422
    assert "尚未选择" in refused.get_data(as_text=True) and p.unfinished[1].task.code in refused.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Succession)) == 0

    data = _form(db, final_id, carry=carried.id, indicator=life.id)
    made = planner.post(f"/succession/evaluations/{final_id}", data=data)
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    db.rollback()  # (a read begun before the request would not see what it saved)
    plan = db.scalars(select(Plan).where(Plan.short_name == "省卫健十五五")).one()
    assert made.headers["Location"].endswith(f"/plans/{plan.id}")
    new_page = planner.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "起草背景" in new_page and "重点任务推进不平衡" in new_page and "上一期规划" in new_page
    assert f"/plans/{old_plan_id}" in new_page
    old_page = planner.get(f"/plans/{old_plan_id}").get_data(as_text=True)
    assert "已启动下一期规划" in old_page and f"/plans/{plan.id}" in old_page
    evaluation_page = planner.get(f"/evaluations/{final_id}").get_data(as_text=True)
    assert "已启动下一期规划" in evaluation_page and 'id="start-next-plan"' not in evaluation_page
    # a second submission of the same page makes nothing more and links to the plan made
    again = planner.post(f"/succession/evaluations/{final_id}", data=data)
    assert again.status_code == 409 and f"/plans/{plan.id}" in again.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Plan).where(Plan.short_name == "省卫健十五五")) == 1
    assert planner.get(f"/succession/evaluations/{final_id}").status_code == 200  # the page says it is done
    db.rollback()
    assert db.scalars(select(Succession.background)).one() == PROBLEMS


def test_refusals_are_shown_beside_the_form(later: Flask, db: Session) -> None:
    _csrf_free(later)
    final_id = final_evaluation(db).id
    planner = client_for(later, "zj_planner")
    data = _form(db, final_id)
    for bad, expected in [({"start_year": "abc"}, "起始年份"), ({"chapter": ["x1"]}, "提交的选择无效"),
                          ({"short_name": "省卫健十四五", "start_year": "2025"}, "同简称")]:
        response = planner.post(f"/succession/evaluations/{final_id}", data={**data, **bad})
        assert response.status_code == 422, bad
        assert expected in response.get_data(as_text=True), bad
    assert db.scalar(select(func.count()).select_from(Succession)) == 0


def test_an_unlocked_final_evaluation_is_no_basis(later: Flask, db: Session) -> None:
    from tracker.evaluations import services as evaluations
    draft = evaluations.reopen(db, user(db, "admin"), final_evaluation(db), "更正")
    db.commit()
    planner = client_for(later, "zj_planner")
    assert planner.get(f"/succession/evaluations/{draft.id}").status_code == 409
    page = planner.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert 'id="start-next-plan"' not in page and "锁定后，规划处可在此启动下一期规划" in page
