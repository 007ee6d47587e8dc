"""The search index as the migration builds it: on SQLite an FTS5 trigram table and its three triggers per searched
table, on PostgreSQL a pg_trgm GIN index that the search's own statements use; the comparison of the models with
the database leaves them out (tracker.search.models.include_name) and finds nothing else."""

from __future__ import annotations

import importlib.util

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from tracker.config import PROJECT_ROOT
from tracker.models import Base
from tracker.search import services
from tracker.search.models import SEARCHED, include_name
from tracker.search.services import Kind
from tracker.tasks.models import Task

MIGRATION = PROJECT_ROOT / "migrations" / "versions" / "20261207_e3a5c7e9b1d4_search_index.py"


def test_the_migration_indexes_the_columns_the_search_reads() -> None:
    spec = importlib.util.spec_from_file_location("search_index_migration", MIGRATION)
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
                    triggers = {r.name for r in rows if r.type == "trigger" and r.tbl_name == table}
                    assert {f"search_{table}_{t}" for t in ("insert", "delete", "update")} <= triggers
            else:
                defs = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
                for table, columns in SEARCHED.items():
                    definition = defs[f"ix_search_{table}"]
                    assert "USING gin" in definition
                    assert all(f"{c} gin_trgm_ops" in definition for c in columns)
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


def test_postgresql_answers_a_search_from_the_trigram_index(demo: Flask, db: Session) -> None:
    """The match conditions the search builds (LIKE or ILIKE with the escape character) are ones the GIN index
    serves (the demo's tables are too small for the planner to prefer it unasked: sequential scans are off)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for word in ("疾控中心", "Abc%_x"):
        stmt = select(Task.id).where(services._matches(db, Kind.TASK, services.parse(word)))
        compiled = stmt.compile(db.get_bind())
        conn = db.connection()
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
        assert "ix_search_tasks" in plan, plan
        db.rollback()
