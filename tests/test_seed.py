"""The demo data loads from seeds/, completely, once, and refuses malformed files whole."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.indicators.models import Indicator, IndicatorValue
from tracker.planning.models import Plan
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.regions.models import Department, Region
from tracker.seeding import RECORDED_ON, SeedError, load_seeds
from tracker.tasks.models import Milestone, ProgressReport, Task, TaskLevel, TaskStatus, period_end

from .conftest import SEEDS


def _count(session: Session, stmt) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(stmt.subquery()))


def _plan(session: Session, code: str) -> Plan:
    return session.scalars(select(Plan).where(Plan.code == code)).one()


def test_provincial_plan_is_complete(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    zj14 = _plan(session, "zj-14")
    tasks = select(Task).where(Task.plan_id == zj14.id)
    assert _count(session, tasks.where(Task.level == TaskLevel.CHAPTER)) == 11
    key_codes = set(session.scalars(select(Task.code).where(Task.plan_id == zj14.id,
                                                            Task.level == TaskLevel.KEY_TASK)))
    assert key_codes == {str(n) for n in range(1, 34)}
    columns = set(session.scalars(select(Task.code).where(Task.plan_id == zj14.id, Task.code.like("专栏%"))))
    assert columns == {f"专栏{n}" for n in range(1, 18)}
    assert _count(session, select(KeyProject).join(Task).where(Task.plan_id == zj14.id)) == 17
    indicators = list(session.scalars(select(Indicator).where(Indicator.plan_id == zj14.id)))
    assert len(indicators) == 20
    assert sum(1 for i in indicators if i.definition) == 20
    life = next(i for i in indicators if i.name == "人均预期寿命")
    assert life.target_text == "80以上" and life.target_rule["op"] == "ge"


def test_thirteenth_plan_indicators_with_actuals(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    zj13 = _plan(session, "zj-13")
    indicators = list(session.scalars(select(Indicator).where(Indicator.plan_id == zj13.id)))
    assert len(indicators) == 16
    assert all(any(v.year == 2020 for v in i.values) for i in indicators)
    life = next(i for i in indicators if i.name == "人均预期寿命")
    assert (life.target_text, life.values[-1].value_text) == ("78.5", "79.47")


def test_city_and_county_plans_cascade(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    wz, yq, wl = (_plan(session, c) for c in ("wz-14", "yq-14", "wl-2021"))
    assert wz.parent.code == "zj-14" and yq.parent.code == "wz-14"
    wz_keys = list(session.scalars(select(Task).where(Task.plan_id == wz.id, Task.level == TaskLevel.KEY_TASK)))
    assert len(wz_keys) == 8
    assert all(t.upstream is not None and t.upstream.plan.code == "zj-14" for t in wz_keys)
    assert _count(session, select(Task).where(Task.plan_id == yq.id, Task.level == TaskLevel.KEY_TASK)) == 4
    # 乐清's 起草说明 lists eight 2025 resource indicators, all 指导性, two of them ratios
    yq_targets = {i.name: (i.target_text, i.target_year, i.nature.label)
                  for i in session.scalars(select(Indicator).where(Indicator.plan_id == yq.id))}
    assert yq_targets == {
        "每千常住人口医疗卫生机构床位数": ("4.50", 2025, "指导性"),
        "每千名老年人拥有医疗卫生机构康复护理床位数": ("5.50", 2025, "指导性"),
        "每千人拥有婴幼儿照护设施托位": ("4.50", 2025, "指导性"),
        "每千常住人口执业（助理）医师数": ("3.80", 2025, "指导性"),
        "每千常住人口注册护士数": ("3.54", 2025, "指导性"),
        "每万常住人口全科医生数": ("4.50", 2025, "指导性"),
        "医护比": ("1.00 : 0.93", 2025, "指导性"),
        "床人比": ("1.00 : 1.50", 2025, "指导性"),
    }
    assert _count(session, select(Task).where(Task.plan_id == wl.id, Task.level == TaskLevel.KEY_TASK)) == 10
    assert (wl.start_year, wl.end_year) == (2021, 2021)


def test_wenzhou_names_fifteen_2025_targets(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """温州's 起草说明 names these 2025 targets in its eight task paragraphs, and the seed carries each one."""
    wz = _plan(session, "wz-14")
    targets = {i.name: i.target_text for i in session.scalars(select(Indicator).where(Indicator.plan_id == wz.id))}
    assert targets == {
        "传染病收治能力": "1.5",
        "每千人医疗床位数": "6.0",
        "每千人执业（助理）医生数": "4.1",
        "每千人注册护士数": "4.51",
        "新增卫生高级职称人才": "1000以上",
        "生命健康产业总产值": "超1500",
        "国家卫生城市乡镇覆盖率": "90以上",
        "居民健康素养水平": "40",
        "健康浙江（温州）发展指数": "优于全省平均水平",
        "疾控机构标准化率": "100",
        "每千人3岁以下婴幼儿拥有照护设施托位": "4.5",
        "老年人健康管理率": "72以上",
        "省级以上中医（药）重点学科/专科": "20",
        "提供中医药服务的基层医疗卫生机构占比": "95",
        "卫生健康数字化改革综合指数": "92",
    }
    assert {i.target_year for i in wz.indicators} == {2025}


