"""Small builders for test data; each flushes and returns the new object."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tracker.auth.models import Role, User
from tracker.planning.models import Plan, PlanLevel, PlanStage
from tracker.regions.models import Department, DepartmentKind, Region, RegionLevel
from tracker.tasks.models import Milestone, Task, TaskLevel, TaskStatus

_seq = count(1)
_HASH = generate_password_hash("demo1234", method="pbkdf2:sha256:1000")


def region(session: Session, name: str = "浙江省", level: RegionLevel = RegionLevel.PROVINCE,
           parent: Region | None = None) -> Region:
    obj = Region(code=f"9{next(_seq):05d}", name=name, level=level, parent=parent)
    session.add(obj)
    session.flush()
    return obj


def department(session: Session, region: Region, name: str | None = None,
               kind: DepartmentKind = DepartmentKind.DIVISION) -> Department:
    obj = Department(region=region, name=name or f"部门{next(_seq)}", kind=kind)
    session.add(obj)
    session.flush()
    return obj


def user(session: Session, department: Department, role: Role = Role.DEPT_HEAD, username: str | None = None) -> User:
    obj = User(username=username or f"user{next(_seq)}", name="测试用户", role=role, department=department,
               password_hash=_HASH)
    session.add(obj)
    session.flush()
    return obj


def plan(session: Session, region: Region, **kw: Any) -> Plan:
    n = next(_seq)
    values: dict[str, Any] = dict(code=f"p{n}", title=f"测试规划{n}", short_name=f"规划{n}", level=PlanLevel.PROVINCE,
                                  region=region, start_year=2021, end_year=2025, stage=PlanStage.EXECUTING)
    values.update(kw)
    obj = Plan(**values)
    session.add(obj)
    session.flush()
    return obj


def task(session: Session, plan: Plan, lead: Department | None, **kw: Any) -> Task:
    n = next(_seq)
    values: dict[str, Any] = dict(plan=plan, level=TaskLevel.KEY_TASK, code=str(n), title=f"测试任务{n}",
                                  lead_department=lead, start_date=date(2026, 1, 1), deadline=date(2026, 12, 31),
                                  status=TaskStatus.IN_PROGRESS, progress=10)
    values.update(kw)
    obj = Task(**values)
    session.add(obj)
    session.flush()
    return obj


def milestone(session: Session, task: Task, **kw: Any) -> Milestone:
    values: dict[str, Any] = dict(task=task, title="节点", due_date=date(2026, 6, 30))
    values.update(kw)
    obj = Milestone(**values)
    session.add(obj)
    session.flush()
    return obj
