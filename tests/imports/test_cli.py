"""The import-plan command: the draft as a tree with counts, for batch use."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.imports.models import ImportDocument, ImportState

from .conftest import plan_by_code, seed


def test_dry_run_prints_the_tree_and_counts(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["import-plan", str(seed("003")), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("《浙江省卫生健康事业发展“十四五”规划》（2021—2025年）")
    assert "[章] 三 统筹安全与发展，建设强大公共卫生体系" in out
    assert "  [重点任务] 1 强化公共卫生安全防控体系建设" in out
    assert "    [专栏] 专栏1 公共卫生体系建设" in out
    assert "  20. 卫生健康数字化改革综合指数（创新发展指标），目标 90" in out
    assert "  9. 每千人床位数：目标 6，完成 5.99" in out
    assert out.strip().splitlines()[-1].startswith("合计：章 11，节 5，重点任务 33，工作举措 0，专栏 17，指标 20，回顾表行 16")


def test_a_draft_is_saved_for_a_planner_to_confirm(demo: Flask, db: Session) -> None:
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["import-plan", str(seed("001")), "--region", "330382"])
    assert result.exit_code == 0, result.output
    document = db.scalars(select(ImportDocument)).one()
    assert document.state == ImportState.DRAFT and document.plan_id is None
    assert f"/imports/{document.id}" in result.output and "合计：章 6" in result.output
    again = runner.invoke(args=["import-plan", str(seed("001")), "--region", "330382"])
    assert "该文件已有未确认的草稿" in again.output
    plan = plan_by_code(db, "yq-14")
    update = runner.invoke(args=["import-plan", str(seed("002")), "--plan-id", str(plan.id)])
    assert update.exit_code == 0 and "确认时可更新原规划" in update.output
    db.rollback()
    assert db.scalars(select(ImportDocument).order_by(ImportDocument.id.desc())).first().plan_id == plan.id


def test_mistakes_exit_with_a_message(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-plan", str(seed("003"))])
    assert result.exit_code == 1 and "须指定 --region 或 --plan-id" in result.output
    result = runner.invoke(args=["import-plan", str(seed("003")), "--plan-id", "999999"])
    assert result.exit_code == 1 and "规划 999999 不存在" in result.output
    bad = tmp_path / "plan.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0")
    result = runner.invoke(args=["import-plan", str(bad), "--dry-run"])
    assert result.exit_code == 1 and "不支持的文件类型" in result.output
    broken = tmp_path / "plan.pdf"
    broken.write_bytes(b"%PDF-1.4")
    result = runner.invoke(args=["import-plan", str(broken), "--dry-run"])
    assert result.exit_code == 1 and "PDF 文件已损坏" in result.output
    empty = tmp_path / "notes.txt"
    empty.write_text("会议纪要\n大家讨论。\n", encoding="utf-8")
    result = runner.invoke(args=["import-plan", str(empty), "--dry-run"])
    assert result.exit_code == 0 and "没有识别出章节" in result.output
