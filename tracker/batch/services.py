"""Batch work: many records, one action, the same rules as one at a time.

A batch kind names the action a person takes on one record (the services' own function: 签收 a case, 催办,
confirm or return a report or an indicator value). :func:`preview` tries that action on each chosen record
inside a savepoint it then rolls back, so the confirmation page says exactly what will happen to each row and
why a row cannot be done — the one set of rules decides both. :func:`run` takes each row in a savepoint of its
own, with the version the confirmation page showed: a refused row (changed since, already done, out of scope)
changes nothing and says why, the others go through. Running the same batch twice does nothing the second
time: each row is by then refused as already done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import review
from ..auth.models import Role, User
from ..errors import DomainError
from ..indicators.models import IndicatorValue
from ..indicators.services import confirm_value, return_value
from ..permissions import can_view_case, can_view_plan, can_view_task
from ..supervision.models import CaseAction, SupervisionCase
from ..supervision.services import perform
from ..tasks.models import ProgressReport, period_name
from ..tasks.services import transition_report

MAX_ROWS = 200
PREVIEW_TEXT = "（预览）"


@dataclass(frozen=True)
class Kind:
    name: str  # in the URL: /batch/<name>
    title: str  # 批量签收
    verb: str  # 签收: "将签收" before, "已签收" after
    model: type[Any]
    roles: frozenset[Role]
    act: Callable[[Session, User, Any, int | None, str | None], None]  # one record, by the services' rules
    describe: Callable[[Any], str]
    link: Callable[[Any], str]
    visible: Callable[[Session, User, Any], bool]
    back: str  # the list the batch starts from (endpoint)
    text_label: str | None = None  # the words the action needs (催办内容, 退回原因), asked for once


@dataclass
class Row:
    id: int
    version: int | None
    what: str
    link: str | None
    ok: bool
    message: str


def _case_action(action: CaseAction) -> Callable[[Session, User, Any, int | None, str | None], None]:
    def act(session: Session, actor: User, case: SupervisionCase, version: int | None, text: str | None) -> None:
        perform(session, actor, case, action, comment=text, version=version)

    return act


def _report(action: str) -> Callable[[Session, User, Any, int | None, str | None], None]:
    def act(session: Session, actor: User, report: ProgressReport, version: int | None, text: str | None) -> None:
        transition_report(session, actor, report, action, reason=text, version=version)

    return act


def _confirm_value(session: Session, actor: User, value: IndicatorValue, version: int | None,
                   text: str | None) -> None:
    confirm_value(session, actor, value, version)


def _return_value(session: Session, actor: User, value: IndicatorValue, version: int | None,
                  text: str | None) -> None:
    return_value(session, actor, value, text, version)


def _case_what(case: SupervisionCase) -> str:
    return f"{case.number_label} {case.title}（{case.department.name}，{case.state.label}）"


def _report_what(report: ProgressReport) -> str:
    task = report.task
    return (f"{task.code} {task.title} · {report.department.name} · "
            f"{period_name(report.period, report.period_year, report.period_no)}（{report.state.label}）")


def _value_what(value: IndicatorValue) -> str:
    ind = value.indicator
    return f"{ind.plan.short_name} {ind.number}. {ind.name} · {value.year}年 {value.value_text}（{value.state.label}）"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("cases-acknowledge", "批量签收", "签收", SupervisionCase, frozenset({Role.DEPT_HEAD}),
         _case_action(CaseAction.ACKNOWLEDGE), _case_what, lambda c: url_for("supervision.show", case_id=c.id),
         can_view_case, "supervision.index"),
    Kind("cases-remind", "批量催办", "催办", SupervisionCase, frozenset({Role.SUPERVISOR}),
         _case_action(CaseAction.REMIND), _case_what, lambda c: url_for("supervision.show", case_id=c.id),
         can_view_case, "supervision.index", text_label="催办内容"),
    Kind("reports-confirm", "批量确认进展填报", "确认", ProgressReport, frozenset({Role.PLANNER}),
         _report(review.CONFIRM), _report_what, lambda r: url_for("tasks.report", report_id=r.id),
         lambda s, u, r: can_view_task(s, u, r.task), "tasks.reports"),
    Kind("reports-return", "批量退回进展填报", "退回", ProgressReport, frozenset({Role.PLANNER}),
         _report(review.RETURN), _report_what, lambda r: url_for("tasks.report", report_id=r.id),
         lambda s, u, r: can_view_task(s, u, r.task), "tasks.reports", text_label="退回原因"),
    Kind("values-confirm", "批量确认监测值", "确认", IndicatorValue, frozenset({Role.PLANNER}),
         _confirm_value, _value_what, lambda v: url_for("indicators.show", indicator_id=v.indicator_id),
         lambda s, u, v: can_view_plan(s, u, v.indicator.plan), "indicators.index"),
    Kind("values-return", "批量退回监测值", "退回", IndicatorValue, frozenset({Role.PLANNER}),
         _return_value, _value_what, lambda v: url_for("indicators.show", indicator_id=v.indicator_id),
         lambda s, u, v: can_view_plan(s, u, v.indicator.plan), "indicators.index", text_label="退回原因"),
)}


def kinds_for(user: User, *names: str) -> list[Kind]:
    """The batches among ``names`` the user's role may start (the list pages show a button for each)."""
    return [KINDS[n] for n in names if n in KINDS and user.role in KINDS[n].roles]


