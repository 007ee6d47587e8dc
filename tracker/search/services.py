"""Search: what the header's box finds — plans, tasks, milestones, key projects, indicators, 督办件 and progress
reports whose text holds every word typed — each kind within the reader's scope as its own list draws it.

Scope is not decided here: plans and what hangs from them (tasks, milestones, projects, indicators) are those of
the regions the reader may read (``permissions.visible_region_ids``, as the plan list, the task tree and the
indicator list); cases are the case list's (``supervision.services.scoped``); reports the report list's
(``tasks.queries.report_list``).

How a word is matched (substrings, case-insensitive, taken literally whatever it holds: ``%``, ``_``, quotes,
``NEAR``, ``OR``, ``*`` are just characters), every row of the reader's scope, through an index
(tracker/search/models.py):

* three characters or more: SQLite asks the FTS5 trigram table (the word as one quoted FTS5 string, quotes
  doubled); PostgreSQL asks ``LIKE``/``ILIKE`` of the columns themselves, which the pg_trgm GIN index answers.
* one or two characters (疾控, 医保, 县 — common in Chinese), which a trigram index cannot hold: the index of
  every character and pair of adjacent characters narrows the rows (SQLite: the word's hex in the FTS5 table of
  pairs; PostgreSQL: ``search_grams(…) @> ARRAY[lower(word)]``, the GIN index on that expression), and ``LIKE``/
  ``ILIKE`` of the columns decides, so what is found is what the plain ``LIKE`` finds. The word's lower case and
  hex are taken by the database, as the index's were.
* a task code (``1.2.3``) finds the task of that code and those below it (``1.2.3.4``), not ``11.2.3``;
* a 督办单 number as people write it (浙卫督〔2026〕3号, with 〔〕, [] or () and without 号; or just 〔2026〕3)
  finds that case by its office prefix, year and number.

`search` serves the page and, later, the API: typed results, no request, no HTML. Pinyin initials (jk → 疾控)
are not offered: it would need every searched text converted to pinyin and indexed again, and the one
maintained library (pypinyin) guesses polyphonic characters (重庆 chóng/zhòng, 行 háng/xíng) per word from a
large dictionary — more weight and more wrong hits than two Chinese characters typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Text,
    and_,
    any_,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..db import Base, LabeledEnum
from ..errors import DomainError
from ..indicators.models import Indicator
from ..permissions import DEPARTMENT_ROLES, every_region, in_regions, visible_region_ids
from ..planning.models import Plan
from ..projects.models import KeyProject
from ..regions.models import Department
from ..supervision.models import DEFAULT_PREFIX, SupervisionCase
from ..supervision.services import case_scope_regions
from ..supervision.services import scoped as scoped_cases
from ..tasks.models import Milestone, ProgressReport, Task
from ..tasks.queries import report_list, report_regions
from ..timeutil import format_date
from ..web import Page
from .models import OVERFLOW, SEARCHED, fts_table, grams_table

MAX_LENGTH = 100
MAX_TERMS = 5
DEFAULT_LIMIT = 10
PAGE_SIZE = 50
SHORT = 3  # words shorter than this are looked up by their characters (a trigram holds three)
CANDIDATES = 1_000  # SQLite: each word's newest candidates from the index that are read first
EXCERPT = 36  # characters shown on each side of the first match in a long text

TOO_LONG = f"检索内容不能超过{MAX_LENGTH}个字。"
TOO_MANY = f"最多输入{MAX_TERMS}个检索词（以空格分开）。"


class Kind(LabeledEnum):
    PLAN = "plans", "规划"
    TASK = "tasks", "任务"
    MILESTONE = "milestones", "节点"
    PROJECT = "projects", "重大项目"
    INDICATOR = "indicators", "指标"
    CASE = "cases", "督办件"
    REPORT = "reports", "进展填报"


# ------------------------------------------------------------------------------------------ the query typed


@dataclass(frozen=True)
class CaseNumber:
    prefix: str  # "" when not typed
    year: int
    seq: int | None  # None: every case of that office and year


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[str, ...]
    code: str | None = None  # the whole query is a task code
    case_number: CaseNumber | None = None  # the whole query is a 督办单 number

    @property
    def empty(self) -> bool:
        return not self.terms


CODE = re.compile(r"\d+(?:\.\d+)+")
CASE_NUMBER = re.compile(
    r"(?P<prefix>[^\s\d〔〕\[\]()【】]*)\s*[〔\[(【]\s*(?P<year>\d{4})\s*[〕\])】]\s*(?:(?P<seq>\d{1,6})\s*号?)?")


def parse(text: str | None) -> Query:
    """The words of what was typed (split at spaces, each kept literally). Too long or too many words is a
    DomainError with the message for the field."""
    raw = " ".join((text or "").split())
    if len(raw) > MAX_LENGTH:
        raise DomainError(TOO_LONG, field="q")
    terms = tuple(dict.fromkeys(raw.split()))
    if len(terms) > MAX_TERMS:
        raise DomainError(TOO_MANY, field="q")
    # full-width digits, dots and brackets as half-width ones for the shapes below
    folded = unicodedata.normalize("NFKC", raw).replace("（", "(").replace("）", ")")
    code = folded if CODE.fullmatch(folded) else None
    number = None
    if m := CASE_NUMBER.fullmatch(folded.replace(" ", "")):
        number = CaseNumber(m["prefix"], int(m["year"]), int(m["seq"]) if m["seq"] else None)
    return Query(raw, terms, code, number)


# ------------------------------------------------------------------------------------------ what is found


@dataclass(frozen=True)
class Hit:
    """One record found: what to show (plain text; the page escapes it and marks the words) and where it is."""

    kind: Kind
    id: int
    title: str
    context: str
    excerpt: str | None
    endpoint: str
    args: dict[str, int]
    anchor: str | None = None


@dataclass
class Group:
    kind: Kind
    hits: list[Hit]
    more: bool  # more than the hits shown: the kind's full list has them


@dataclass
class Results:
    query: Query
    groups: list[Group] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return any(g.hits for g in self.groups)


def search(session: Session, user: User, text: str | None, kinds: Iterable[Kind] | None = None,
           limit: int = DEFAULT_LIMIT) -> Results:
    """Up to ``limit`` hits of each kind (newest first; a code query: that task first), with whether there
    are more. An empty query finds nothing."""
    query = parse(text)
    results = Results(query)
    if query.empty:
        return results
    for kind in kinds or Kind:
        rows = _first_hits(session, user, kind, query, limit + 1)
        results.groups.append(Group(kind, [_hit(kind, r, query) for r in rows[:limit]], len(rows) > limit))
    return results


def _first_hits(session: Session, user: User, kind: Kind, query: Query, n: int) -> list[Any]:
    """The kind's first ``n`` hits. On SQLite, a common word's candidates are many (推进 is in every report) and
    reading them all costs more than the rest of the search, so each word's newest CANDIDATES are read first: if
    that finds ``n`` hits, they are the newest ones (a newer hit would have been a newer candidate of every word);
    otherwise all candidates are read. That holds for a kind searched in its own table only, newest first (not
    for projects, named by their tasks, nor for a code's tasks in document order), and is not done where the
    reader's own rows are fewer than those candidates and are read first (a department's, a city's:
    ``_one_department``, ``_scope_ids``). PostgreSQL's planner makes that choice itself from the index's
    statistics."""
    if (session.get_bind().dialect.name == "sqlite" and len(_sources(kind)) == 1
            and not (query.code or query.case_number) and not _one_department(user, kind)
            and _scope_ids(session, user, kind) is None):
        rows = list(session.scalars(_statement(session, user, kind, query, CANDIDATES).limit(n)))
        if len(rows) == n:
            return rows
    return list(session.scalars(_statement(session, user, kind, query).limit(n)))


def search_kind(session: Session, user: User, text: str | None, kind: Kind, number: int = 1,
                size: int = PAGE_SIZE) -> tuple[Query, Page]:
    """One kind's full list of hits, a page at a time (the "更多" of the grouped results)."""
    query = parse(text)
    if query.empty:
        return query, Page([], 1, size, 0)
    stmt = _statement(session, user, kind, query)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(size).offset((number - 1) * size))
    return query, Page([_hit(kind, r, query) for r in rows], number, size, total)


