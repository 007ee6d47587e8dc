"""The search index as the migrations build it: on SQLite an FTS5 trigram table and an FTS5 table of characters and
pairs, each with its three triggers, per searched table; on PostgreSQL a pg_trgm GIN index and a GIN index on
search_grams(…) that the search's own statements use; the comparison of the models with the database leaves them
out (tracker.search.models.include_name) and finds nothing else."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.config import PROJECT_ROOT
from tracker.models import Base
from tracker.search import services
from tracker.search.models import SEARCHED, grams_table, include_name
from tracker.search.services import Kind
from tracker.tasks.models import Task

MIGRATIONS = [PROJECT_ROOT / "migrations" / "versions" / name for name in (
    "20261207_e3a5c7e9b1d4_search_index.py", "20261207_a18s0e4c1b2d_search_short_words.py")]


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: p.stem)
def test_the_migrations_index_the_columns_the_search_reads(path: Path) -> None:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert dict(SEARCHED) == module.SEARCHED
    for table, columns in SEARCHED.items():
        assert set(columns) <= set(Base.metadata.tables[table].c.keys())


def test_every_searched_table_has_its_index_and_triggers(migrated: str) -> None:
    """A later migration that rebuilds one of these tables on SQLite (batch_alter_table) loses its triggers with
    the old table: this fails until it creates them again."""
    engine = create_engine(migrated)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master")).all()
                for table, columns in SEARCHED.items():
                    fts = next(r for r in rows if r.name == f"search_{table}")
                    assert "trigram" in fts.sql and f"content='{table}'" in fts.sql
                    assert all(c in fts.sql for c in columns)
                    grams = next(r for r in rows if r.name == grams_table(table))
                    assert "content=''" in grams.sql and all(c in grams.sql for c in columns)
                    triggers = {r.name for r in rows if r.type == "trigger" and r.tbl_name == table}
                    for index in (fts.name, grams.name):
                        assert {f"{index}_{t}" for t in ("insert", "delete", "update")} <= triggers
            else:
                defs = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
                for table, columns in SEARCHED.items():
                    definition = defs[f"ix_search_{table}"]
                    assert "USING gin" in definition
                    assert all(f"{c} gin_trgm_ops" in definition for c in columns)
                    grams = defs[f"ix_search_grams_{table}"]
                    assert "USING gin (search_grams(VARIADIC ARRAY[" in grams and all(c in grams for c in columns)
    finally:
        engine.dispose()


def test_the_models_match_the_database_but_for_the_search_index(migrated: str) -> None:
    engine = create_engine(migrated)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(("word", "index"), [("疾控中心", "ix_search_tasks"), ("Abc%_x", "ix_search_tasks"),
                                           ("疾控", "ix_search_grams_tasks"), ("县", "ix_search_grams_tasks"),
                                           ("A%", "ix_search_grams_tasks")])
def test_postgresql_answers_a_search_from_its_indexes(demo: Flask, db: Session, word: str, index: str) -> None:
    """The match conditions the search builds (LIKE or ILIKE with the escape character; for a short word
    search_grams(…) @> ARRAY[lower(word)]) are ones the GIN indexes serve (the demo's tables are too small for the
    planner to prefer them unasked: sequential scans are off)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    stmt = select(Task.id).where(services._matches(db, Kind.TASK, services.parse(word)))
    compiled = stmt.compile(db.get_bind())
    conn = db.connection()
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    assert f"{index} " in plan or plan.rstrip().endswith(index), plan
    db.rollback()


def test_sqlite_answers_a_short_word_from_the_table_of_pairs(demo: Flask, db: Session) -> None:
    if db.get_bind().dialect.name != "sqlite":
        return
    stmt = select(Task.id).where(services._matches(db, Kind.TASK, services.parse("疾控")))
    compiled = stmt.compile(db.get_bind())
    plan = "\n".join(str(r[-1]) for r in db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                                          tuple(compiled.params.values())))
    assert "search_grams_tasks VIRTUAL TABLE" in plan, plan
    db.rollback()


def test_a_departments_reports_are_read_by_its_scope_not_by_a_common_words_candidates(demo: Flask,
                                                                                     db: Session) -> None:
    """A department's reports are a few hundred; the reports holding 推进 are most of the province's: the
    department's index drives and LIKE decides (on both databases the words' index is not read)."""
    head = db.scalars(select(User).where(User.username == "zj_head_jk")).one()
    stmt = services._statement(db, head, Kind.REPORT, services.parse("推进"))
    compiled = stmt.compile(db.get_bind())
    sql = str(compiled)
    assert "search_grams" not in sql and "progress_reports.department_id" in sql
    if db.get_bind().dialect.name == "sqlite":
        plan = "\n".join(str(r[-1]) for r in db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, tuple(compiled.params.values())))
        assert "ix_progress_reports_department" in plan, plan
    db.rollback()


@pytest.mark.parametrize("kind", [Kind.REPORT, Kind.MILESTONE, Kind.TASK, Kind.CASE])
def test_postgresql_tests_a_city_s_scope_on_the_row_before_the_index_function(demo: Flask, db: Session,
                                                                             kind: Kind) -> None:
    """Walking a table newest first for a common short word, PostgreSQL tests each row's own conditions before
    the joins that scope it: the scope is said once more on the row (its plans', tasks' or departments' ids), and
    comes before search_grams(…), which costs some 30 µs a row (the city's rows may be far from the newest)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    supervisor = db.scalars(select(User).where(User.username == "wz_supervisor")).one()
    stmt = services._statement(db, supervisor, kind, services.parse("推进")).limit(11)
    sql = str(stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    conn = db.connection()
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):  # the walk, on tables this small
        conn.exec_driver_sql(f"SET LOCAL {setting} = off")
    plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    table = kind.value if kind != Kind.CASE else "supervision_cases"
    table = {"reports": "progress_reports"}.get(table, table)
    scan = next(line for line in plan.splitlines() if "Scan Backward" in line and f" on {table}" in line)
    condition = plan.splitlines()[plan.splitlines().index(scan) + 1]
    assert "Filter:" in condition and "= ANY ('{" in condition, plan
    assert condition.index("= ANY ('{") < condition.index("search_grams"), plan
    db.rollback()


def test_sqlite_reads_a_city_s_reports_by_their_tasks_not_by_a_common_word_s_candidates(demo: Flask,
                                                                                     db: Session) -> None:
    """A city's supervisor: the reports of the city's tasks are read by their index and LIKE decides; the index of
    words would give the newest reports of the whole province first, most of them another city's."""
    if db.get_bind().dialect.name != "sqlite":
        return
    supervisor = db.scalars(select(User).where(User.username == "wz_supervisor")).one()
    stmt = services._statement(db, supervisor, Kind.REPORT, services.parse("推进"))
    sql = str(stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    assert "search_grams" not in sql and "progress_reports.task_id IN (" in sql
    plan = "\n".join(str(r[-1]) for r in db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "progress_reports USING INDEX ix_progress_reports_task_id" in plan, plan
    db.rollback()
