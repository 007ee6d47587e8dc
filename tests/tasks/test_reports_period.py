"""期次 is a choice by name: 第一季度 …, 1月 …, 上半年/下半年, 全年."""

from __future__ import annotations

import re

from flask import Flask

from tracker.tasks.models import ReportPeriod, period_name

from ..conftest import client_for


def test_period_names() -> None:
    assert period_name(ReportPeriod.QUARTER, 2026, 1) == "2026年第一季度"
    assert period_name(ReportPeriod.MONTH, 2026, 11) == "2026年11月"
    assert period_name(ReportPeriod.HALF, 2026, 2) == "2026年下半年"
    assert period_name(ReportPeriod.YEAR, 2025, 1) == "2025年度"


def test_the_report_form_offers_the_periods_by_name(demo: Flask) -> None:
    from sqlalchemy import select

    from tracker.tasks.models import Task, TaskLevel, TaskStatus

    with demo.extensions["tracker.sessions"]() as s:
        task_id = s.scalar(select(Task.id).join(Task.lead_department).where(
            Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS,
            Task.lead_department.has(name="疾控处")).order_by(Task.id))
    html = client_for(demo, "zj_head_jk").get(f"/tasks/{task_id}/reports/new").get_data(as_text=True)
    select_html = re.search(r'<select name="period_no".*?</select>', html, re.S).group(0)
    assert re.findall(r">([^<]+)</option>", select_html) == ["第一季度", "第二季度", "第三季度", "第四季度"]
    assert 'selected>第四季度' in select_html  # the demo's day is in the fourth quarter
    assert "data-periods=" in select_html and "11月" in html


def test_a_report_breaking_several_rules_hears_of_all_of_them_at_once(demo: Flask) -> None:
    """The second submit must not show a rule the first did not: every broken rule comes back together, each
    next to its field."""
    from sqlalchemy import select

    from tracker.tasks.models import Task, TaskLevel, TaskStatus

    with demo.extensions["tracker.sessions"]() as s:
        task_id = s.scalar(select(Task.id).join(Task.lead_department).where(
            Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS,
            Task.lead_department.has(name="疾控处")).order_by(Task.id))
    client = client_for(demo, "zj_head_jk")
    # 上半年/下半年 has no third 期次, and 2099 is a future year: both said in one answer
    response = client.post(f"/tasks/{task_id}/reports/new", data={
        "period": "half", "period_year": "2099", "period_no": "3", "progress": "40", "achievements": "推进中"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "半年报的期次应在 1 到 2 之间" in html and "填报年度应在" in html
