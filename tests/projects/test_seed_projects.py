"""The seed files' project keys: funding by source and yearly investment load exactly, and a malformed
entry is refused whole with the file, the record and the field named."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.planning.models import Plan
from tracker.projects.models import FundingSource, ProjectInvestment
from tracker.seeding import SeedError, load_seeds
from tracker.tasks.models import ReportState

from ..conftest import SEEDS
from .conftest import project_of

FILE = "plans/020-zj-14.yaml"


def test_funding_and_investments_are_loaded(demo: Flask) -> None:
    p = project_of(demo, "专栏1")
    with demo.extensions["tracker.sessions"]() as s:
        from tracker.projects.models import KeyProject

        p = s.get(KeyProject, p.id)
        assert {f.source: f.amount for f in p.funding} == {
            FundingSource.FISCAL: Decimal(950000), FundingSource.SPECIAL_BOND: Decimal(450000),
            FundingSource.SELF: Decimal(250000)}
        by_year = {i.year: i for i in p.investments}
        assert by_year[2021].completed == Decimal("194200") and by_year[2021].state == ReportState.CONFIRMED
        assert by_year[2021].confirmed_at is not None
        assert by_year[2025].state == ReportState.SUBMITTED and by_year[2025].confirmed_at is None
        assert by_year[2025].completed == Decimal("203100") and 2026 not in by_year
        returned = s.scalars(select(ProjectInvestment).where(ProjectInvestment.state == ReportState.RETURNED)).one()
        assert returned.return_reason and returned.year == 2025
        tbd = project_of(demo, "专栏8")
        assert [(f.source, f.amount) for f in s.get(KeyProject, tbd.id).funding] == [(FundingSource.FISCAL, None)]


@pytest.mark.parametrize(("old", "new", "message"), [
    ('funding: {财政: "95"', 'funding: {财政: "九十五"', "· 财政：“九十五”不是金额"),
    ('funding: {财政: "95"', 'funding: {国债: "95"', "· funding：“国债”不是有效值"),
    ("{year: 2020, planned: \"22\"", "{year: 2019, planned: \"22\"", "· year：2019年重复"),
    ('{year: 2019, planned: "18", completed: "17.6"', '{year: 2019, planned: "18", completed: "24.2"',
     "各年度完成投资合计超过总投资"),  # 158.49 on record, 6.6 more passes the total of 165
    ("state: 已退回, return_reason: 完成投资与省级财政决算数据不一致，请核对后重新报送", "state: 已退回",
     "已退回的年度须写明退回原因"),
    ('{year: 2025, planned: "20", completed: "20.31", state: 已提交', '{year: 2025, planned: "20", state: 已提交',
     "状态为“已提交”的年度须填写完成投资"),
    ('region: "330100"', 'region: "999999"', "区划 999999 不存在"),
])
def test_malformed_project_data_is_refused_whole(app: Flask, session: Session, tmp_path: Path,
                                                 old: str, new: str, message: str) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    path = root / FILE
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SeedError) as info:
        load_seeds(session, root)
    assert FILE in str(info.value) and message in str(info.value)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Plan)) == 0


def test_a_yearly_note_is_loaded(app: Flask, session: Session, tmp_path: Path) -> None:
    """(The demo's figures carry no note: one is added to a copy of the seeds.)"""
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    path = root / FILE
    old = '{year: 2025, planned: "20", completed: "20.31", state: 已提交}'
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, old[:-1] + ", note: 公共卫生临床中心工程结算尾款}", 1), encoding="utf-8")
    load_seeds(session, root)
    noted = session.scalars(select(ProjectInvestment).where(ProjectInvestment.note.is_not(None))).one()
    assert (noted.year, noted.note, noted.state) == (2025, "公共卫生临床中心工程结算尾款", ReportState.SUBMITTED)
