"""我的工作台: the department's tasks, overdue first, filters and counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker import timeutil
from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskStatus

from ..conftest import login


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-task="(\d+)">', html)


def test_head_lands_on_workspace_with_overdue_first(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    response = client.get("/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "我的工作台" in html and "已逾期" in html and "15天内到期" in html
    ids = [int(i) for i in _rows(html)]
    with demo.extensions["tracker.sessions"]() as s:
        tasks = {t.id: t for t in s.scalars(select(Task).where(Task.id.in_(ids)))}
        dept = s.scalars(select(Department).where(Department.name == "疾控处")).first()
        today = timeutil.today()
        buckets = []
        for i in ids:
            t = tasks[i]
            assert t.lead_department_id == dept.id or dept in t.co_departments
            open_ = t.status in (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE)
            buckets.append(0 if open_ and t.deadline < today else 1 if open_ and (t.deadline - today).days <= 15
                           else 2 if open_ else 3)
    assert buckets and buckets == sorted(buckets)
    assert buckets[0] == 0, "an overdue task comes first"
    assert "逾期" in html


def test_filters_and_counts(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    html = client.get("/workspace?bucket=overdue").get_data(as_text=True)
    overdue_ids = _rows(html)
    assert overdue_ids
    assert "剩" not in html.split("workspace-tasks")[1]  # only overdue rows
    lead_html = client.get("/workspace?role=lead").get_data(as_text=True)
    co_html = client.get("/workspace?role=co").get_data(as_text=True)
    assert set(_rows(lead_html)).isdisjoint(_rows(co_html))
    assert "<td>配合</td>" not in lead_html and "<td>牵头</td>" not in co_html
    html = client.get("/workspace?status=done").get_data(as_text=True)
    assert "已完成" in html and "进行中</span>" not in html
    assert client.get("/workspace?year=2026").status_code == 200
    assert client.get("/workspace?view=milestones").status_code == 200
    for bad in ("status=finished", "role=boss", "year=abc", "bucket=later", "view=x", "page=0"):
        assert client.get(f"/workspace?{bad}").status_code == 400, bad


def _row_html(html: str, attribute: str, ident: int) -> str:
    return html.split(f'<tr {attribute}="{ident}">', 1)[1].split("</tr>", 1)[0]


def test_workspace_shows_last_report_and_is_department_scoped(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.planning.models import Plan
    from tracker.tasks.models import ProgressReport, TaskLevel, task_co_departments

    with demo.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 2)).one()
        co_ids = select(task_co_departments.c.task_id).where(task_co_departments.c.department_id == dept.id)
        expected = {t.id: t for t in s.scalars(
            select(Task).where((Task.lead_department_id == dept.id) | Task.id.in_(co_ids),
                               Task.level != TaskLevel.CHAPTER))}
        plans = {t.plan_id for t in expected.values()}
        plan_name = s.scalars(select(Plan.short_name).where(Plan.code == "wz-14")).one()
        assert plans == {s.scalars(select(Plan.id).where(Plan.code == "wz-14")).one()}
        reports = list(s.scalars(select(ProgressReport).where(ProgressReport.department_id == dept.id,
                                                              ProgressReport.task_id.in_(expected))))
        latest: dict[int, ProgressReport] = {}
        for r in sorted(reports, key=lambda r: (r.period_year, r.period_no)):
            latest[r.task_id] = r
        shown = {task_id: (r.id, r.period_label, r.state.label) for task_id, r in latest.items()}
    assert shown, "the city department has filed reports in the demo"
    client = demo.test_client()
    login(client, "wz_head_jk")
    html = client.get("/workspace").get_data(as_text=True)
    assert {int(i) for i in _rows(html)} == set(expected)
    assert "省卫健十四五" not in html  # no provincial tasks in a city department's workspace
    for task_id in expected:
        row = _row_html(html, "data-task", task_id)
        assert f"<td>{plan_name}</td>" in row
        if task_id in shown:
            report_id, label, state = shown[task_id]
            assert f'href="/reports/{report_id}">{label}</a>' in row and state in row
        else:
            assert "未填报" in row


# ------------------------------------------------------------------ the milestones tab


def _milestone_rows(html: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(r'<tr data-milestone="(\d+)">', html)]


def _count(html: str, label: str) -> str:
    import re

    counts = html.split('id="workspace-counts"', 1)[1].split("</div>\n<nav", 1)[0]
    found = re.search(rf"<span>{label}</span><strong>([^<]*)</strong>", counts)
    assert found, label
    return found.group(1)


def _department_milestones(demo, dept_name: str = "疾控处", region_id: int = 1):  # type: ignore[no-untyped-def]
    """(department, {milestone id: (milestone, "lead" | "co")}) for every milestone of the department's tasks."""
    from tracker.tasks.models import Milestone, task_co_departments

    with demo.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == dept_name,
                                                  Department.region_id == region_id)).one()
        co_ids = set(s.scalars(select(task_co_departments.c.task_id)
                               .where(task_co_departments.c.department_id == dept.id)))
        found = {}
        for m in s.scalars(select(Milestone).join(Task).where((Task.lead_department_id == dept.id)
                                                              | Task.id.in_(co_ids))):
            found[m.id] = (m, "lead" if m.task.lead_department_id == dept.id else "co")
        return dept, found