# ------------------------------------------------------------------------------------------ matching


@dataclass(frozen=True)
class Source:
    """Searched columns of one table, and the column of the kind's query that holds that table's row id."""

    table: str
    columns: tuple[str, ...]
    link: Any


def _sources(kind: Kind) -> list[Source]:
    return {
        Kind.PLAN: [Source("plans", SEARCHED["plans"], Plan.id)],
        Kind.TASK: [Source("tasks", SEARCHED["tasks"], Task.id)],
        Kind.MILESTONE: [Source("milestones", SEARCHED["milestones"], Milestone.id)],
        # a project is named by its task
        Kind.PROJECT: [Source("key_projects", SEARCHED["key_projects"], KeyProject.id),
                       Source("tasks", ("title",), KeyProject.task_id)],
        Kind.INDICATOR: [Source("indicators", SEARCHED["indicators"], Indicator.id)],
        Kind.CASE: [Source("supervision_cases", SEARCHED["supervision_cases"], SupervisionCase.id)],
        Kind.REPORT: [Source("progress_reports", SEARCHED["progress_reports"], ProgressReport.id)],
    }[kind]


ESCAPE = "/"  # not a backslash, which PostgreSQL's string literals and LIKE both read


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's own characters taken literally (escape character ``/``)."""
    return "%" + term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_") + "%"


