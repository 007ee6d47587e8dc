"""Declarative base, column types and session handling shared by every area."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import import_module
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware.

    Naive datetimes are refused: every instant in the system is aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store naive UTC there, aware everywhere else.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class LabeledEnum(enum.StrEnum):
    """A string enum whose members carry their Chinese label.

    Declared as ``DRAFT = "draft", "草稿"``; ``member.label`` is the label.
    """

    label: str

    def __new__(cls, value: str, label: str = "") -> LabeledEnum:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        return obj

    @classmethod
    def from_label(cls, label: str) -> LabeledEnum:
        for member in cls:
            if member.label == label or member.value == label:
                return member
        raise ValueError(label)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        date: Date(),
        Decimal: Numeric(18, 4),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        str: String(),
    }

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        return f"<{type(self).__name__} {ident}>"


@event.listens_for(Mapper, "before_configured")
def _import_every_model() -> None:
    """Relationships name other areas' classes by string (``order_by="Attachment.id"``): every area's
    models are imported before the mappers are configured, whichever model is used first."""
    import_module(".models", __package__)


# The key of a unique constraint's or index's ``info`` that holds what a person is told when a save loses
# the race to it (two submissions at once): the message the form gives for the same duplicate.
DUPLICATE = "duplicate"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_PG_KEY = re.compile(r"Key \((.+?)\)=")


def duplicate_message(exc: IntegrityError) -> str | None:
    """The DUPLICATE message of the unique constraint or index ``exc`` violated, or None (another kind of
    violation, or a constraint without one). Both databases tell the table and the columns: PostgreSQL in
    its diagnostics (its constraint names may be shortened), SQLite in the message."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    table, columns = None, ()
    if diag is not None and (m := _PG_KEY.search(diag.message_detail or "")):
        table, columns = diag.table_name, tuple(c.strip() for c in m.group(1).split(","))
    elif m := _SQLITE_UNIQUE.search(str(orig)):
        qualified = [c.strip() for c in m.group(1).split(",")]
        table = qualified[0].split(".")[0]
        columns = tuple(c.split(".", 1)[-1] for c in qualified)
    found = Base.metadata.tables.get(table or "")
    if found is None:
        return None
    for item in [*found.constraints, *found.indexes]:
        if (isinstance(item, UniqueConstraint) or getattr(item, "unique", False)) \
                and tuple(c.name for c in item.columns) == columns and DUPLICATE in item.info:
            return str(item.info[DUPLICATE])
    return None


def enum_type(enum_cls: type[LabeledEnum], name: str) -> SAEnum:
    """Store a LabeledEnum as its value in a VARCHAR guarded by a CHECK constraint ``name``."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=lambda: _now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: _now(), onupdate=lambda: _now())


def _now() -> datetime:
    from .timeutil import now

    return now()


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transaction boundaries so BEGIN IMMEDIATE works for writers.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA busy_timeout = 30000")
            if ":memory:" not in url and "mode=memory" not in url:
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A transaction that will write takes the write lock up front (BEGIN IMMEDIATE), so two
            # writers queue on the busy timeout instead of deadlocking on a lock upgrade.
            immediate = conn.get_execution_options().get("write_transaction")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql"):
        # JIT compilation pays off for long analytical queries; for these short ones it costs more than it
        # saves (the overdue scan's statements spent 100+ ms compiling), so it is off for the app's sessions.
        kw.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    return create_engine(url, pool_pre_ping=True, **kw)


SessionFactory = sessionmaker[Session]


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def begin_write(session: Session) -> Session:
    """Start the session's transaction as a writing one (matters on SQLite; harmless elsewhere)."""
    session.connection(execution_options={"write_transaction": True})
    return session


@contextmanager
def unit_of_work(factory: SessionFactory) -> Iterator[Session]:
    """One writing transaction: commit at the end, roll back on any error."""
    session = begin_write(factory())
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def db_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    from flask import current_app, g, request

    if "db_session" not in g:
        session = current_app.extensions["tracker.sessions"]()
        if request and request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(session)
        g.db_session = session
    return g.db_session
