"""The search service: every kind found, each within the reader's scope as its list draws it; two-character
words, task codes, 督办单 numbers and characters that mean something to LIKE or FTS5 taken literally; a record
edited or deleted is found or not found at once (on SQLite through the FTS5 triggers, on PostgreSQL by the
columns themselves)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracker.errors import DomainError
from tracker.search import services
from tracker.search.services import Kind, excerpt, parse
from tracker.tasks.models import Milestone, ProgressReport, Task

from .conftest import World, found, user


def test_every_kind_is_found_by_a_long_and_a_short_word(world: World, db: Session) -> None:
    ids = world.ids
    expected = {
        "plans": {ids["plan"]}, "tasks": {ids["task"], ids["script"], ids["project_task"], ids["city_task"]},
        "milestones": {ids["milestone"]}, "projects": {ids["project"]}, "indicators": {ids["indicator"]},
        "cases": {ids["case"], ids["city_case"]}, "reports": {ids["report"], ids["city_report"]},
    }
    assert found(db, "zj_supervisor", "鹭岛") == expected  # two characters: the scan
    three = found(db, "zj_supervisor", "鹭岛试")  # three: the index
    assert three["tasks"] == {ids["task"]} and three["cases"] == {ids["case"]}
    assert found(db, "zj_supervisor", "院区门诊")["projects"] == {ids["project"]}  # the project's own text
    assert found(db, "zj_supervisor", "迁建项目")["projects"] == {ids["project"]}  # and its task's title
    assert found(db, "zj_supervisor", "名词解释")["indicators"] >= {ids["indicator"]}


def test_words_are_all_required_and_may_be_short_and_long(world: World, db: Session) -> None:
    ids = world.ids
    assert found(db, "zj_supervisor", "鹭岛 可复制经验")["tasks"] == {ids["task"]}  # one in the description
    assert found(db, "zj_supervisor", "鹭岛 温州")["tasks"] == {ids["city_task"]}
    assert found(db, "zj_supervisor", "鹭岛试点 不存在的词")["tasks"] == set()


def test_a_city_planner_sees_nothing_of_a_sibling_city(world: World, db: Session) -> None:
    """杭州 reads the province's plans (above it) but nothing of 温州, and no case or report outside 杭州."""
    ids = world.ids
    hz = found(db, "hz_planner", "鹭岛")
    assert ids["city_task"] not in hz["tasks"] and ids["task"] in hz["tasks"]
    assert hz["cases"] == set() and hz["reports"] == set()
    assert ids["city_plan"] not in found(db, "hz_planner", "温州")["plans"]


def test_department_heads_see_what_their_lists_show(world: World, db: Session) -> None:
    ids = world.ids
    wz_head = found(db, "wz_head_jk", "鹭岛")
    # the plan tree: tasks of the plans of the region and those above
    assert {ids["task"], ids["city_task"]} <= wz_head["tasks"]
    # the case list and the report list: the department's own
    assert wz_head["cases"] == {ids["city_case"]} and wz_head["reports"] == {ids["city_report"]}
    other = found(db, "zj_head_yz", "鹭岛")
    assert ids["task"] in other["tasks"] and other["cases"] == set() and other["reports"] == set()
    own = found(db, "zj_head_jk", "鹭岛")
    assert own["cases"] == {ids["case"]} and own["reports"] == {ids["report"]}


def test_a_city_supervisor_sees_the_city_and_the_plans_above_but_not_the_province_cases(world: World,
                                                                                         db: Session) -> None:
    ids = world.ids
    wz = found(db, "wz_supervisor", "鹭岛")
    assert wz["cases"] == {ids["city_case"]}
    assert {ids["task"], ids["city_task"]} <= wz["tasks"]


def test_a_task_code_finds_that_task_and_those_below_it(world: World, db: Session) -> None:
    ids = world.ids
    results = services.search(db, user(db, "zj_planner"), "9.8.7", kinds=[Kind.TASK])
    hits = results.groups[0].hits
    assert [h.id for h in hits] == [ids["task"], ids["child"]]  # not 19.8.7, the task itself first
    assert found(db, "zj_planner", "１.２")["tasks"]  # full-width digits as typed on a phone
    assert all(t.code == "1.2" or t.code.startswith("1.2.")
               for t in db.scalars(select(Task).where(Task.id.in_(found(db, "zj_planner", "1.2")["tasks"]))))


def test_a_case_number_finds_its_case(world: World, db: Session) -> None:
    ids = world.ids
    number = world.case_number  # 浙卫督〔2026〕n号
    assert number.startswith("浙卫督〔2026〕")
    seq = number.removeprefix("浙卫督〔2026〕").removesuffix("号")
    for typed in (number, f"浙卫督[2026]{seq}号", f"浙卫督（2026）{seq}", f"〔2026〕{seq}号", "浙卫督〔2026〕"):
        assert ids["case"] in found(db, "zj_supervisor", typed)["cases"], typed
    assert ids["case"] not in found(db, "zj_supervisor", f"温卫督〔2026〕{seq}号")["cases"]
    assert ids["city_case"] in found(db, "zj_supervisor", world.city_case_number)["cases"]
    assert found(db, "wz_head_jk", number)["cases"] == set()  # another department's case


@pytest.mark.parametrize("typed", ["%", "_", "%_", "100%_", '"NEAR"', '"NEAR" OR *', "OR *", "*", "'", "引号'与",
                                   "\\", "\\斜杠", "/", "//", 'NEAR(a b)', "a:b", "{title}", "^", "-"])
