"""Benchmark of reading plan documents into drafts (a script, not a test).

    .venv/bin/python -m tests.bench.import_extract                  # up to the paragraph cap
    .venv/bin/python -m tests.bench.import_extract --no-caps --max 80000

Times :func:`tracker.imports.services.draft_of` — the upload's own path: the file checked, read, extracted —
on generated documents of doubling paragraph counts, up to the paragraph cap of tracker/imports/limits.py or
what fits the upload limit (TRACKER_MAX_UPLOAD_MB, and the import's own 10 MB), whichever is lower:

* .txt repetitive: one numbered line repeated ("1. 推进疾控体系建设工作。"), every line a key task of code 1,
* .docx repetitive: the same as Word paragraphs (76,000 of them zip to about 19 KB),
* .txt realistic nested: chapters, key tasks, measures and two deeper levels (第X章 / 一、 / （一） / 1． / （1）),
  a target sentence under each heading, an indicator table per chapter and a 专栏 per key task.

With ``--no-caps`` the caps and the time limit are lifted (to show how the work grows past them); a size over
a cap is otherwise reported as refused, with the refusal's message.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from tracker.attachments.services import MAX_FILE_BYTES
from tracker.errors import DomainError
from tracker.imports import limits
from tracker.imports.services import draft_of

from ..imports.docgen import nested_plan_text, repeated_docx, repeated_text

KINDS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    ".txt repetitive": ("plan.txt", repeated_text),
    ".docx repetitive": ("plan.docx", repeated_docx),
    ".txt realistic nested": ("plan.txt", nested_plan_text),
}


def upload_limit() -> int:
    return min(int(os.environ.get("TRACKER_MAX_UPLOAD_MB", "20")) * 1024 * 1024, MAX_FILE_BYTES)


def sizes(start: int, largest: int) -> list[int]:
    """Paragraph counts doubling up to ``largest`` (which is always the last)."""
    out = []
    n = largest
    while n >= start:
        out.append(n)
        n //= 2
    return sorted(out)


def measure(filename: str, data: bytes, *, caps: bool, runs: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(runs):
        budget = limits.Budget() if caps else limits.Budget.unlimited()
        start = time.perf_counter()
        try:
            draft = draft_of(filename, data, budget)
        except DomainError as refused:
            outcome = f"refused: {refused.message.split('，无法导入')[0]}"
        else:
            outcome = str(len(draft.items))
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-caps", action="store_true", help="lift the caps and the time limit")
    parser.add_argument("--max", type=int, default=None, help="largest paragraph count (default: the paragraph cap)")
    parser.add_argument("--start", type=int, default=625, help="smallest paragraph count")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (the median is shown)")
    args = parser.parse_args()
    largest = args.max or limits.MAX_PARAGRAPHS
    caps = not args.no_caps
    print(f"caps {'on' if caps else 'lifted'} (paragraphs {limits.MAX_PARAGRAPHS}, cells {limits.MAX_CELLS}, "
          f"characters {limits.MAX_CHARS}, entries {limits.MAX_ITEMS}, {limits.TIME_LIMIT_SECONDS:g} s); "
          f"upload limit {upload_limit() // 1024 // 1024} MB")
    print(f"{'document':24} {'paragraphs':>10} {'size':>9} {'seconds':>8}  items")
    for kind, (filename, make) in KINDS.items():
        for n in sizes(args.start, largest):
            data = make(n)
            if len(data) > upload_limit():
                print(f"{kind:24} {n:>10} {len(data) / 1024:>7.0f}KB {'':>8}  (over the upload limit)")
                break
            seconds, outcome = measure(filename, data, caps=caps, runs=args.runs)
            print(f"{kind:24} {n:>10} {len(data) / 1024:>7.0f}KB {seconds:>8.3f}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