def test_milestones_tab_lists_lead_and_co_milestones_with_counts(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.tasks.models import MilestoneStatus

    _dept, found = _department_milestones(demo)
    today = timeutil.today()
    open_ = {i: (m, role) for i, (m, role) in found.items()
             if m.status in (MilestoneStatus.PENDING, MilestoneStatus.OVERDUE)}
    assert {role for _m, role in open_.values()} == {"lead", "co"}, "the demo has open milestones of both kinds"
    overdue = {i for i, (m, _r) in open_.items() if m.due_date < today}
    soon = {i for i, (m, _r) in open_.items() if today <= m.due_date and (m.due_date - today).days <= 15}
    client = demo.test_client()
    login(client, "zj_head_jk")
    html = client.get("/workspace?view=milestones").get_data(as_text=True)
    rows = _milestone_rows(html)
    assert set(rows) == set(open_)
    assert rows[:len(overdue)] == sorted(overdue, key=lambda i: (open_[i][0].due_date, i)), "overdue first"
    assert _count(html, "节点") == str(len(open_))
    assert _count(html, "已逾期") == str(len(overdue))
    assert _count(html, "15天内到期") == str(len(soon))
    lead = sum(1 for _m, role in open_.values() if role == "lead")
    assert _count(html, "牵头 / 配合") == f"{lead} / {len(open_) - lead}"
    for i, (_m, role) in open_.items():
        assert f"<td>{'牵头' if role == 'lead' else '配合'}</td>" in _row_html(html, "data-milestone", i)

    overdue_html = client.get("/workspace?view=milestones&bucket=overdue").get_data(as_text=True)
    assert set(_milestone_rows(overdue_html)) == overdue
    assert _count(overdue_html, "节点") == str(len(open_))  # the counts ignore the 期限 filter, as on the tasks tab


def test_milestones_tab_filters_by_role_and_milestone_status(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.tasks.models import MilestoneStatus

    _dept, found = _department_milestones(demo)
    client = demo.test_client()
    login(client, "zj_head_jk")

    def listed(query: str) -> set[int]:
        response = client.get(f"/workspace?view=milestones&{query}")
        assert response.status_code == 200, query
        return set(_milestone_rows(response.get_data(as_text=True)))

    is_open = {i for i, (m, _r) in found.items() if m.is_open}
    assert listed("role=co") == {i for i in is_open if found[i][1] == "co"} != set()
    assert listed("role=lead") == {i for i in is_open if found[i][1] == "lead"} != set()
    done = {i for i, (m, _r) in found.items() if m.status == MilestoneStatus.DONE}
    assert done and listed("status=done") == done
    assert listed("status=done&role=co") == {i for i in done if found[i][1] == "co"} != set()
    html = client.get("/workspace?view=milestones&status=done").get_data(as_text=True)
    assert _count(html, "节点") == str(len(done))
    assert '<option value="done" selected>' in html
    # the tasks tab's statuses are not milestone statuses, and back
    assert client.get("/workspace?view=milestones&status=in_progress").status_code == 400
    assert client.get("/workspace?status=pending").status_code == 400


def test_only_the_lead_head_is_offered_to_mark_a_milestone_done(demo) -> None:  # type: ignore[no-untyped-def]
    _dept, found = _department_milestones(demo)
    lead = [i for i, (m, role) in found.items() if m.is_open and role == "lead"]
    co = [i for i, (m, role) in found.items() if m.is_open and role == "co"]
    assert lead and co
    head = demo.test_client()
    login(head, "zj_head_jk")
    html = head.get("/workspace?view=milestones").get_data(as_text=True)
    for i in lead:
        assert f'href="/milestones/{i}/complete"' in _row_html(html, "data-milestone", i)
        assert head.get(f"/milestones/{i}/complete").status_code == 200
    for i in co:
        assert "/complete" not in _row_html(html, "data-milestone", i)
        response = head.get(f"/milestones/{i}/complete")  # the rule stays: co-operating departments may not
        assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    staff = demo.test_client()
    login(staff, "zj_staff_jk")
    html = staff.get("/workspace?view=milestones").get_data(as_text=True)
    assert set(_milestone_rows(html)) == set(lead) | set(co) and "/complete" not in html


def test_milestones_tab_selects_by_the_id_union() -> None:
    """Lead or co-operating is the union of two id sets each index answers, not an OR over every task."""
    from tracker.workspace.services import WorkspaceFilters, milestone_query

    sql = str(milestone_query(6, WorkspaceFilters(), date(2026, 11, 22)))
    assert "UNION" in sql and " OR " not in sql


def test_task_badge_shows_the_most_severe_of_two_open_alerts(demo) -> None:  # type: ignore[no-untyped-def]
    """A task with a 逾期 (deadline) and a 滞后 (pace) alert shows 逾期, whichever row the database returns last."""
    from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget

    client = demo.test_client()
    login(client, "zj_head_jk")
    today = timeutil.today()
    with demo.extensions["tracker.sessions"]() as s:
        shown = [int(i) for i in _rows(client.get("/workspace?bucket=overdue").get_data(as_text=True))]
        assert shown, "the demo has an overdue task"
        task = s.get(Task, shown[0])
        for alert in s.scalars(select(Alert).where(Alert.task_id == task.id, Alert.status == AlertStatus.OPEN)):
            alert.status, alert.resolved_at = AlertStatus.CANCELLED, timeutil.now()
        s.flush()
        # the more severe one first, so a "last row wins" reading would show 滞后
        for rule, level in ((AlertRule.DEADLINE, AlertLevel.OVERDUE), (AlertRule.PACE, AlertLevel.LAGGING)):
            s.add(Alert(rule=rule, level=level, target=AlertTarget.TASK, task_id=task.id, due_date=task.deadline,
                        raised_on=today, level_changed_on=today))
        s.commit()
    row = _row_html(client.get("/workspace?bucket=overdue").get_data(as_text=True), "data-task", task.id)
    assert '<span class="badge alert-overdue">逾期</span>' in row
    assert "alert-lagging" not in row
