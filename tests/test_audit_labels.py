"""Every key written into an audit entry's ``changes`` has its Chinese label (tracker.audit.FIELD_LABELS),
audited values read as people write them, and one history query serves the history tabs."""

from __future__ import annotations

import ast
import pathlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import client_for
from tracker import audit
from tracker.audit import EMPTY, FIELD_LABELS, YEAR_FIELD_LABELS, display_value, label_of
from tracker.auth.models import Role

TRACKER = pathlib.Path(__file__).resolve().parent.parent / "tracker"
AUDIT_CALLS = {"record", "record_change", "diff", "snapshot"}
# The keys the set-based scans write in SQL (alerts.services._status_json, tasks.services._roll_up_changes).
SQL_WRITTEN_KEYS = {"status", "progress", "version_id"}


class AuditedKeys(ast.NodeVisitor):
    """The keys the code writes into ``changes``: the module-level ``*_FIELDS`` lists and every key of what
    is passed as changes to ``audit.record`` / ``audit.record_change`` (and the imports' ``_save``) —
    dict literals, comprehensions over literal tuples, snapshots of field lists, variables and what the
    local functions they come from return, with the keys later set on them (``changes["password"] = …``)."""

    def __init__(self, modules: dict[pathlib.Path, ast.Module]) -> None:
        self.functions: dict[str, list[ast.FunctionDef]] = {}  # functions and methods by name
        self.field_lists: dict[str, list[str]] = {}
        for tree in modules.values():
            for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
                self.functions.setdefault(fn.name, []).append(fn)
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id.endswith("_FIELDS"):
                            self.field_lists[target.id] = [e.value for e in node.value.elts
                                                           if isinstance(e, ast.Constant)]
        self.keys: dict[str, str] = {}  # key -> where it was seen
        self.prefixes: dict[str, str] = {}  # f-string keys: their constant start
        self._seen: set[tuple[int, int]] = set()
        self._where = ""
        for path, tree in modules.items():
            for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
                for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                    self._where = f"{path.relative_to(TRACKER.parent)}:{call.lineno}"
                    for arg in self._changes_args(call):
                        self._collect(arg, fn)

    @staticmethod
    def _changes_args(call: ast.Call) -> list[ast.expr]:
        f = call.func
        name = f.attr if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "audit" \
            else f.id if isinstance(f, ast.Name) and f.id == "_save" else None
        position = {"record": 4, "record_change": 5, "_save": 5}.get(name or "")
        if position is None:
            return []
        by_keyword = [k.value for k in call.keywords if k.arg in ("changes", "fields")]
        return by_keyword or call.args[position:position + 1]

    def _add(self, key: str) -> None:
        self.keys.setdefault(key, self._where)

    def _collect(self, node: ast.expr | None, fn: ast.FunctionDef, path: tuple[int, ...] = ()) -> None:
        """The keys of the dict ``node`` evaluates to in ``fn`` (of its element at ``path`` when it is a tuple)."""
        if node is None or len(path) > 3 or (id(node), id(fn), path) in self._seen:
            return
        self._seen.add((id(node), id(fn), path))
        if path:
            if isinstance(node, ast.Tuple) and len(node.elts) > path[0]:
                self._collect(node.elts[path[0]], fn, path[1:])
            elif isinstance(node, ast.Name | ast.Call):
                self._resolve(node, fn, path)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                self._key(key)
        elif isinstance(node, ast.DictComp):
            for gen in node.generators:
                if isinstance(gen.iter, ast.List | ast.Tuple):
                    for e in gen.iter.elts:
                        self._collect_constant(e)
                elif isinstance(gen.iter, ast.Call) and isinstance(gen.iter.func, ast.Attribute):
                    self._collect(gen.iter.func.value, fn)  # before.items()
                else:
                    self._collect(gen.iter, fn)
        elif isinstance(node, ast.BoolOp):  # changes or {}
            for value in node.values:
                self._collect(value, fn)
        elif isinstance(node, ast.List | ast.Tuple):
            for e in node.elts:
                if isinstance(e, ast.Starred):
                    self._collect(e.value, fn)
                else:
                    self._collect_constant(e)
        elif isinstance(node, ast.Name) and node.id in self.field_lists:
            for key in self.field_lists[node.id]:
                self._add(key)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit":
            if node.func.attr in AUDIT_CALLS:
                for arg in node.args[:2] if node.func.attr == "diff" else node.args[1:2]:
                    self._collect(arg, fn)
        elif isinstance(node, ast.Name | ast.Call):
            self._resolve(node, fn, ())

    def _resolve(self, node: ast.Name | ast.Call, fn: ast.FunctionDef, path: tuple[int, ...]) -> None:
        """A variable: what is assigned to it in ``fn`` (unpacked tuples included), the keys set on it, what
        callers pass when it is a parameter; a call of a function or method of the project: what it returns."""
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            for callee in self.functions.get(name or "", []):
                for ret in (n for n in ast.walk(callee) if isinstance(n, ast.Return)):
                    self._collect(ret.value, callee, path)
            return
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign):
                for target in n.targets:
                    where = _place(target, node.id)
                    if where is not None:
                        self._collect(n.value, fn, where + path)
                    if not path and isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id == node.id:
                        self._key(target.slice)
            if isinstance(n, ast.arg) and n.arg == node.id and not path:
                for caller_arg in self._arguments_named(fn.name, node.id):
                    self._collect(*caller_arg)

    def _arguments_named(self, function: str, parameter: str) -> list[tuple[ast.expr, ast.FunctionDef]]:
        """What callers pass for a parameter (``_save(..., changes)`` from the functions that call it)."""
        names = [a.arg for callee in self.functions[function] for a in callee.args.args]
        found = []
        for fn in (f for same_name in self.functions.values() for f in same_name):
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                if isinstance(call.func, ast.Name) and call.func.id == function:
                    if parameter in names and names.index(parameter) < len(call.args):
                        found.append((call.args[names.index(parameter)], fn))
                    found += [(k.value, fn) for k in call.keywords if k.arg == parameter]
        return found

    def _key(self, node: ast.expr | None) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._add(node.value)
        elif isinstance(node, ast.JoinedStr):
            self._joined(node)

    def _collect_constant(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._add(node.value)

    def _joined(self, key: ast.JoinedStr) -> None:
        text = "".join(v.value for v in key.values if isinstance(v, ast.Constant))
        if not text.isascii():
            return  # a key written in Chinese is its own label
        start = key.values[0]
        self.prefixes.setdefault(start.value if isinstance(start, ast.Constant) else "", self._where)


def _place(target: ast.expr, name: str) -> tuple[int, ...] | None:
    """Where ``name`` sits in an assignment target: () for ``name = …``, (1, 0) for ``a, (name, b) = …``."""
    if isinstance(target, ast.Name):
        return () if target.id == name else None
    if isinstance(target, ast.Tuple):
        for i, element in enumerate(target.elts):
            inner = _place(element, name)
            if inner is not None:
                return (i, *inner)
    return None


@pytest.fixture(scope="module")
def audited() -> AuditedKeys:
    modules = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(TRACKER.rglob("*.py"))}
    return AuditedKeys(modules)


