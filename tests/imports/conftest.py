"""Fixtures for the import tests: the seed plan documents, drafts of texts and of generated .docx files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.imports.docx import read_docx
from tracker.imports.extract import extract
from tracker.imports.text import parse_lines, read_text
from tracker.planning.models import Plan

from ..conftest import client_for  # noqa: F401  (shared by this folder's tests)

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"  # ../shared/seeds beside the project


def seed(prefix: str) -> Path:
    """A plan document of ../shared/seeds (the project's checkout sits beside shared/)."""
    if not SEEDS.is_dir():
        pytest.skip(f"the plan documents are not beside the project ({SEEDS})")
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    assert found, f"seed document {prefix} not found in {SEEDS}"
    return found[0]


def text_draft(text: str) -> dict[str, Any]:
    return extract(parse_lines(text.splitlines()))


def file_draft(path: Path) -> dict[str, Any]:
    return extract(read_text(path.read_bytes()))


def docx_draft(data: bytes) -> dict[str, Any]:
    return extract(read_docx(data))


@pytest.fixture(scope="session")
def provincial_text() -> str:
    return seed("003").read_text(encoding="utf-8")






def user(db: Session, username: str) -> User:
    return db.scalars(select(User).where(User.username == username)).one()


def plan_by_code(db: Session, code: str) -> Plan:
    return db.scalars(select(Plan).where(Plan.code == code)).one()
