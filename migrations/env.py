"""Alembic environment: builds the schema of tracker.models on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

from tracker.config import Config
from tracker.db import make_engine
from tracker.models import Base
from tracker.search.models import include_name

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or Config.DATABASE_URL


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    if engine.dialect.name == "sqlite":
        # A batch operation rebuilds the table (create, copy, drop, rename). With foreign keys enforced the
        # drop would fire the ON DELETE actions of every table that refers to it (cascading away its rows),
        # so they are off while migrating and checked once at the end instead.
        event.listen(engine, "connect", _sqlite_foreign_keys_off)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _sqlite_foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys = OFF")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"迁移后外键不一致：{broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
