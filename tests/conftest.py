"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
an app wiped before each test, the demo data on request, a frozen clock and a login helper."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker import create_app, timeutil
from tracker.cli import upgrade_database
from tracker.config import PROJECT_ROOT, TestConfig
from tracker.db import Base, unit_of_work
from tracker.seeding import load_seeds

DEMO_DATE = "2026-11-22"
SEEDS = PROJECT_ROOT / "seeds"
PASSWORD = "demo1234"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


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
        for table in tables:
            cur.execute(f"DELETE FROM {table.name}")
        raw.commit()
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        raw.close()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with timeutil.frozen(DEMO_DATE):
        yield


@pytest.fixture
def app(migrated: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATABASE_URL": migrated, "INSTANCE_PATH": tmp_path / "instance",
                      "UPLOAD_DIR": tmp_path / "uploads"})
    wipe(app.extensions["tracker.engine"])
    yield app
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The app with the demo plans of seeds/ loaded."""
    with unit_of_work(app.extensions["tracker.sessions"]) as session:
        load_seeds(session, SEEDS)
    return app


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


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
