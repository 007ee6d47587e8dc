"""The mutants of one module: small wrong changes, each made at one place of the source.

Operators (the changes a careless edit makes):

* ``cmp``     a comparison's bound or sense: ``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``,
              ``is`` ↔ ``is not`` (SQLAlchemy expressions too: they are built with the same operators)
* ``sqlop``   the same in SQLAlchemy's methods: ``.is_`` ↔ ``.is_not``, ``.in_`` ↔ ``.not_in``
* ``int``     an integer moved by one: ``n`` → ``n + 1``, ``n - 1``
* ``bool``    ``True`` ↔ ``False``
* ``boolop``  ``and`` ↔ ``or``
* ``operand`` one operand of an ``and`` / ``or`` dropped (a check forgotten)
* ``not``     ``not x`` → ``x``
* ``arith``   ``+`` ↔ ``-``, ``*`` ↔ ``/``, ``|`` ↔ ``&``
* ``call``    ``any`` ↔ ``all``, ``min`` ↔ ``max``
* ``return``  ``return x`` → ``return None`` (not for a ``return None`` or ``return False`` already)
* ``stmt``    a bare call (``require(...)``, ``session.execute(...)``) or a ``raise`` → ``pass``
* ``sqlcond`` one condition dropped from an ``and_(...)`` / ``or_(...)`` (a check forgotten in SQL)
* ``values``  one column dropped from an ``UPDATE … .values(...)``
* ``member``  one element dropped from a set literal (a role taken out of a role set)

Nothing inside annotations, decorators, docstrings, f-strings or ``assert`` statements is changed. The
source is edited at the node's own span (byte offsets: the files are UTF-8 with Chinese text), so the rest
of the file stays exactly as written.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

CMP_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
CMP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
            ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
ARITH_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}
ARITH_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.BitOr: "|", ast.BitAnd: "&"}
CALL_SWAPS = {"any": "all", "all": "any", "min": "max", "max": "min"}
METHOD_SWAPS = {"is_": "is_not", "is_not": "is_", "in_": "not_in", "not_in": "in_"}


@dataclass(frozen=True)
class Mutant:
    key: str  # "<function>:<operator>:<change>#<n>": stable while the function's own code stays as it is
    function: str
    operator: str
    change: str
    line: int
    original: str  # the source text replaced
    replacement: str
    start: int  # byte offsets into the source
    end: int

    def apply(self, source: bytes) -> bytes:
        return source[:self.start] + self.replacement.encode() + source[self.end:]


def _offsets(source: bytes) -> list[int]:
    starts = [0]
    for i, byte in enumerate(source):
        if byte == 0x0A:
            starts.append(i + 1)
    return starts


class _Collector(ast.NodeVisitor):
    def __init__(self, source: bytes, functions: set[str] | None) -> None:
        self.source = source
        self.line_starts = _offsets(source)
        self.functions = functions
        self.scope: list[str] = []
        self.found: list[tuple[str, str, str, ast.AST, str]] = []  # (function, operator, change, node, new text)

    # ------------------------------------------------------------------ where we are

    def _function(self) -> str:
        return ".".join(self.scope) or "<module>"

    def _active(self) -> bool:
        if self.functions is None:
            return True
        return bool(self.scope) and self.scope[0] in self.functions

    def _visit_scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        # decorators, annotations and docstrings are not code that runs a rule
        self.scope.append(node.name)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        if not isinstance(node, ast.ClassDef):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.visit(default)
        for stmt in body:
            self.visit(stmt)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_scope

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        if isinstance(node.value, ast.Call):
            self._add("stmt", f"drop {_head(node.value)}(...)", node, "pass")
        self.generic_visit(node)

    # ------------------------------------------------------------------ statements

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value in (None, False)):
            self._add("return", "return None", node, "return None")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self._add("stmt", "drop raise", node, "pass")
        self.generic_visit(node)

    # ------------------------------------------------------------------ expressions

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            new = copy.deepcopy(node)
            new.ops[i] = CMP_SWAPS[type(op)]()
            self._expr("cmp", f"{CMP_TEXT[type(op)]} → {CMP_TEXT[type(new.ops[i])]}", node, new)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        name, other = ("and", ast.Or) if isinstance(node.op, ast.And) else ("or", ast.And)
        self._expr("boolop", f"{name} → {'or' if name == 'and' else 'and'}", node,
                   ast.BoolOp(op=other(), values=copy.deepcopy(node.values)))
        for i in range(len(node.values)):
            rest = copy.deepcopy(node.values[:i] + node.values[i + 1:])
            new = rest[0] if len(rest) == 1 else ast.BoolOp(op=copy.deepcopy(node.op), values=rest)
            self._expr("operand", f"drop {name} operand {i + 1}", node, new)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._expr("not", "drop not", node, copy.deepcopy(node.operand))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = ARITH_SWAPS.get(type(node.op))
        if swap is not None:
            new = copy.deepcopy(node)
            new.op = swap()
            self._expr("arith", f"{ARITH_TEXT[type(node.op)]} → {ARITH_TEXT[swap]}", node, new)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool):
            self._expr("bool", f"{node.value} → {not node.value}", node, ast.Constant(not node.value))
        elif isinstance(node.value, int):
            for delta in (1, -1):
                self._expr("int", f"{node.value} → {node.value + delta}", node, ast.Constant(node.value + delta))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in CALL_SWAPS:
            new = copy.deepcopy(node)
            new.func = ast.Name(CALL_SWAPS[func.id], ast.Load())
            self._expr("call", f"{func.id} → {CALL_SWAPS[func.id]}", node, new)
        if isinstance(func, ast.Attribute) and func.attr in METHOD_SWAPS:
            new = copy.deepcopy(node)
            new.func.attr = METHOD_SWAPS[func.attr]  # type: ignore[attr-defined]
            self._expr("sqlop", f".{func.attr} → .{METHOD_SWAPS[func.attr]}", node, new)
        if isinstance(func, ast.Name) and func.id in ("and_", "or_") and len(node.args) > 1 and not any(
                isinstance(a, ast.Starred) for a in node.args):
            for i in range(len(node.args)):
                new = copy.deepcopy(node)
                del new.args[i]
                self._expr("sqlcond", f"drop {func.id} condition {i + 1}", node, new)
        if isinstance(func, ast.Attribute) and func.attr == "values" and len(node.keywords) > 1:
            for i, keyword in enumerate(node.keywords):
                new = copy.deepcopy(node)
                del new.keywords[i]
                self._expr("values", f"drop {keyword.arg}=", node, new)
        self.generic_visit(node)

    def visit_Set(self, node: ast.Set) -> None:
        if len(node.elts) > 1:
            for i, element in enumerate(node.elts):
                new = ast.Set(elts=copy.deepcopy(node.elts[:i] + node.elts[i + 1:]))
                self._expr("member", f"drop {ast.unparse(element)}", node, new)
        self.generic_visit(node)

    # ------------------------------------------------------------------ recording

    def _expr(self, operator: str, change: str, node: ast.AST, new: ast.AST) -> None:
        self._add(operator, change, node, f"({ast.unparse(new)})")

    def _add(self, operator: str, change: str, node: ast.AST, text: str) -> None:
        if self._active():
            self.found.append((self._function(), operator, change, node, text))


def _head(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return "call"


def mutants(source: bytes, functions: set[str] | None = None) -> list[Mutant]:
    """Every mutant of ``source``, in source order; ``functions`` limits them to these top-level functions."""
    collector = _Collector(source, functions)
    collector.visit(ast.parse(source))
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for function, operator, change, node, text in collector.found:
        start = collector.line_starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = collector.line_starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        seen[(function, operator, change)] += 1
        n = seen[(function, operator, change)]
        out.append(Mutant(
            key=f"{function}:{operator}:{change}#{n}", function=function, operator=operator, change=change,
            line=node.lineno, original=source[start:end].decode(), replacement=text,  # type: ignore[attr-defined]
            start=start, end=end,
        ))
    return sorted(out, key=lambda m: (m.start, m.end, m.key))


def check(source: bytes, found: list[Mutant]) -> Iterator[str]:
    """Problems with the mutants themselves: one that does not parse, or that leaves the code unchanged."""
    original = ast.dump(ast.parse(source))
    for m in found:
        try:
            tree = ast.parse(m.apply(source))
        except SyntaxError as exc:
            yield f"{m.key}: does not parse ({exc})"
            continue
        if ast.dump(tree) == original:
            yield f"{m.key}: changes nothing"