def test_the_walk_finds_the_keys_written_today(audited: AuditedKeys) -> None:
    """The walk itself works: it finds the fields of every area, the snapshot extras and the key set later."""
    expected = {"progress", "period_no", "co_departments", "upstream", "children", "parent", "milestones",
                "total_investment", "value_text", "response_deadline", "weights", "adjusted_score", "new_value",
                "is_active", "keyword", "due_date", "target_text", "day", "password", "stage", "type", "lead", "co",
                "target"}
    assert expected <= set(audited.keys)
    assert {"planned.", "funding."} <= set(audited.prefixes)


def test_every_audited_key_has_a_chinese_label(audited: AuditedKeys) -> None:
    missing = {key: where for key, where in audited.keys.items() if key not in FIELD_LABELS}
    missing |= {key: "SQL" for key in SQL_WRITTEN_KEYS if key not in FIELD_LABELS}
    assert not missing, f"audited fields without a label in tracker.audit.FIELD_LABELS: {missing}"
    for key in FIELD_LABELS:
        label = label_of(key)
        assert label != key and not label.isascii(), key


def test_every_key_pattern_has_a_rule(audited: AuditedKeys) -> None:
    for prefix, where in audited.prefixes.items():
        assert prefix in YEAR_FIELD_LABELS or any(k.startswith(prefix) for k in FIELD_LABELS), (prefix, where)
    assert label_of("planned.2026") == "2026年计划投资（万元）"
    assert label_of("planned.") == "planned." and label_of("planned.二〇二六") == "planned.二〇二六"


def test_funding_sources_and_settings_have_their_own_labels() -> None:
    from tracker.projects.models import FundingSource
    from tracker.system.services import SETTINGS

    for source in FundingSource:
        assert label_of(f"funding.{source.value}") == f"{source.label}资金（万元）"
    for key, spec in SETTINGS.items():  # the settings page names a setting by the audit's label
        assert spec.label == label_of(key, "settings") and spec.label != key and not spec.label.isascii()


def test_a_label_can_depend_on_the_record() -> None:
    assert label_of("parent", "tasks") == "上级任务"
    assert label_of("parent", "plans") == "上级规划"
    assert label_of("parent") == "上级"
    assert label_of("kind", "key_projects") == "建设性质" and label_of("kind", "tasks") == "类型"
    assert label_of("start_year", "key_projects") == "开工年份" and label_of("start_year", "plans") == "起始年份"
    assert label_of("co_departments", "tasks") == "配合单位"
    assert label_of("节点“开工”计划日期", "tasks") == "节点“开工”计划日期"