def fts_phrase(term: str, columns: Sequence[str] | None = None) -> str:
    """The term as one FTS5 string (its quotes doubled), so that nothing in it is FTS5 syntax; limited to
    ``columns`` when given."""
    phrase = '"' + term.replace('"', '""') + '"'
    return phrase if not columns else "{" + " ".join(columns) + "} : " + phrase


def _candidates(name: str, words: Any, cap: int | None) -> Select[Any]:
    """SQLite: the rowids that the FTS5 table ``name`` finds for ``words``; only the newest ``cap`` when given."""
    fts = table(name, column("rowid"))
    stmt = select(fts.c.rowid).where(literal_column(name).op("MATCH")(words))
    return stmt if cap is None else stmt.order_by(fts.c.rowid.desc()).limit(cap)


def _fts_rows(source: Source, term: str, cap: int | None = None) -> Any:
    """SQLite: the ids of the source's rows whose searched columns hold ``term`` (three characters or more)."""
    columns = None if source.columns == SEARCHED[source.table] else source.columns
    return source.link.in_(_candidates(fts_table(source.table), fts_phrase(term, columns), cap))


def _like(dialect: str, source: Source, term: str) -> Any:
    """One of the source's columns holds ``term``: ``LIKE``, or on PostgreSQL ``ILIKE`` when the term has case."""
    columns_ = Base.metadata.tables[source.table].c
    cased = dialect == "postgresql" and term.lower() != term.upper()  # no need of ILIKE for 疾控 or 1.2
    pattern = like_pattern(term)
    return or_(*(columns_[name].ilike(pattern, escape=ESCAPE) if cased else columns_[name].like(pattern, escape=ESCAPE)
                 for name in source.columns))


def _gram_rows(dialect: str, source: Source, term: str, cap: int | None = None) -> Any:
    """The source's rows that the index of characters and pairs says may hold ``term`` (one or two characters):
    those that do, and on SQLite those too long to be indexed by their characters."""
    if dialect == "sqlite":
        words = (literal("{" + " ".join(source.columns) + '} : ("', String) + func.hex(func.lower(term), type_=String)
                 + literal(f'" OR {OVERFLOW})', String))
        return source.link.in_(_candidates(grams_table(source.table), words, cap))
    columns_ = Base.metadata.tables[source.table].c
    indexed = func.search_grams(*(columns_[c] for c in SEARCHED[source.table]), type_=ARRAY(Text))
    return indexed.contains(array([func.lower(term, type_=Text)]))


def _term_matches(dialect: str, sources: list[Source], term: str, cap: int | None = None,
                  indexed: bool = True) -> Any:
    """The rows of the kind where one of the sources holds ``term``; on SQLite only among its newest ``cap``
    candidates when given; by ``LIKE`` alone when not ``indexed``."""
    parts = []
    for source in sources:
        if not indexed:
            parts.append(_like(dialect, source, term))
        elif len(term) < SHORT:
            parts.append(and_(_gram_rows(dialect, source, term, cap), _like(dialect, source, term)))
        elif dialect == "sqlite":
            parts.append(_fts_rows(source, term, cap))
        else:
            parts.append(_like(dialect, source, term))
    return or_(*parts)


def _one_department(user: User, kind: Kind) -> bool:
    """The reader's rows of the kind are one department's (its reports, its cases): a few hundred, fewer than a
    common word's candidates in the index (资金 is in most reports of a province), so the scope is read first and
    ``LIKE`` decides without the index."""
    return kind in (Kind.REPORT, Kind.CASE) and user.role in DEPARTMENT_ROLES


