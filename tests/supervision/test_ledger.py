"""督办台账: the case list as filtered, every case with its course, as a workbook."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tracker.supervision.ledger import days_late
from tracker.supervision.models import CaseAction, CaseState

from ..conftest import client_for
from .test_cases import _case_in, _users


def _rows(demo, username: str, query: str = "") -> tuple[list[str], list[tuple], str]:  # type: ignore[no-untyped-def]
    response = client_for(demo, username).get(f"/supervision/ledger.xlsx{query}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in ws[3]]
    return header, [tuple(c.value for c in row) for row in ws.iter_rows(min_row=4)], ws["A2"].value


def test_the_ledger_is_the_list_as_filtered_with_each_course(demo, db: Session) -> None:  # type: ignore[no-untyped-def]
    with demo.app_context():
        users = _users(db)
        closed = _case_in(db, users, CaseState.CLOSED)
        waiting = _case_in(db, users, CaseState.ISSUED)
        from tracker.supervision.services import perform

        perform(db, users["supervisor"], waiting, CaseAction.REMIND, version=waiting.version_id, comment="请尽快签收。")
        db.commit()
    header, rows, note = _rows(demo, "zj_supervisor")
    assert header[:5] == ["督办编号", "督办事项", "责任单位", "来源", "状态"] and header[-1] == "办理过程"
    numbers = [r[0] for r in rows]
    assert closed.number_label in numbers and waiting.number_label in numbers
    row = dict(zip(header, rows[numbers.index(closed.number_label)], strict=True))
    assert row["状态"] == "已销号" and row["办理结果"] == "按期整改" and row["评价（星）"] == 4
    assert "下发督办单" in row["办理过程"] and "销号" in row["办理过程"]
    reminded = dict(zip(header, rows[numbers.index(waiting.number_label)], strict=True))
    assert reminded["催办"] == 1 and "请尽快签收" in reminded["办理过程"]
    # as filtered: only the closed ones, and the filters written in the note
    header, rows, note = _rows(demo, "zj_supervisor", "?state=closed")
    assert {r[4] for r in rows} == {"已销号"} and "状态：已销号" in note
    # by region: the province's own departments' cases, or a city's (none of these), named in the note
    with demo.app_context():
        province, city = users["supervisor"].department.region, users["city_supervisor"].department.region
    _, rows, note = _rows(demo, "zj_supervisor", f"?region={province.id}")
    assert closed.number_label in [r[0] for r in rows] and f"地区：{province.name}" in note
    _, rows, note = _rows(demo, "zj_supervisor", f"?region={city.id}")
    assert closed.number_label not in [r[0] for r in rows] and f"地区：{city.name}" in note
    # a department sees its own cases only
    _, rows, _ = _rows(demo, "zj_head_yz")
    assert closed.number_label not in [r[0] for r in rows]


def test_days_late_counts_to_the_answer_or_to_today() -> None:
    from datetime import datetime

    from tracker.supervision.models import SupervisionCase
    from tracker.timeutil import LOCAL_TZ

    case = SupervisionCase(state=CaseState.ISSUED, response_deadline=date(2026, 12, 1))
    assert days_late(case, date(2026, 12, 5)) == 4 and days_late(case, date(2026, 11, 30)) is None
    case.state, case.submitted_at = CaseState.SUBMITTED, datetime(2026, 12, 3, 10, tzinfo=LOCAL_TZ)
    assert days_late(case, date(2026, 12, 20)) == 2