def test_evaluation_weight_and_grade_names_come_from_the_table() -> None:
    from tracker.evaluations.services import GRADE_LABELS, WEIGHT_LABELS

    assert WEIGHT_LABELS == {"completion": "任务完成率", "on_time": "按期完成率", "indicators": "指标达成率",
                             "supervision": "督办办结率"}
    assert GRADE_LABELS == {"excellent": "优秀", "good": "良好", "pass": "合格"}


@pytest.mark.parametrize(("value", "field", "shown"), [
    (None, None, EMPTY), ("", "note", EMPTY), ([], "milestones", EMPTY),
    (True, "total_tbd", "是"), (False, "is_active", "否"),
    ("5000.0000", "total_investment", "5000"), ("1234.5600", "planned.2026", "1234.56"),
    ("0.0000", "completed", "0"), ("-12.5000", "new_value", "-12.5"), ("80.00", "adjusted_score", "80"),
    ("待定", "funding.fiscal", "待定"), (Decimal("5000.0000"), None, "5000"), (Decimal("1E+3"), None, "1000"),
    ("79.40", "value_text", "79.40"),  # typed text stays as typed
    ("2025-12-31", "deadline", "2025年12月31日"), (date(2026, 3, 1), None, "2026年3月1日"),
    ("0000-13-45", "achievements", "0000-13-45"), ("2025-02-30T09:00:00", "note", "2025-02-30T09:00:00"),  # looks like
    ("2026-01-05T02:30:00+00:00", "decided_at", "2026年1月5日 10:30"),
    (datetime(2026, 1, 5, 16, 30, tzinfo=UTC), None, "2026年1月6日 00:30"),
    (["人事处", "法规处"], "co_departments", "人事处、法规处"), (["法定节假日", "春节"], "day", "法定节假日、春节"),
    ({"completion": 40, "on_time": 20}, "weights", "任务完成率 40；按期完成率 20"),
    ({"excellent": 90}, "grade_thresholds", "优秀 90"),
    (70, "progress", "70"), ("1.2 推进疾控机构标准化", "parent", "1.2 推进疾控机构标准化"),
])
def test_audited_values_read_as_people_write_them(value: object, field: str | None, shown: str) -> None:
    assert display_value(value, field) == shown


def test_one_history_query(session: Session) -> None:
    zj = factories.region(session)
    dept = factories.department(session, zj)
    actor = factories.user(session, dept, Role.PLANNER)
    plan = factories.plan(session, zj)
    task, other = factories.task(session, plan, dept), factories.task(session, plan, dept)
    first = audit.record(session, actor, task, "update_status", {"progress": [0, 10]})
    filed = audit.record(session, None, task, "case_filed", {})
    step = audit.record(session, actor, task, "case_issue", {})
    audit.record(session, actor, other, "update_status", {})
    on_plan = audit.record(session, actor, plan, "update", {"parent": [None, "浙江省规划"]})
    session.flush()

    assert audit.history(session, ("tasks", task.id)) == [step, filed, first]
    assert audit.history(session, ("tasks", task.id), hide_actions="case_", except_actions=("case_filed",)) \
        == [filed, first]
    assert audit.history(session, ("tasks", task.id), hide_actions="case_") == [first]
    assert audit.history(session, ("tasks", [task.id]), ("plans", plan.id), limit=2) == [on_plan, step]
    assert audit.history(session, ("tasks", [])) == []
    assert audit.history(session, ("tasks", task.id))[-1].actor is actor


def test_history_tabs_show_labels_and_values_for_people(app: Flask, session: Session) -> None:
    zj = factories.region(session)
    dept = factories.department(session, zj)
    planner = factories.user(session, dept, Role.PLANNER, username="history_planner")
    plan = factories.plan(session, zj)
    task = factories.task(session, plan, dept)
    audit.record(session, planner, task, "update", {
        "co_departments": [None, "人事处、法规处"], "parent": [None, "1 总体要求"], "deadline": ["2026-12-31", "2027-03-31"],
        "upstream": ["十四五 1.2", None]}, "修改任务信息")
    audit.record(session, planner, plan, "update", {"parent": [None, "浙江省规划"], "end_year": [2025, 2030]}, "修改规划信息")
    session.commit()
    client = client_for(app, "history_planner", "demo1234")

    task_page = client.get(f"/tasks/{task.id}").get_data(as_text=True).split('id="history"', 1)[1]
    assert '<span class="muted">配合单位</span>：（空） → 人事处、法规处' in task_page
    assert '<span class="muted">上级任务</span>：（空） → 1 总体要求' in task_page
    assert '<span class="muted">上级规划</span>' not in task_page
    assert "截止日期</span>：2026年12月31日 → 2027年3月31日" in task_page
    assert "承接的上级规划任务</span>：十四五 1.2 → （空）" in task_page
    assert "co_departments" not in task_page and "upstream" not in task_page

    plan_page = client.get(f"/plans/{plan.id}?tab=history").get_data(as_text=True).split('id="history"', 1)[1]
    assert '<span class="muted">上级规划</span>：（空） → 浙江省规划' in plan_page
    assert "结束年份</span>：2025 → 2030" in plan_page and "修改规划信息" in plan_page