def _matches(session: Session, kind: Kind, query: Query, cap: int | None = None, indexed: bool = True) -> Any:
    dialect = session.get_bind().dialect.name
    if kind == Kind.TASK and query.code:
        code = query.code
        found = or_(Task.code == code, Task.code.like(like_pattern(code)[1:-1] + ".%", escape=ESCAPE))
        if dialect == "sqlite":  # the index narrows the tasks to those holding the code first
            found = and_(_fts_rows(Source("tasks", ("code",), Task.id), code), found)
        return found
    if kind == Kind.CASE and query.case_number:
        number = query.case_number
        found = and_(SupervisionCase.number_year == number.year)
        if number.seq is not None:
            found = and_(found, SupervisionCase.number_seq == number.seq)
        if number.prefix:
            found = and_(found, func.coalesce(SupervisionCase.number_prefix, DEFAULT_PREFIX) == number.prefix)
        return found
    sources = _sources(kind)
    return and_(*(_term_matches(dialect, sources, term, cap, indexed) for term in query.terms))


def _scope_ids(session: Session, user: User, kind: Kind) -> tuple[Any, str] | None:
    """The reader's scope said once more on the kind's own table — a column and the ids it may hold (its plans',
    tasks' or departments', as ``1,2,3``) — for a reader who sees some regions, not every one; None otherwise (a
    department's rows are the table's own column already; everything needs no saying).

    The scope is otherwise a join, which the database tests after the row's own conditions; and the rows of the
    reader's regions need not be the newest (a city's plans may have been entered years before another's):

    * PostgreSQL walks the table newest first for a common word, and evaluated ``search_grams`` (some 30 µs a row)
      on every row it passed before reaching the city's — 67,000 reports at province scale, 2 s. Tested on the row
      itself, and cheaper, the scope comes first and the function is evaluated for the rows in scope only.
    * SQLite read each word's newest candidates from the index — the newest of the whole table, another city's —
      and then all of them (资金 is in most reports). A city's rows are a few thousand: they are read by their
      column's index, and ``LIKE`` decides (``_statement``).

    The ids are written into the statement, not bound: PostgreSQL hashes a constant list, and would search a
    parameter's one by one in a prepared plan."""
    if kind == Kind.PLAN:
        return None
    if kind == Kind.REPORT:
        regions = report_regions(session, user)
    elif kind == Kind.CASE:
        regions = case_scope_regions(session, user)
    else:
        regions = visible_region_ids(session, user)
    if regions is None or every_region(session, regions):
        return None
    in_plans = select(Plan.id).where(Plan.region_id.in_(regions))
    in_tasks = select(Task.id).where(Task.plan_id.in_(in_plans))
    column_, ids = {
        Kind.TASK: (Task.plan_id, in_plans),
        Kind.INDICATOR: (Indicator.plan_id, in_plans),
        Kind.MILESTONE: (Milestone.task_id, in_tasks),
        Kind.PROJECT: (KeyProject.task_id, in_tasks),
        Kind.REPORT: (ProgressReport.task_id, in_tasks),
        Kind.CASE: (SupervisionCase.department_id, select(Department.id).where(Department.region_id.in_(regions))),
    }[kind]
    # kept for the session (the request): milestones, projects and reports read the same tasks
    cache = session.info.setdefault("search_scope_ids", {})
    key = (column_.key, frozenset(regions))
    if key not in cache:  # one row, "1,2,3" (some thousands of ids: not a row each)
        found = ids.subquery().c[0]
        joined = (func.group_concat(found, ",") if session.get_bind().dialect.name == "sqlite"
                  else func.string_agg(cast(found, Text), ","))
        cache[key] = session.scalar(select(joined)) or ""
    return column_, cache[key]