def test_special_characters_are_taken_literally(world: World, db: Session, typed: str) -> None:
    tasks = found(db, "zj_supervisor", typed)["tasks"]
    literal = world.ids["literal"]
    title = db.get(Task, literal).title  # type: ignore[union-attr]
    db.rollback()
    holds = all(word.casefold() in title.casefold() for word in typed.split())
    assert (literal in tasks) == holds, typed
    for task_id in tasks:  # nothing found that does not hold the characters
        task = db.get(Task, task_id)
        assert task is not None
        text = " ".join(filter(None, (task.code, task.title, task.description))).casefold()
        assert all(word.casefold() in text for word in typed.split()), (typed, task.title)


def test_an_edited_record_is_found_by_its_new_words_only(world: World, db: Session) -> None:
    ids = world.ids
    db.execute(update(Task).where(Task.id == ids["task"]).values(title="白鹭洲改革任务", description="全新描述"))
    db.execute(update(ProgressReport).where(ProgressReport.id == ids["report"]).values(achievements="沙洲进展"))
    db.commit()
    for word in ("鹭岛试点", "鹭岛"):
        assert ids["task"] not in found(db, "zj_supervisor", word)["tasks"]
    assert found(db, "zj_supervisor", "可复制经验")["tasks"] == set()
    assert ids["task"] in found(db, "zj_supervisor", "白鹭洲改革")["tasks"]
    assert ids["task"] in found(db, "zj_supervisor", "白鹭")["tasks"]
    assert ids["report"] in found(db, "zj_supervisor", "沙洲进展")["reports"]
    assert ids["report"] not in found(db, "zj_supervisor", "鹭岛进展")["reports"]
    # a column the index does not hold changes nothing found
    db.execute(update(Task).where(Task.id == ids["task"]).values(progress=55))
    db.commit()
    assert ids["task"] in found(db, "zj_supervisor", "白鹭洲改革")["tasks"]


def test_a_deleted_record_is_not_found(world: World, db: Session) -> None:
    ids = world.ids
    db.execute(delete(Milestone).where(Milestone.id == ids["milestone"]))
    db.execute(delete(ProgressReport).where(ProgressReport.id == ids["city_report"]))
    db.commit()
    assert found(db, "zj_supervisor", "鹭岛节点验收")["milestones"] == set()
    assert found(db, "zj_supervisor", "鹭岛节点")["milestones"] == set()
    assert ids["city_report"] not in found(db, "zj_supervisor", "鹭岛温州进展")["reports"]
    assert ids["report"] in found(db, "zj_supervisor", "鹭岛进展")["reports"]


def test_each_kind_is_limited_and_says_there_is_more(world: World, db: Session) -> None:
    results = services.search(db, user(db, "zj_supervisor"), "疾控", limit=3)
    tasks = next(g for g in results.groups if g.kind == Kind.TASK)
    assert len(tasks.hits) == 3 and tasks.more
    query, page = services.search_kind(db, user(db, "zj_supervisor"), "疾控", Kind.TASK, number=2, size=3)
    assert page.total > 6 and len(page.items) == 3
    assert not {h.id for h in page.items} & {h.id for h in tasks.hits}


def test_an_empty_query_finds_nothing_and_a_long_one_is_refused(world: World, db: Session) -> None:
    supervisor = user(db, "zj_supervisor")
    for typed in ("", "   ", None, "\u3000"):
        results = services.search(db, supervisor, typed)
        assert results.query.empty and results.groups == []
    with pytest.raises(DomainError, match="100"):
        parse("疾" * 101)
    with pytest.raises(DomainError, match="5个"):
        parse("a b c d e f")


def test_hits_carry_where_they_link_and_the_passage_found() -> None:
    assert excerpt(["甲" * 50 + "疾控" + "乙" * 50], ["疾控"]) == "…" + "甲" * 36 + "疾控" + "乙" * 36 + "…"
    assert excerpt([None, "短文本疾控"], ["疾控"]) == "短文本疾控"
    assert excerpt(["没有"], ["疾控"]) is None


def test_the_milestone_links_to_its_row_on_the_task_page(world: World, db: Session) -> None:
    results = services.search(db, user(db, "zj_supervisor"), "鹭岛节点", kinds=[Kind.MILESTONE])
    hit = results.groups[0].hits[0]
    assert (hit.endpoint, hit.args, hit.anchor) == ("tasks.show", {"task_id": world.ids["task"]},
                                                    f"milestone-{world.ids['milestone']}")


def test_short_words_alone_read_only_each_kind_s_newest_rows(world: World, db: Session,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ids = world.ids
    assert parse("鹭岛").bounded and parse("疾 控").bounded
    assert not parse("鹭岛试点").bounded and not parse("鹭岛 试点任务").bounded and not parse("1.2").bounded
    monkeypatch.setattr(services, "SHORT_SCAN_ROWS", 1)
    newest = db.scalar(select(Task.id).order_by(Task.id.desc()).limit(1))
    db.rollback()
    assert newest != ids["task"]
    assert found(db, "zj_supervisor", "鹭岛")["tasks"] <= {newest}
    assert ids["task"] in found(db, "zj_supervisor", "鹭岛试点")["tasks"]  # three characters: everything
    assert ids["task"] in found(db, "zj_supervisor", "鹭岛 试点任务")["tasks"]