def test_wenling_carries_its_2021_goals_and_fourteenth_plan_targets(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """温岭's new-year article: 24 quantified 2021 goals in the ten actions, and 24 “十四五” targets for 2025."""
    wl = _plan(session, "wl-2021")
    by_year: dict[int, dict[str, str]] = {}
    for i in session.scalars(select(Indicator).where(Indicator.plan_id == wl.id)):
        by_year.setdefault(i.target_year, {})[i.name] = i.target_text
    assert sorted(by_year) == [2021, 2025] and len(by_year[2021]) == 24
    assert by_year[2025] == {
        "全市居民人均期望寿命": "80以上", "城乡居民健康素养水平": "32", "健康浙江发展指数": "80以上",
        "县域就诊率": "90", "智慧医疗覆盖率": "90以上", "镇（街道）、村（居）签约家庭医生服务覆盖": "全覆盖",
        "基层中医药服务普及率": "90", "疾控机构标准化率": "95", "传染病收治能力": "1.5",
        "重大慢病过早死亡率": "持续降低", "3岁以下婴幼儿托育机构覆盖率": "大幅提升",
        "政府投入": "增加", "个人卫生支出占卫生总费用比例": "低于26", "人均基本公共卫生服务经费": "稳步提高",
        "生活饮用水的二次供水合格率": "100", "二级以上医疗机构消毒隔离水平监测率": "100",
        "食品安全监测覆盖率": "90", "出生性别比": "控制在正常范围内",
        "每千人床位数": "7", "每千人执业（助理）医师数": "4.3", "每千人注册护士数": "5", "每万人全科医生数": "5",
        "国家级卫生人才数": "350", "城乡卫生健康资源的均衡化水平": "明显提高",
    }
    assert by_year[2021]["居民健康素养水平"] == "29" and by_year[2021]["国家优质服务基层行推荐卫生院"] == "3"


def test_provincial_key_tasks_are_decomposed_into_measures_and_annual_tasks(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    zj14 = _plan(session, "zj-14")
    tasks = list(session.scalars(select(Task).where(Task.plan_id == zj14.id)))
    children: dict[int | None, list[Task]] = {}
    for t in tasks:
        children.setdefault(t.parent_id, []).append(t)

    def decomposed(key: Task) -> bool:
        """Has a 工作举措 that is itself split into 年度任务."""
        return any(m.level == TaskLevel.MEASURE and any(a.level == TaskLevel.ANNUAL for a in children.get(m.id, []))
                   for m in children.get(key.id, []))

    keys = [t for t in tasks if t.level == TaskLevel.KEY_TASK]
    done = [t.code for t in keys if decomposed(t)]
    assert len(done) == 9, done  # the seed decomposes nine of the 33 key tasks down to annual tasks
    assert len(done) >= 8  # issue 2: at least eight


def test_demo_shows_done_in_progress_due_soon_and_overdue_work(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    today = RECORDED_ON
    leaf = select(Task).where(Task.level == TaskLevel.ANNUAL)
    assert _count(session, leaf.where(Task.status == TaskStatus.DONE)) >= 5
    open_ = leaf.where(Task.status.in_([TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED]))
    assert _count(session, open_.where(Task.deadline < today)) >= 8
    assert _count(session, open_.where(Task.deadline < today - timedelta(days=30))) >= 1
    assert _count(session, open_.where(Task.deadline.between(today, today + timedelta(days=15)))) >= 3
    assert _count(session, select(Milestone)) >= 30
    states = set(session.scalars(select(ProgressReport.state).distinct()))
    assert {s.value for s in states} == {"draft", "submitted", "confirmed", "returned"}


def test_the_seeds_hold_nothing_after_the_day_they_were_recorded(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The seeds are the plans as they stood on RECORDED_ON: nothing done, reported or measured later, and every
    annual task inside its plan's period (the 十四五 ends in 2025: it has no 2026 annual tasks)."""
    assert _count(session, select(Task).where(Task.completed_on > RECORDED_ON)) == 0
    assert _count(session, select(Milestone).where(Milestone.completed_on > RECORDED_ON)) == 0
    assert all(period_end(r.period, r.period_year, r.period_no) < RECORDED_ON
               for r in session.scalars(select(ProgressReport)))
    assert session.scalar(select(func.max(IndicatorValue.year))) < RECORDED_ON.year
    assert session.scalar(select(func.max(ProjectInvestment.year))) <= RECORDED_ON.year
    outside = session.execute(select(Plan.code, Task.code, Task.year).join(Task.plan)
                              .where(Task.level == TaskLevel.ANNUAL,
                                     (Task.year > Plan.end_year) | (Task.year < Plan.start_year))).all()
    assert outside == []
    # only a key project built after the period (续建) keeps its completion year as its task's deadline
    latest = select(func.max(Task.deadline)).join(Task.plan).where(Plan.code == "zj-14")
    assert session.scalar(latest.where(~Task.id.in_(select(KeyProject.task_id)))).year == 2025


def test_seeding_twice_changes_nothing(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    before = [_count(session, select(m)) for m in (Region, Department, Plan, Task, Indicator, Milestone)]
    assert load_seeds(session, SEEDS) == {}
    session.flush()
    after = [_count(session, select(m)) for m in (Region, Department, Plan, Task, Indicator, Milestone)]
    assert before == after


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("plans/030-wz-14.yaml", "level: 重点任务", "level: 大任务", "plans/030-wz-14.yaml · 规划 wz-14 任务 1 · level"),
        ("plans/040-yq-14.yaml", "deadline: 2025-12-31", "deadline: 2025-13-45", "· deadline：“2025-13-45”"),
        ("users.yaml", "role: 规划处", "role: 处长", "users.yaml · 用户"),
        ("plans/040-yq-14.yaml", "progress: ", "progress: 150 #", "超出范围"),
    ],
)
def test_malformed_seed_is_refused_whole(app, session: Session, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         file: str, old: str, new: str, message: str) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    path = root / file
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SeedError) as info:
        load_seeds(session, root)
    assert message in str(info.value)
    session.rollback()
    assert _count(session, select(Plan)) == 0
    assert _count(session, select(Region)) == 0
