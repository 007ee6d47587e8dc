"""The evaluator's pages: run, review, adjust with a reason, lock; who may do what; refusals in Chinese."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.evaluations.models import DepartmentScore, Evaluation, EvaluationKind, EvaluationState
from tracker.evaluations.services import score_fingerprint
from tracker.planning.models import Plan

from ..conftest import client_for, login
from .world import build_world


def evaluation_of(db: Session, code: str, kind: EvaluationKind, year: int) -> Evaluation:
    db.rollback()
    return db.scalars(select(Evaluation).join(Plan).where(Plan.code == code, Evaluation.kind == kind,
                                                          Evaluation.year == year)
                      .order_by(Evaluation.version.desc())).first()  # type: ignore[return-value]


def run_form(plan_id: int, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "plan_id": plan_id, "kind": "annual", "year": 2024, "weight_completion": 40, "weight_on_time": 20,
        "weight_indicators": 30, "weight_supervision": 10, "threshold_excellent": 90, "threshold_good": 80,
        "threshold_pass": 60, "tolerance": 10,
    }
    data.update(overrides)
    return data


def error_in_row(html: str, field: str) -> list[str]:
    for chunk in html.split('<div class="form-row')[1:]:
        if f'name="{field}"' in chunk:
            return [unescape(m) for m in re.findall(r'<div class="field-error" role="alert">([^<]*)', chunk)]
    raise AssertionError(f"no field {field}")


def _plan_id(db: Session, code: str = "zj-14") -> int:
    return db.scalar(select(Plan.id).where(Plan.code == code))  # type: ignore[return-value]


def test_evaluator_runs_the_annual_evaluation_again(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    draft = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    assert draft.state == EvaluationState.DRAFT
    page = evaluator.get("/evaluations/new")
    assert page.status_code == 200 and "开展考核评估" in page.get_data(as_text=True)
    response = evaluator.post("/evaluations/new", data=run_form(_plan_id(db)))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/evaluations/{draft.id}")
    html = evaluator.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert "部门考核" in html and "锁定考核结果" in html and "医政医管处" in html
    annual = evaluator.post("/evaluations/new", data=run_form(_plan_id(db), year=2023))
    assert annual.status_code == 302
    created = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2023)
    assert created.version == 1 and created.created_by is not None
    # the locked mid-term is not computed again by the evaluator: reopening it is the administrator's
    midterm = evaluator.post("/evaluations/new", data=run_form(_plan_id(db), kind="midterm", year=2023))
    assert midterm.status_code == 409 and "须由系统管理员写明理由重新开放" in midterm.get_data(as_text=True)
    assert evaluation_of(db, "zj-14", EvaluationKind.MIDTERM, 2023).version == 1


def test_refused_settings_are_shown_next_to_the_field(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    cases = [
        ({"weight_completion": 50}, "weight_completion", "各项权重之和须为100（现为110）。"),
        ({"weight_on_time": "abc"}, "weight_on_time", "不是有效的整数。"),
        ({"weight_on_time": ""}, "weight_on_time", "请输入整数。"),
        ({"threshold_good": 95}, "threshold_good", "分数线须满足：合格 < 良好 < 优秀。"),
        ({"year": 2030}, "year", "考核年度须在 2021 到 2025 之间。"),
        ({"kind": "weekly"}, "kind", "不是有效的选择。"),
    ]
    for overrides, field, message in cases:
        response = evaluator.post("/evaluations/new", data=run_form(_plan_id(db), **overrides))
        assert response.status_code == 422, overrides
        assert any(message in e for e in error_in_row(response.get_data(as_text=True), field)), (field, message)
    other_region_plan = _plan_id(db, "wz-14")
    response = evaluator.post("/evaluations/new", data=run_form(other_region_plan))
    assert response.status_code == 422  # not among the choices


def test_adjust_with_a_reason_then_lock(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    draft = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    score = db.scalars(select(DepartmentScore).where(DepartmentScore.evaluation_id == draft.id,
                                                     DepartmentScore.rank.is_not(None))
                       .order_by(DepartmentScore.rank.desc())).first()
    assert score is not None
    url = f"/evaluations/scores/{score.id}/adjust"
    seen = score_fingerprint(score)
    response = evaluator.post(url, data={"adjusted_score": "88", "reason": "", "seen": seen})
    assert response.status_code == 422
    assert "调整得分须写明理由。" in error_in_row(response.get_data(as_text=True), "reason")
    for bad in ("abc", "101", "-1", "NaN"):
        response = evaluator.post(url, data={"adjusted_score": bad, "reason": "理由", "seen": seen})
        assert response.status_code == 422, bad
        assert error_in_row(response.get_data(as_text=True), "adjusted_score"), bad
    db.rollback()
    assert db.get(DepartmentScore, score.id).adjusted_score is None  # type: ignore[union-attr]

    response = evaluator.post(url, data={"adjusted_score": "88.456", "reason": "承担疫情防控专项任务", "seen": seen})
    assert response.status_code == 302
    db.rollback()
    adjusted = db.get(DepartmentScore, score.id)
    assert adjusted is not None and str(adjusted.adjusted_score) == "88.46" and adjusted.grade.label == "良好"
    stale = evaluator.post(url, data={"adjusted_score": "70", "reason": "再调", "seen": seen})
    assert stale.status_code == 409 and "已被重新计算或调整" in stale.get_data(as_text=True)

    history = evaluator.get(f"/evaluations/{draft.id}?tab=history").get_data(as_text=True)
    assert "承担疫情防控专项任务" in history

    assert evaluator.post(f"/evaluations/{draft.id}/lock", data={"confirm": "y"}).status_code == 302
    db.rollback()
    assert db.get(Evaluation, draft.id).state == EvaluationState.LOCKED  # type: ignore[union-attr]
    assert evaluator.get(url).status_code == 409
    again = evaluator.post(url, data={"adjusted_score": "90", "reason": "x", "seen": score_fingerprint(adjusted)})
    assert again.status_code == 409 and "该考核已锁定" in again.get_data(as_text=True)
    assert evaluator.post(f"/evaluations/{draft.id}/lock").status_code == 409
    assert evaluator.get(f"/evaluations/{draft.id}/settings").status_code == 409
    # a locked result is the signed one: recomputing it is the administrator's reopen, not the evaluator's
    refused = evaluator.post(f"/evaluations/{draft.id}/recompute")
    assert refused.status_code == 409 and "须由系统管理员写明理由重新开放" in refused.get_data(as_text=True)
    assert "按当前数据生成新版本" not in evaluator.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024).version == 1


def test_roles_and_regions(demo: Flask, db: Session) -> None:
    locked = evaluation_of(db, "zj-13", EvaluationKind.FINAL, 2020)
    draft = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    score_id = db.scalar(select(DepartmentScore.id).where(DepartmentScore.evaluation_id == draft.id))
    for user in ("zj_leader", "zj_planner"):
        client = client_for(demo, user)
        assert client.get("/evaluations").status_code == 200
        assert client.get(f"/evaluations/{locked.id}").status_code == 200
        assert client.get(f"/evaluations/{locked.id}/export.xlsx").status_code == 200
        for method, url in [("get", "/evaluations/new"), ("post", f"/evaluations/{draft.id}/lock"),
                            ("post", f"/evaluations/{draft.id}/recompute"), ("get", f"/evaluations/scores/{score_id}/adjust"),
                            ("get", f"/evaluations/{draft.id}/settings")]:
            response = getattr(client, method)(url)
            assert response.status_code == 403, (user, url)
            assert "无权访问" in response.get_data(as_text=True) and "考核组" in response.get_data(as_text=True)
    for user in ("zj_head_jk", "zj_staff_jk", "zj_supervisor", "admin"):
        response = client_for(demo, user).get("/evaluations")
        assert response.status_code == 403 and "考核评估仅对考核组、规划处和领导开放。" in response.get_data(as_text=True)
        assert client_for(demo, user).get(f"/evaluations/{locked.id}").status_code == 403
    city = client_for(demo, "wz_evaluator")
    assert city.get(f"/evaluations/{locked.id}").status_code == 200  # the plan above is readable
    assert city.post(f"/evaluations/{draft.id}/lock").status_code == 403
    assert city.get(f"/evaluations/scores/{score_id}/adjust").status_code == 403
    assert "省卫健十四五" not in city.get("/evaluations/new").get_data(as_text=True)
    assert client_for(demo, "wl_leader").get(f"/evaluations/{locked.id}").status_code == 200
    assert client_for(demo, "wz_leader").get("/evaluations").status_code == 200
    anonymous = demo.test_client().get("/evaluations")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_bad_arguments(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    locked = evaluation_of(db, "zj-13", EvaluationKind.FINAL, 2020)
    assert evaluator.get("/evaluations?kind=weekly").status_code == 400
    assert evaluator.get("/evaluations?year=abc").status_code == 400
    assert evaluator.get("/evaluations?plan=-1").status_code == 400
    assert evaluator.get("/evaluations/99999999").status_code == 404
    assert evaluator.get(f"/evaluations/{locked.id}?tab=bogus").status_code == 404
    assert evaluator.get("/evaluations/scores/99999999/adjust").status_code == 404
    assert evaluator.get("/evaluations?kind=final&year=2020").status_code == 200
    for tab in ("departments", "indicators", "supervision", "history"):
        assert evaluator.get(f"/evaluations/{locked.id}?tab={tab}").status_code == 200


def test_names_are_escaped(app: Flask, session: Session) -> None:
    world = build_world(session)
    world.departments["甲处"].name = "<script>alert('x')</script>"
    world.indicators["a_achieved"].name = "<b onmouseover=alert(1)>素养</b>"
    session.commit()
    client = app.test_client()
    login(client, world.evaluator.username)
    response = client.post("/evaluations/new", data=run_form(world.plan.id))
    assert response.status_code == 302
    target = response.headers["Location"]
    for tab in ("departments", "indicators"):
        html = client.get(f"{target}?tab={tab}").get_data(as_text=True)
        assert "<script>alert('x')</script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in client.get(target).get_data(as_text=True)


def test_the_evaluator_writes_the_conclusions_and_sets_the_tolerance(demo: Flask, db: Session) -> None:
    """总体情况/存在问题/下一步 start from the figures, are saved with the version, and show on its page; the
    目标一致法 tolerance is one of the evaluation's settings."""
    evaluator = client_for(demo, "zj_evaluator")
    draft = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    form = evaluator.get(f"/evaluations/{draft.id}/conclusions").get_data(as_text=True)
    drafted = unescape(form)
    assert "存在问题" in drafted and ("未达到目标或进度要求" in drafted or "未发现突出问题" in drafted)  # from the figures
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    data = {"overview": "总体平稳。", "problems": "基层人才短缺。\n信息化进度慢。", "suggestions": "加强人才队伍建设。",
            **({"csrf_token": token[1]} if token else {})}
    saved_answer = evaluator.post(f"/evaluations/{draft.id}/conclusions", data=data)
    assert saved_answer.status_code == 302, saved_answer.get_data(as_text=True)[:500]
    assert saved_answer.headers["Location"].endswith(f"/evaluations/{draft.id}"), saved_answer.headers["Location"]
    db.rollback()  # a new transaction sees what the request saved
    saved = db.get(Evaluation, draft.id)
    assert (saved.overview, saved.problems) == ("总体平稳。", "基层人才短缺。\n信息化进度慢。")
    page = evaluator.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert "基层人才短缺。" in page and "撰写评估结论" in page
    indicators = evaluator.get(f"/evaluations/{draft.id}?tab=indicators").get_data(as_text=True)
    assert "目标一致法" in indicators and "light-" in indicators
    # a department head may not write them
    assert client_for(demo, "zj_head_jk").get(f"/evaluations/{draft.id}/conclusions").status_code == 403
    # the tolerance is refused outside 0–50, next to its field
    refused = evaluator.post(f"/evaluations/{draft.id}/settings", data={
        "weight_completion": 40, "weight_on_time": 20, "weight_indicators": 30, "weight_supervision": 10,
        "threshold_excellent": 90, "threshold_good": 80, "threshold_pass": 60, "tolerance": 80,
        "proceed_unconfirmed": "y"})
    assert refused.status_code == 422 and "须在 0 到 50 之间" in error_in_row(refused.get_data(as_text=True),
                                                                             "tolerance")[0]


def test_a_number_too_large_for_any_field_is_refused_next_to_it(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    for field in ("year", "tolerance", "weight_completion", "threshold_good"):
        response = evaluator.post("/evaluations/new", data=run_form(_plan_id(db), **{field: str(10**30)}))
        assert response.status_code == 422, field
