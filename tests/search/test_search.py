"""The search service: every kind found, each within the reader's scope as its list draws it; two-character
words, task codes, 督办单 numbers and characters that mean something to LIKE or FTS5 taken literally; a record
edited or deleted is found or not found at once (on SQLite through the FTS5 triggers, on PostgreSQL by the
columns themselves)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tracker.errors import DomainError
from tracker.search import services
from tracker.search.services import Kind, excerpt, parse
from tracker.supervision.models import SupervisionCase
from tracker.tasks.models import Milestone, ProgressReport, Task

from .conftest import World, found, new_task, user


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
    number = world.case_number  # 浙卫督〔<year>〕n号
    year = db.get(SupervisionCase, ids["case"]).number_year  # type: ignore[union-attr]
    db.rollback()
    assert number.startswith(f"浙卫督〔{year}〕")
    seq = number.removeprefix(f"浙卫督〔{year}〕").removesuffix("号")
    for typed in (number, f"浙卫督[{year}]{seq}号", f"浙卫督（{year}）{seq}", f"〔{year}〕{seq}号", f"浙卫督〔{year}〕"):
        assert ids["case"] in found(db, "zj_supervisor", typed)["cases"], typed
    assert ids["case"] not in found(db, "zj_supervisor", f"温卫督〔{year}〕{seq}号")["cases"]
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
    assert found(db, "zj_supervisor", "鹭岛")["milestones"] == set()
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


def _plain_like(dialect: str, sources: list[services.Source], term: str, cap: int | None = None,
                indexed: bool = True) -> Any:
    """A word's match without any index: LIKE (ILIKE) of the columns."""
    return or_(*(services._like(dialect, source, term) for source in sources))


SHORT_WORDS = ["鹭", "岛", "鹭岛", "温州", "试点", "疾控", "县", "点 验", "Sc", "sC", "rI", "t", "%", "_", "%_", "/", "'",
               '"', "*", "1.", ".1", "9", "甲", "。", "（", "不存", "鹭岛 温州", "鹭 可复制经验"]


@pytest.mark.parametrize("username", ["zj_supervisor", "hz_planner", "wz_head_jk", "zj_head_jk", "wz_supervisor"])
def test_short_words_find_what_the_plain_like_finds_in_the_same_scope(world: World, db: Session, username: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """One- and two-character words go through the index of characters and pairs (SQLite: FTS5; PostgreSQL: GIN on
    search_grams), yet every kind finds exactly the records that LIKE of the columns finds, whatever their age."""
    indexed = {word: found(db, username, word) for word in SHORT_WORDS}
    monkeypatch.setattr(services, "_term_matches", _plain_like)
    monkeypatch.setattr(services, "_scope_ids", lambda *_: None)  # the lists' own scope alone
    for word in SHORT_WORDS:
        assert indexed[word] == found(db, username, word), word
    assert indexed["鹭岛"]["tasks"] and indexed["Sc"]["tasks"] == indexed["sC"]["tasks"]


@pytest.mark.parametrize("candidates", [1, 3, 10])
def test_the_first_hits_are_the_newest_whatever_candidates_are_read_first(world: World, db: Session, candidates: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reads each word's newest candidates first (services.CANDIDATES): what each kind shows, and whether it
    has more, is still what LIKE shows, for the supervisor and for a department's narrower lists."""
    monkeypatch.setattr(services, "CANDIDATES", candidates)
    words = [*SHORT_WORDS, "鹭岛试点", "鹭岛 试点任务", "疾控", "任务", "规划", "进展", "督办"]

    def shown() -> dict[tuple[str, str], list[tuple[str, list[int], bool]]]:
        out = {}
        for username in ("zj_supervisor", "wz_head_jk"):
            reader = user(db, username)
            for word in words:
                results = services.search(db, reader, word, limit=2)
                out[username, word] = [(g.kind.value, [h.id for h in g.hits], g.more) for g in results.groups]
        db.rollback()
        return out

    indexed = shown()
    monkeypatch.setattr(services, "_term_matches", _plain_like)
    assert indexed == shown()


def test_a_short_word_never_finds_a_sibling_region_s_records(world: World, db: Session) -> None:
    """杭州 and 温岭 (in 台州) search 温州's words: nothing of 温州's plan, task, case or report, whoever asks."""
    ids = world.ids
    wenzhou = {"plans": ids["city_plan"], "tasks": ids["city_task"], "cases": ids["city_case"],
               "reports": ids["city_report"]}
    for username in ("hz_planner", "wl_planner", "wl_supervisor", "wl_head_jk"):
        for word in ("鹭", "鹭岛", "温州", "温", "州", "督办"):
            hits = found(db, username, word)
            assert all(record not in hits[kind] for kind, record in wenzhou.items()), (username, word)
    assert ids["city_task"] in found(db, "wz_planner", "温")["tasks"]  # what 温州 itself finds
    assert ids["city_case"] in found(db, "wz_supervisor", "督办")["cases"]


def test_short_words_search_every_row_not_only_the_newest(world: World, db: Session) -> None:
    ids = world.ids
    task = db.get(Task, ids["task"])
    assert task is not None
    newer = [new_task(task.plan, task.lead_department, f"9.9.{n}", f"较新的任务{n}") for n in range(30)]  # type: ignore[arg-type]
    db.add_all(newer)
    db.commit()
    for word in ("鹭", "鹭岛", "试点"):
        assert ids["task"] in found(db, "zj_supervisor", word)["tasks"], word
    assert found(db, "zj_supervisor", "较新")["tasks"] == {t.id for t in newer}


def test_a_text_too_long_to_be_indexed_by_its_characters_is_still_found(world: World, db: Session) -> None:
    """SQLite indexes a text of more than 10,000 characters as ``overflow``: LIKE decides for it."""
    ids = world.ids
    db.execute(update(Task).where(Task.id == ids["lookalike"]).values(description="甲" * 12_000 + "鹭屿"))
    db.commit()
    assert ids["lookalike"] in found(db, "zj_supervisor", "鹭屿")["tasks"]
    assert ids["lookalike"] in found(db, "zj_supervisor", "屿")["tasks"]
    assert ids["lookalike"] not in found(db, "zj_supervisor", "鹭岛")["tasks"]
    db.execute(update(Task).where(Task.id == ids["lookalike"]).values(description="短"))
    db.commit()
    assert ids["lookalike"] not in found(db, "zj_supervisor", "屿")["tasks"]
    assert ids["lookalike"] in found(db, "zj_supervisor", "短")["tasks"]