def _records(session: Session, kind: Kind, ids: Iterable[int]) -> list[Any]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise DomainError("请至少选择一项。", field="ids")
    if len(wanted) > MAX_ROWS:
        raise DomainError(f"一次最多办理 {MAX_ROWS} 项，请分批选择。", field="ids")
    found = {r.id: r for r in session.scalars(select(kind.model).where(kind.model.id.in_(wanted)))}
    return [found[i] for i in wanted if i in found]


def _try(session: Session, actor: User, kind: Kind, record: Any, version: int | None, text: str | None,
         keep: bool) -> Row:
    what = kind.describe(record)
    if not kind.visible(session, actor, record):
        return Row(record.id, version, what, None, False, "不在您的管辖范围内。")
    link = kind.link(record)
    savepoint = session.begin_nested()
    try:
        kind.act(session, actor, record, version, text)
        session.flush()
    except DomainError as exc:
        savepoint.rollback()
        return Row(record.id, version, what, link, False, exc.message)
    if keep:
        savepoint.commit()
        return Row(record.id, record.version_id, kind.describe(record), link, True, f"已{kind.verb}")
    savepoint.rollback()
    return Row(record.id, version, what, link, True, f"将{kind.verb}")


def preview(session: Session, actor: User, kind: Kind, ids: Iterable[int]) -> list[Row]:
    """What the batch would do to each chosen record, tried and rolled back."""
    rows = []
    for record in _records(session, kind, ids):
        version = record.version_id
        rows.append(_try(session, actor, kind, record, version, PREVIEW_TEXT if kind.text_label else None,
                         keep=False))
    return rows


def run(session: Session, actor: User, kind: Kind, items: Sequence[tuple[int, int | None]],
        text: str | None) -> list[Row]:
    """Do the batch: each (record id, version shown) in its own savepoint; refused rows change nothing."""
    text = (text or "").strip() or None
    if kind.text_label and not text:
        raise DomainError(f"请填写{kind.text_label}。", field="text")
    versions = dict(items)
    rows = [_try(session, actor, kind, record, versions[record.id], text, keep=True)
            for record in _records(session, kind, versions)]
    missing = len(versions) - len(rows)
    if missing:
        rows.extend(Row(i, v, f"#{i}", None, False, "该记录已不存在。")
                    for i, v in versions.items() if i not in {r.id for r in rows})
    return rows
