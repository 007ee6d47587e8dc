"""A small province for the overdue-engine tests: a province, a city with two counties, their
departments and users, and one plan per region being carried out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tracker.auth.models import Role, User
from tracker.planning.models import Plan, PlanLevel
from tracker.regions.models import Department, Region, RegionLevel
from tracker.tasks.models import Milestone, Task

from .. import factories as f


@dataclass
class World:
    province: Region
    city: Region
    county_a: Region
    county_b: Region
    depts: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)

    def task(self, session: Session, deadline: date, *, plan: str = "province", lead: str = "jk",
             **kw: Any) -> Task:
        kw.setdefault("start_date", min(deadline, date(2025, 1, 1)))
        return f.task(session, self.plans[plan], self.depts[lead], deadline=deadline, **kw)

    def milestone(self, session: Session, task: Task, due: date, **kw: Any) -> Milestone:
        return f.milestone(session, task, due_date=due, **kw)


def build_world(session: Session) -> World:
    province = f.region(session, "浙江省", RegionLevel.PROVINCE)
    city = f.region(session, "温州市", RegionLevel.CITY, province)
    county_a = f.region(session, "乐清市", RegionLevel.COUNTY, city)
    county_b = f.region(session, "鹿城区", RegionLevel.COUNTY, city)
    w = World(province, city, county_a, county_b)
    w.depts = {
        "jk": f.department(session, province, "疾控处"),
        "yz": f.department(session, province, "医政医管处"),
        "dc": f.department(session, province, "督查室"),
        "city_jk": f.department(session, city, "疾控处"),
        "city_dc": f.department(session, city, "督查室"),
        "a_jk": f.department(session, county_a, "疾控科"),
        "a_dc": f.department(session, county_a, "督查室"),
        "b_jk": f.department(session, county_b, "疾控科"),
    }
    w.users = {
        "supervisor": f.user(session, w.depts["dc"], Role.SUPERVISOR, "sup"),
        "admin": f.user(session, w.depts["dc"], Role.ADMIN, "adm"),
        "planner": f.user(session, w.depts["jk"], Role.PLANNER, "planner"),
        "leader": f.user(session, w.depts["dc"], Role.LEADER, "leader"),
        "evaluator": f.user(session, w.depts["dc"], Role.EVALUATOR, "evaluator"),
        "head_jk": f.user(session, w.depts["jk"], Role.DEPT_HEAD, "head_jk"),
        "staff_jk": f.user(session, w.depts["jk"], Role.DEPT_STAFF, "staff_jk"),
        "head_yz": f.user(session, w.depts["yz"], Role.DEPT_HEAD, "head_yz"),
        "city_supervisor": f.user(session, w.depts["city_dc"], Role.SUPERVISOR, "city_sup"),
        "a_supervisor": f.user(session, w.depts["a_dc"], Role.SUPERVISOR, "a_sup"),
        "a_head": f.user(session, w.depts["a_jk"], Role.DEPT_HEAD, "a_head"),
        "b_head": f.user(session, w.depts["b_jk"], Role.DEPT_HEAD, "b_head"),
    }
    w.plans = {
        "province": f.plan(session, province, short_name="省规划", start_year=2021, end_year=2025),
        "city": f.plan(session, city, short_name="市规划", level=PlanLevel.CITY),
        "a": f.plan(session, county_a, short_name="乐清规划", level=PlanLevel.COUNTY),
        "b": f.plan(session, county_b, short_name="鹿城规划", level=PlanLevel.COUNTY),
    }
    return w
