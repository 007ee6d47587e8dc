"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
an app wiped before each test, the demo data on request, a frozen clock and a login helper."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from tracker import create_app, timeutil
from tracker.config import PROJECT_ROOT, TestConfig
from tracker.db import Base, make_engine, make_session_factory, unit_of_work
from tracker.schema import upgrade_database
from tracker.seeding import RECORDED_ON, load_seeds

# Property tests draw the same examples on every CI run (CI sets CI=true); locally they explore.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DEMO_DATE = "2026-11-22"
SEEDS_DATE = RECORDED_ON.isoformat()  # the clock of every test over the demo data
SEEDS = PROJECT_ROOT / "seeds"
PASSWORD = "demo1234"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """SQLite in the run's temporary directory, or TEST_DATABASE_URL — with a database of its own for each
    parallel worker (``<name>_gw0``, ``<name>_gw1``…), made here and dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    if worker_id == "master":
        yield url
        return
    name = f"{make_url(url).database}_{worker_id}"
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


def wipe(engine: Engine) -> None:
    """Empty every table (fast, between tests)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys = OFF")
        for table in tables * 2:  # twice: deleting alerts counts them off their tallies (a trigger)
            cur.execute(f"DELETE FROM {table.name}")
        raw.commit()
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        raw.close()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with timeutil.frozen(DEMO_DATE):
        yield


def _pg_admin(url: str) -> Engine:
    return create_engine(make_url(url), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def demo_template(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated and seeded once per run; each demo test works on a copy of it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        template = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    else:
        name = f"{url.database}_demo"
        admin = _pg_admin(database_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        template = url.set(database=name).render_as_string(hide_password=False)
    upgrade_database(template)
    engine = make_engine(template)
    with timeutil.frozen(SEEDS_DATE), unit_of_work(make_session_factory(engine)) as session:
        load_seeds(session, SEEDS)
    engine.dispose()
    yield template
    if not template.startswith("sqlite"):
        admin = _pg_admin(database_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(template).database}" WITH (FORCE)'))
        admin.dispose()


def _copy_of(template: str, tmp_path: Path, database_url: str) -> tuple[str, Callable[[], None]]:
    if template.startswith("sqlite"):
        target = tmp_path / "demo.db"
        shutil.copyfile(make_url(template).database, target)  # type: ignore[arg-type]
        return f"sqlite:///{target}", lambda: None
    name = f"{make_url(template).database}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin(database_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(template).set(database=name).render_as_string(hide_password=False), drop


def make_test_app(database_url: str, tmp_path: Path, **overrides: object) -> Flask:
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "DATABASE_URL": database_url, "INSTANCE_PATH": tmp_path / "instance",
                       "UPLOAD_DIR": tmp_path / "uploads", **overrides})


@pytest.fixture
def app(request: pytest.FixtureRequest, migrated: str, tmp_path: Path) -> Iterator[Flask]:
    """The app over an empty database — or over a copy of the demo data when the test asks for `demo`."""
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if "demo" in request.fixturenames:
        url, cleanup = _copy_of(request.getfixturevalue("demo_template"), tmp_path, migrated)
    else:
        url = migrated
    app = make_test_app(url, tmp_path)
    if url == migrated:
        wipe(app.extensions["tracker.engine"])
    yield app
    app.extensions["tracker.engine"].dispose()
    cleanup()


@pytest.fixture
def demo(app: Flask) -> Iterator[Flask]:
    """The app with the demo plans of seeds/ loaded, on the day the seeds were recorded (seeding.RECORDED_ON)."""
    with timeutil.frozen(SEEDS_DATE):
        yield app


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    s = app.extensions["tracker.sessions"]()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(demo: Flask) -> Iterator[Session]:
    """A session of its own over the demo data, for looking at what requests saved."""
    session = demo.extensions["tracker.sessions"]()
    try:
        yield session
    finally:
        session.close()


def client_for(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    """A test client already signed in as ``username``."""
    client = app.test_client()
    login(client, username, password)
    return client


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
