"""Mutation testing of the rule modules against their own tests (not part of the suite, not run in CI).

    .venv/bin/python -m tests.mutation [permissions|targets|alerts ...] [--list] [--only KEY ...]
                                       [--tests PATH ...] [--json FILE] [--keep]

Each module's mutants (see ``tests/mutation/mutants.py``) are applied one at a time to a COPY of the project
in a temporary directory — the working tree is never written — and the module's own tests run there on SQLite
(``pytest -x``, a fixed hypothesis seed, a timeout). A mutant is killed when a test fails or times out. The
report gives killed / survived per module and the score over the mutants that are not equivalent (those are
listed with the reason in ``tests/mutation/equivalent.py``); survivors are printed with their line and change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .equivalent import EQUIVALENT
from .mutants import Mutant, check, mutants

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Target:
    path: str
    tests: tuple[str, ...]  # fast, focused tests first: -x stops at the first failure
    functions: frozenset[str] | None = None  # None: the whole module


TARGETS = {
    "permissions": Target("tracker/permissions.py", (
        "tests/test_permissions.py", "tests/test_route_matrix.py", "tests/test_post_matrix.py")),
    "targets": Target("tracker/indicators/targets.py", (
        "tests/indicators/test_target_boundaries.py", "tests/indicators/test_targets.py")),
    # The scan's level and status rules, not the whole file (the list queries below them have their own tests).
    "alerts": Target("tracker/alerts/services.py", (
        "tests/alerts/test_level_rules.py", "tests/alerts/test_scan_versions.py", "tests/alerts/test_scan.py"),
        frozenset({"thresholds", "level_rules", "level_of", "_level_case", "_sync_statuses", "_task_candidate",
                   "_milestone_candidate"})),
}

IGNORE = shutil.ignore_patterns(".git", ".venv", "instance", "__pycache__", ".pytest_cache", ".hypothesis",
                                ".ruff_cache", "*.egg-info", "screenshots", "downloads", "results", "mutants")


def _copy_project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="tracker-mutation-"))
    copy = root / "project"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    return copy


def _env(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL", "PYTHONPATH")}
    # The copy's package comes first on the path (before the editable install of the working tree), and no
    # bytecode is written: a mutant of the same size within the same second must not run a stale .pyc.
    env.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    return env


def _check_imports_the_copy(copy: Path, target: Target) -> None:
    module = target.path.removesuffix(".py").replace("/", ".")
    out = subprocess.run([sys.executable, "-c", f"import {module} as m; print(m.__file__)"], cwd=copy,
                         env=_env(copy), capture_output=True, text=True, check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"{module} is imported from {out}, not from the copy {copy}")


@dataclass
class Outcome:
    status: str  # killed | survived | timeout | baseline
    seconds: float
    by: str = ""  # the first failing test


_running: subprocess.Popen[bytes] | None = None


def _pytest(copy: Path, tests: tuple[str, ...], timeout: float | None) -> Outcome:
    global _running
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0",
               f"--basetemp={copy.parent / 'pytest-tmp'}", *tests]
    started = time.monotonic()
    log = copy.parent / "pytest.log"
    with log.open("wb") as out:
        _running = subprocess.Popen(command, cwd=copy, env=_env(copy), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            code = _running.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_running()
            return Outcome("timeout", time.monotonic() - started, "timeout")
        finally:
            _running = None
    seconds = time.monotonic() - started
    if code == 0:
        return Outcome("survived", seconds)
    text = log.read_text(errors="replace")
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.MULTILINE)
    return Outcome("killed", seconds, failed[0] if failed else f"exit {code}")


def _stop_running() -> None:
    if _running is not None and _running.poll() is None:
        os.killpg(_running.pid, signal.SIGKILL)
        _running.wait()


def run(name: str, target: Target, only: set[str] | None, tests: tuple[str, ...] | None,
        keep: bool) -> dict[str, object]:
    tests = tests or target.tests
    source_path = ROOT / target.path
    source = source_path.read_bytes()
    found = mutants(source, set(target.functions) if target.functions else None)
    problems = list(check(source, found))
    if problems:
        raise SystemExit("broken mutants:\n" + "\n".join(problems))
    equivalent = EQUIVALENT.get(name, {})
    stale = sorted(set(equivalent) - {m.key for m in found})
    if only:
        missing = sorted(only - {m.key for m in found})
        if missing:
            raise SystemExit(f"no such mutant of {target.path}: {', '.join(missing)}")
        found = [m for m in found if m.key in only]
    copy = _copy_project()
    copied = copy / target.path
    results: dict[str, Outcome] = {}
    try:
        copied.write_bytes(source)  # the version the mutants were made from, whatever changed since
        _check_imports_the_copy(copy, target)
        print(f"== {name}: {target.path} — {len(found)} mutants; tests: {' '.join(tests)}", flush=True)
        baseline = _pytest(copy, tests, None)
        if baseline.status != "survived":
            tail = "\n".join((copy.parent / "pytest.log").read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"the tests fail without any mutant ({baseline.by}):\n{tail}")
        timeout = baseline.seconds * 3 + 30
        print(f"   baseline passes in {baseline.seconds:.0f} s; timeout per mutant {timeout:.0f} s", flush=True)
        for i, m in enumerate(found, 1):
            copied.write_bytes(m.apply(source))
            try:
                outcome = _pytest(copy, tests, timeout)
            finally:
                copied.write_bytes(source)
            results[m.key] = outcome
            mark = "EQUIV " if m.key in equivalent else ""
            print(f"   [{i}/{len(found)}] {outcome.status:8} {outcome.seconds:5.0f}s  L{m.line} {m.key}  {mark}"
                  f"{outcome.by}", flush=True)
    finally:
        _stop_running()
        if copied.exists():
            copied.write_bytes(source)
        if keep:
            print(f"   copy kept at {copy}")
        else:
            shutil.rmtree(copy.parent, ignore_errors=True)
    return _report(name, target, found, results, equivalent, stale)


def _report(name: str, target: Target, found: list[Mutant], results: dict[str, Outcome],
            equivalent: dict[str, str], stale: list[str]) -> dict[str, object]:
    killed = [m for m in found if results[m.key].status in ("killed", "timeout")]
    survived = [m for m in found if results[m.key].status == "survived"]
    equiv = [m for m in survived if m.key in equivalent]
    live = [m for m in survived if m.key not in equivalent]
    killed_equiv = [m for m in killed if m.key in equivalent]  # a test tells them apart after all
    relevant = len(found) - len(equiv)
    score = 100.0 * len(killed) / relevant if relevant else 100.0
    print(f"\n{name}: {len(found)} mutants, {len(killed)} killed, {len(survived)} survived "
          f"({len(equiv)} equivalent, {len(live)} not); "
          f"killed {len(killed)}/{relevant} non-equivalent = {score:.1f} %")
    for m in live:
        print(f"  SURVIVED L{m.line} {m.key}\n      {m.original!r} → {m.replacement!r}")
    for m in equiv:
        print(f"  equivalent L{m.line} {m.key}: {equivalent[m.key]}")
    for m in killed_equiv:
        print(f"  NOTE: {m.key} is listed as equivalent but was killed by {results[m.key].by}")
    for key in stale:
        print(f"  NOTE: equivalent.py lists {key}, which is no mutant of {target.path} any more")
    return {
        "module": target.path, "mutants": len(found), "killed": len(killed), "survived": len(survived),
        "equivalent": len(equiv), "score": round(score, 1),
        "survivors": [{"key": m.key, "line": m.line, "original": m.original, "replacement": m.replacement,
                       "equivalent": equivalent.get(m.key)} for m in survived],
        "results": {k: {"status": o.status, "seconds": round(o.seconds, 1), "by": o.by} for k, o in results.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"{', '.join(TARGETS)} (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--only", nargs="+", metavar="KEY", help="run these mutants only")
    parser.add_argument("--tests", nargs="+", metavar="PATH", help="run these tests instead of the module's")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args()
    names = args.modules or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    if args.list:
        for name in names:
            target = TARGETS[name]
            found = mutants((ROOT / target.path).read_bytes(), set(target.functions) if target.functions else None)
            print(f"== {name}: {len(found)} mutants")
            for m in found:
                mark = " (equivalent)" if m.key in EQUIVALENT.get(name, {}) else ""
                print(f"L{m.line:<4} {m.key}{mark}\n       {m.original!r} → {m.replacement!r}")
        return 0
    reports = {name: run(name, TARGETS[name], set(args.only) if args.only else None,
                         tuple(args.tests) if args.tests else None, args.keep) for name in names}
    print("\n| module | mutants | killed | survived | equivalent | killed / non-equivalent |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in reports.values():
        print(f"| {r['module']} | {r['mutants']} | {r['killed']} | {r['survived']} | {r['equivalent']} "
              f"| {r['score']} % |")
    if args.json:
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
