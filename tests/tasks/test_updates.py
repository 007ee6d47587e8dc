"""Updating work: status and progress, roll-up, milestones with evidence and files, progress reports,
stale saves, audit entries."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tracker.attachments.models import Attachment
from tracker.audit import AuditEntry
from tracker.regions.models import Department
from tracker.tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
)

from ..conftest import login


def _leaf(demo, dept_name: str = "疾控处") -> Task:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == dept_name, Department.region_id == 1)).one()
        return s.scalars(select(Task).where(Task.lead_department_id == dept.id, Task.level == TaskLevel.ANNUAL,
                                            Task.status == TaskStatus.IN_PROGRESS, Task.parent_id.is_not(None))
                         .order_by(Task.deadline)).first()


def _get(demo, model, ident):  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        return s.get(model, ident)


@pytest.fixture
def head(demo):  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    return client


def test_head_updates_progress_and_parent_rolls_up(demo, head) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    response = head.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 95, "note": "加快推进",
                                                           "version": task.version_id})
    assert response.status_code == 302
    updated = _get(demo, Task, task.id)
    assert updated.progress == 95 and updated.version_id == task.version_id + 1
    with demo.extensions["tracker.sessions"]() as s:
        children = list(s.scalars(select(Task).where(Task.parent_id == task.parent_id,
                                                      Task.status != TaskStatus.TERMINATED)))
        expected = round(sum(c.progress * c.weight for c in children) / sum(c.weight for c in children))
        assert s.get(Task, task.parent_id).progress == expected
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                   AuditEntry.object_id == task.id)).one()
        assert entry.changes["progress"] == [task.progress, 95]
        assert entry.actor.username == "zj_head_jk"
    html = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "操作记录" in html and "更新状态和进度" in html


def _ancestors(demo, task_id: int) -> list[Task]:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        chain, node = [], s.get(Task, task_id).parent
        while node is not None:
            chain.append(node)
            node = node.parent
        s.expunge_all()
        return chain


def _roll_up_entries(demo, task_id: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                          AuditEntry.object_id == task_id,
                                                          AuditEntry.action == "roll_up")))
        for e in entries:
            _ = e.actor
        s.expunge_all()
        return entries


def test_rolled_up_parents_get_an_audit_entry_and_a_new_version(demo, head) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    before = _ancestors(demo, task.id)
    seeded = {a.id: {e.id for e in _roll_up_entries(demo, a.id)} for a in before}  # the seeds' own roll-up
    assert all(e.actor is None for a in before for e in _roll_up_entries(demo, a.id))
    new_progress = 5 if task.progress > 50 else 100
    assert head.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": new_progress,
                                                       "version": task.version_id}).status_code == 302
    after = {a.id: a for a in _ancestors(demo, task.id)}
    changed = [a for a in before if after[a.id].progress != a.progress]
    assert changed and changed[0].id == task.parent_id, "the direct parent's figure moves"
    for old in before:
        new = after[old.id]
        entries = [e for e in _roll_up_entries(demo, old.id) if e.id not in seeded[old.id]]
        if new.progress == old.progress:  # an unchanged parent keeps its version and gets no entry
            assert new.version_id == old.version_id and entries == []
            continue
        assert new.version_id == old.version_id + 1
        (entry,) = entries
        assert entry.summary == "由下级任务汇总" and entry.actor.username == "zj_head_jk"
        assert entry.changes == {"progress": [old.progress, new.progress],
                                 "version_id": [old.version_id, old.version_id + 1]}
    html = head.get(f"/tasks/{task.parent_id}").get_data(as_text=True).split('id="history"', 1)[1]
    assert "由下级任务汇总" in html and f"{before[0].progress} → {after[task.parent_id].progress}" in html


def test_stale_form_on_a_rolled_up_parent_is_refused(demo, head) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    parent = _ancestors(demo, task.id)[0]
    planner = demo.test_client()
    login(planner, "zj_planner")
    form = planner.get(f"/tasks/{parent.id}/status").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{parent.version_id}"' in form
    new_progress = 5 if task.progress > 50 else 100
    assert head.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": new_progress,
                                                       "version": task.version_id}).status_code == 302
    rolled = _get(demo, Task, parent.id)
    assert rolled.progress != parent.progress
    # the planner saves the form loaded before the roll-up (with the figure it showed)
    response = planner.post(f"/tasks/{parent.id}/status", data={
        "status": "suspended", "progress": parent.progress, "note": "等待上级部署", "version": parent.version_id})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已被他人修改" in html and "由下级任务汇总" in html and f"{parent.progress} → {rolled.progress}" in html
    after = _get(demo, Task, parent.id)
    assert (after.status, after.progress, after.version_id) == (rolled.status, rolled.progress, rolled.version_id)


def test_plan_roll_up_is_set_based(demo) -> None:  # type: ignore[no-untyped-def]
    """Re-rolling a whole plan costs the same few statements a level however many parents change."""
    from sqlalchemy import event, update

    from tracker.auth.models import User
    from tracker.planning.models import Plan
    from tracker.tasks.services import roll_up_plan

    engine = demo.extensions["tracker.engine"]
    with demo.extensions["tracker.sessions"]() as s:
        plan_id = s.scalars(select(Plan.id).where(Plan.code == "zj-14")).one()
        s.execute(update(Task).where(Task.plan_id == plan_id, Task.level == TaskLevel.ANNUAL,
                                     Task.status != TaskStatus.TERMINATED).values(progress=100))
        s.commit()
        planner = s.scalars(select(User).where(User.username == "zj_planner")).one()
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
        rolled_before = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "roll_up"))
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            roll_up_plan(s, plan_id, planner)
            s.commit()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        written = s.scalar(select(func.count()).select_from(AuditEntry)) - entries
        rolled = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "roll_up"))
    assert written == rolled - rolled_before > 12
    writes = [st for st in statements if st.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) <= 6, writes  # one INSERT … SELECT and one UPDATE for each of the three levels


def test_done_below_100_needs_a_reason_and_sets_completion_date(demo, head) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    response = head.post(f"/tasks/{task.id}/status", data={"status": "done", "progress": 80, "version": task.version_id})
    assert response.status_code == 422
    assert "须在说明中写明原因" in response.get_data(as_text=True)
    assert _get(demo, Task, task.id).status == TaskStatus.IN_PROGRESS
    response = head.post(f"/tasks/{task.id}/status", data={"status": "done", "progress": 100, "version": task.version_id})
    assert response.status_code == 302
    done = _get(demo, Task, task.id)
    assert done.status == TaskStatus.DONE and str(done.completed_on) == "2025-11-22"


@pytest.mark.parametrize(("data", "message"), [
    ({"status": "in_progress", "progress": 101}, "进度须在 0 到 100 之间"),
    ({"status": "in_progress", "progress": -5}, "进度须在 0 到 100 之间"),
    ({"status": "in_progress", "progress": "abc"}, "不是有效的整数"),
    ({"status": "overdue", "progress": 10}, "不是有效的选择"),
    ({"status": "suspended", "progress": 10}, "须写明原因"),
])
def test_bad_status_input_is_refused_next_to_the_field(demo, head, data, message) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    response = head.post(f"/tasks/{task.id}/status", data={**data, "version": task.version_id})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "field-error" in html or "flash-error" in html
    assert message in html
    assert _get(demo, Task, task.id).version_id == task.version_id


def test_parent_progress_cannot_be_typed(demo, head) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        parent = s.get(Task, _leaf(demo).parent_id)
    response = head.post(f"/tasks/{parent.id}/status",
                         data={"status": "in_progress", "progress": (parent.progress + 7) % 100,
                               "version": parent.version_id})
    assert response.status_code == 422 and "自动汇总" in response.get_data(as_text=True)


def test_stale_save_is_refused_with_what_changed(demo) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    first, second = demo.test_client(), demo.test_client()
    login(first, "zj_head_jk")
    login(second, "zj_planner")
    assert first.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 70,
                                                        "version": task.version_id}).status_code == 302
    response = second.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 20,
                                                             "version": task.version_id})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已被他人修改" in html and f"进度（%）：{task.progress} → 70" in html and "progress：" not in html
    assert _get(demo, Task, task.id).progress == 70
    # the history tab names the fields in Chinese, as the message does
    page = first.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f"进度（%）</span>：{task.progress} → 70" in page and "<code>progress</code>" not in page
    assert "version_id" not in page


def _task_where(demo, *, co: str | None = None, not_involved: str | None = None) -> Task:  # type: ignore[no-untyped-def]
    """An open provincial annual task that department ``co`` co-operates on (and does not lead), or that
    department ``not_involved`` neither leads nor co-operates on."""
    from tracker.tasks.models import task_co_departments

    with demo.extensions["tracker.sessions"]() as s:
        name = co or not_involved
        dept = s.scalars(select(Department).where(Department.name == name, Department.region_id == 1)).one()
        co_of_dept = select(task_co_departments.c.task_id).where(task_co_departments.c.department_id == dept.id)
        stmt = select(Task).where(Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS,
                                  Task.lead_department_id != dept.id)
        stmt = stmt.where(Task.id.in_(co_of_dept)) if co else stmt.where(Task.id.not_in(co_of_dept))
        return s.scalars(stmt.order_by(Task.deadline, Task.id)).first()


def test_co_department_cannot_change_status(demo) -> None:  # type: ignore[no-untyped-def]
    task = _task_where(demo, co="医政医管处")
    with demo.extensions["tracker.sessions"]() as s:
        full = s.get(Task, task.id)
        assert "医政医管处" in {d.name for d in full.co_departments} and full.lead_department.name != "医政医管处"
    client = demo.test_client()
    login(client, "zj_head_yz")
    assert client.get(f"/tasks/{task.id}/reports/new").status_code == 200  # a co-department reports its part
    assert client.get(f"/tasks/{task.id}/status").status_code == 403
    response = client.post(f"/tasks/{task.id}/status", data={"status": "done", "progress": 100,
                                                             "version": task.version_id})
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    after = _get(demo, Task, task.id)
    assert (after.status, after.progress, after.version_id) == (task.status, task.progress, task.version_id)


def _open_milestone(demo) -> Milestone:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
        return s.scalars(select(Milestone).join(Task).where(Task.lead_department_id == dept.id,
                                                             Milestone.status == MilestoneStatus.PENDING)
                         .order_by(Milestone.due_date)).first()


def test_mark_milestone_done_with_evidence_and_file(demo, head) -> None:  # type: ignore[no-untyped-def]
    m = _open_milestone(demo)
    pdf = (io.BytesIO(b"%PDF-1.4\n% evidence\n"), "验收报告.pdf")
    response = head.post(f"/milestones/{m.id}/complete", data={
        "completed_on": "2025-11-20", "evidence": "已完成验收，见验收报告", "version": m.version_id, "files": pdf,
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    done = _get(demo, Milestone, m.id)
    assert done.status == MilestoneStatus.DONE and str(done.completed_on) == "2025-11-20"
    with demo.extensions["tracker.sessions"]() as s:
        attachment = s.scalars(select(Attachment).where(Attachment.milestone_id == m.id)).one()
    assert attachment.filename == "验收报告.pdf" and len(attachment.sha256) == 64
    with head.get(f"/attachments/{attachment.id}") as download:
        assert download.status_code == 200 and download.data.startswith(b"%PDF")
    anonymous = demo.test_client().get(f"/attachments/{attachment.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_attachment_of_another_citys_task_is_forbidden(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.planning.models import Plan

    with demo.extensions["tracker.sessions"]() as s:
        m = s.scalars(select(Milestone).join(Task).join(Plan).where(Plan.code == "wz-14",
                                                                     Milestone.status == MilestoneStatus.PENDING)).first()
    assert m is not None
    planner = demo.test_client()
    login(planner, "wz_planner")
    response = planner.post(f"/milestones/{m.id}/complete", data={
        "completed_on": "2025-11-20", "evidence": "完成", "version": m.version_id,
        "files": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        attachment = s.scalars(select(Attachment).where(Attachment.milestone_id == m.id)).one()
    outsider = demo.test_client()
    login(outsider, "hz_planner")
    assert outsider.get(f"/attachments/{attachment.id}").status_code == 403
    with planner.get(f"/attachments/{attachment.id}") as download:
        assert download.status_code == 200


@pytest.mark.parametrize(("name", "content", "message"), [
    ("报告.exe", b"MZ\x90\x00", "不支持的文件类型"),
    ("伪装.pdf", b"MZ\x90\x00 not a pdf", "内容与扩展名不符"),
    ("空.pdf", b"", "是空的"),
])
def test_disallowed_uploads_are_refused_and_nothing_is_saved(demo, head, name, content, message) -> None:  # type: ignore[no-untyped-def]
    m = _open_milestone(demo)
    response = head.post(f"/milestones/{m.id}/complete", data={
        "completed_on": "2025-11-20", "evidence": "材料", "version": m.version_id, "files": (io.BytesIO(content), name),
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _get(demo, Milestone, m.id).status == MilestoneStatus.PENDING


def test_oversized_upload_is_refused(demo, head) -> None:  # type: ignore[no-untyped-def]
    from tracker.attachments.services import MAX_FILE_BYTES, check_upload
    from tracker.errors import DomainError

    with pytest.raises(DomainError, match="超过 10 MB"):
        check_upload("a.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES)
    m = _open_milestone(demo)
    demo.config["MAX_CONTENT_LENGTH"] = 4096  # the request as a whole is capped too
    response = head.post(f"/milestones/{m.id}/complete", data={
        "completed_on": "2025-11-20", "evidence": "材料", "version": m.version_id,
        "files": (io.BytesIO(b"%PDF-" + b"0" * 8000), "a.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    assert _get(demo, Milestone, m.id).status == MilestoneStatus.PENDING


def test_milestone_completion_in_the_future_is_refused(demo, head) -> None:  # type: ignore[no-untyped-def]
    m = _open_milestone(demo)
    response = head.post(f"/milestones/{m.id}/complete", data={"completed_on": "2025-12-25", "evidence": "x",
                                                               "version": m.version_id})
    assert response.status_code == 422 and "不能晚于今天" in response.get_data(as_text=True)


def test_report_draft_submit_return_resubmit_confirm(demo) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    staff, head, planner = demo.test_client(), demo.test_client(), demo.test_client()
    login(staff, "zj_staff_jk")
    login(head, "zj_head_jk")
    login(planner, "zj_planner")
    form = {"period": "quarter", "period_year": 2025, "period_no": 4, "progress": 90,
            "achievements": "完成季度目标", "problems": "资金到位慢", "next_steps": "加快验收"}
    response = staff.post(f"/tasks/{task.id}/reports/new", data=form)
    assert response.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        report = s.scalars(select(ProgressReport).where(ProgressReport.task_id == task.id)
                           .order_by(ProgressReport.id.desc())).first()
    assert report.state == ReportState.DRAFT
    # staff may not submit; the head does
    assert staff.post(f"/reports/{report.id}/submit", data={"version": report.version_id}).status_code == 403
    assert head.post(f"/reports/{report.id}/submit", data={"version": report.version_id}).status_code == 302
    report = _get(demo, ProgressReport, report.id)
    assert report.state == ReportState.SUBMITTED
    # returning needs a reason
    planner.post(f"/reports/{report.id}/return", data={"version": report.version_id, "reason": ""})
    assert _get(demo, ProgressReport, report.id).state == ReportState.SUBMITTED
    assert planner.post(f"/reports/{report.id}/return", data={"version": report.version_id,
                                                              "reason": "请补充资金数据"}).status_code == 302
    report = _get(demo, ProgressReport, report.id)
    assert report.state == ReportState.RETURNED and report.return_reason == "请补充资金数据"
    assert "请补充资金数据" in head.get(f"/reports/{report.id}").get_data(as_text=True)
    # fix and resubmit, then confirm
    assert head.post(f"/reports/{report.id}/edit", data={**form, "achievements": "完成季度目标，已到位资金1200万元",
                                                          "version": report.version_id}).status_code == 302
    report = _get(demo, ProgressReport, report.id)
    assert head.post(f"/reports/{report.id}/submit", data={"version": report.version_id}).status_code == 302
    report = _get(demo, ProgressReport, report.id)
    assert planner.post(f"/reports/{report.id}/confirm", data={"version": report.version_id}).status_code == 302
    report = _get(demo, ProgressReport, report.id)
    assert report.state == ReportState.CONFIRMED and report.return_reason is None
    # a confirmed report is closed for edits and transitions
    assert head.post(f"/reports/{report.id}/edit", data={**form, "version": report.version_id}).status_code == 409
    assert planner.post(f"/reports/{report.id}/return", data={"version": report.version_id,
                                                              "reason": "x"}).status_code == 409
    with demo.extensions["tracker.sessions"]() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "progress_reports",
                                                                 AuditEntry.object_id == report.id)
                                 .order_by(AuditEntry.id)))
    assert actions == ["create", "submit", "return", "update", "submit", "confirm"]


def test_duplicate_period_and_bad_period_are_refused(demo, head) -> None:  # type: ignore[no-untyped-def]
    task = _leaf(demo)
    form = {"period": "quarter", "period_year": 2025, "period_no": 4, "progress": 50, "achievements": "进展"}
    assert head.post(f"/tasks/{task.id}/reports/new", data=form).status_code == 302
    again = head.post(f"/tasks/{task.id}/reports/new", data=form)
    assert again.status_code == 422 and "已存在" in again.get_data(as_text=True)
    with demo.extensions["tracker.sessions"]() as s:  # the refusal links to the report it would repeat
        existing = s.scalars(select(ProgressReport.id).where(ProgressReport.task_id == task.id)
                             .order_by(ProgressReport.id.desc())).first()
    assert f'<a href="/reports/{existing}">打开原填报</a>' in again.get_data(as_text=True)
    bad = head.post(f"/tasks/{task.id}/reports/new", data={**form, "period_no": 5})
    assert bad.status_code == 422 and "1 到 4" in bad.get_data(as_text=True)
    future = head.post(f"/tasks/{task.id}/reports/new", data={**form, "period_year": 2026, "period_no": 1})
    assert future.status_code == 422


def test_outsider_cannot_report(demo) -> None:  # type: ignore[no-untyped-def]
    task = _task_where(demo, not_involved="中医药管理处")
    with demo.extensions["tracker.sessions"]() as s:
        full = s.get(Task, task.id)
        involved = {full.lead_department.name} | {d.name for d in full.co_departments}
        reports = s.scalar(select(func.count()).select_from(ProgressReport).where(ProgressReport.task_id == task.id))
    assert "中医药管理处" not in involved
    client = demo.test_client()
    login(client, "zj_head_zy")
    assert client.get(f"/tasks/{task.id}").status_code == 200  # the task is in scope; reporting is not
    response = client.get(f"/tasks/{task.id}/reports/new")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    form = {"period": "quarter", "period_year": 2025, "period_no": 4, "progress": 50, "achievements": "进展"}
    assert client.post(f"/tasks/{task.id}/reports/new", data=form).status_code == 403
    with demo.extensions["tracker.sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(ProgressReport)
                        .where(ProgressReport.task_id == task.id)) == reports


def test_audit_count_grows_per_change(demo, head) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    task = _leaf(demo)
    ancestors = _ancestors(demo, task.id)
    head.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 91, "version": task.version_id})
    now = {a.id: a.progress for a in _ancestors(demo, task.id)}
    moved = sum(1 for a in ancestors if now[a.id] != a.progress)  # one roll-up entry per parent that moved
    with demo.extensions["tracker.sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 1 + moved


def test_the_report_list_puts_what_each_side_acts_on_first(demo) -> None:  # type: ignore[no-untyped-def]
    """A department finds its returned reports and drafts to submit first; a planner the submitted ones."""
    from tracker.auth.models import User
    from tracker.tasks.queries import report_list

    with demo.extensions["tracker.sessions"]() as s:
        for username, first in (("zj_head_jk", {ReportState.RETURNED, ReportState.DRAFT}),
                                ("zj_planner", {ReportState.SUBMITTED})):
            user = s.scalars(select(User).where(User.username == username)).one()
            states = [r.state for r in s.scalars(report_list(s, user))]
            assert states, username
            ranks = [0 if st in first else 1 for st in states]
            assert ranks == sorted(ranks), (username, states)