def _statement(session: Session, user: User, kind: Kind, query: Query, cap: int | None = None) -> Select[Any]:
    """The kind's hits in the reader's scope, newest first (a code query: in document order); on SQLite only
    among each word's newest ``cap`` candidates when given."""
    own = _scope_ids(session, user, kind)
    sqlite = session.get_bind().dialect.name == "sqlite"
    found = _matches(session, kind, query, cap, indexed=not (_one_department(user, kind) or (sqlite and own is not None)))
    if own is not None:
        column_, ids = own
        found = and_(column_.op("IN")(literal_column(f"({ids})")) if sqlite
                     else column_ == any_(literal_column(f"'{{{ids}}}'::integer[]")), found)

    def in_plans(stmt: Select[Any]) -> Select[Any]:
        return stmt.where(in_regions(session, Plan.region_id, visible_region_ids(session, user)), found)

    if kind == Kind.PLAN:
        return in_plans(select(Plan)).options(selectinload(Plan.region)).order_by(Plan.id.desc())
    if kind == Kind.TASK:
        stmt = in_plans(select(Task).join(Task.plan)).options(selectinload(Task.plan))
        if query.code:  # the task of that code first, then those below it in document order
            return stmt.order_by(case((Task.code == query.code, 0), else_=1), Task.plan_id, Task.id)
        return stmt.order_by(Task.id.desc())
    if kind == Kind.MILESTONE:
        return (in_plans(select(Milestone).join(Milestone.task).join(Task.plan))
                .options(selectinload(Milestone.task).selectinload(Task.plan)).order_by(Milestone.id.desc()))
    if kind == Kind.PROJECT:
        return (in_plans(select(KeyProject).join(KeyProject.task).join(Task.plan))
                .options(selectinload(KeyProject.task).selectinload(Task.plan)).order_by(KeyProject.id.desc()))
    if kind == Kind.INDICATOR:
        return (in_plans(select(Indicator).join(Indicator.plan)).options(selectinload(Indicator.plan))
                .order_by(Indicator.id.desc()))
    if kind == Kind.CASE:
        return (scoped_cases(session, user, select(SupervisionCase)).where(found)
                .options(selectinload(SupervisionCase.department)).order_by(SupervisionCase.id.desc()))
    return report_list(session, user).where(found).order_by(None).order_by(ProgressReport.id.desc())


# ------------------------------------------------------------------------------------------ showing a hit


def excerpt(texts: Iterable[str | None], terms: Sequence[str]) -> str | None:
    """The passage around the first word found in the first text that holds one (``…`` where it was cut)."""
    lowered = [t.casefold() for t in terms]
    for text in texts:
        if not text:
            continue
        folded = text.casefold()
        at = [i for i in (folded.find(t) for t in lowered) if i >= 0]
        if not at or len(folded) != len(text):
            if at:  # casefold changed the length (ß …): show the start
                return text[:2 * EXCERPT] + ("…" if len(text) > 2 * EXCERPT else "")
            continue
        start = max(0, min(at) - EXCERPT)
        end = min(len(text), min(at) + EXCERPT + max(len(t) for t in terms))
        return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return None


def _join(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p)


def _hit(kind: Kind, row: Any, query: Query) -> Hit:
    terms = query.terms
    if kind == Kind.PLAN:
        plan: Plan = row
        return Hit(kind, plan.id, plan.title,
                   _join(plan.region.name, plan.period_label, plan.stage.label, plan.doc_number),
                   excerpt([plan.description], terms), "plans.show", {"plan_id": plan.id})
    if kind == Kind.TASK:
        task: Task = row
        return Hit(kind, task.id, f"{task.code} {task.title}",
                   _join(task.plan.short_name, task.level.label, task.status.label),
                   excerpt([task.description], terms), "tasks.show", {"task_id": task.id})
    if kind == Kind.MILESTONE:
        m: Milestone = row
        return Hit(kind, m.id, m.title,
                   _join(f"{m.task.code} {m.task.title}", m.task.plan.short_name, "计划" + format_date(m.due_date),
                         m.status.label),
                   excerpt([m.evidence], terms), "tasks.show", {"task_id": m.task_id}, f"milestone-{m.id}")
    if kind == Kind.PROJECT:
        p: KeyProject = row
        return Hit(kind, p.id, p.task.title, _join(p.task.plan.short_name, p.task.code, p.status.label),
                   excerpt([p.content], terms), "projects.show", {"project_id": p.id})
    if kind == Kind.INDICATOR:
        i: Indicator = row
        return Hit(kind, i.id, f"{i.number}. {i.name}", _join(i.plan.short_name, i.category, i.nature.label),
                   excerpt([i.definition], terms), "indicators.show", {"indicator_id": i.id})
    if kind == Kind.CASE:
        c: SupervisionCase = row
        return Hit(kind, c.id, f"{c.number_label} {c.title}", _join(c.department.name, c.state.label),
                   excerpt([c.problem], terms), "supervision.show", {"case_id": c.id})
    r: ProgressReport = row
    return Hit(kind, r.id, f"{r.task.code} {r.task.title}", _join(r.period_label, r.department.name, r.state.label),
               excerpt([r.achievements, r.problems, r.next_steps], terms), "tasks.report", {"report_id": r.id})
