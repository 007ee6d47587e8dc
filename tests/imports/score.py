"""How well the importer reads plan documents: recall and precision per document and overall.

    .venv/bin/python -m tests.imports.score [--json] [--only NAME]

The documents are the corpus of :mod:`tests.imports.corpus` (built at run time: Word, text, and PDF when
LibreOffice is installed) and the seed documents of ../shared/seeds (when present), each with what a planner
would take from it. Five kinds of entry are scored: key tasks, measures, indicators (rows of target tables),
review rows (status and 完成情况 tables) and projects. An entry is found when the draft has one of the
same kind with the same title (spaces and punctuation aside); each expected entry matches one found entry.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.imports.extract import extract
from tracker.imports.services import read_document

from .corpus.documents import DOCUMENTS, CorpusDocument
from .corpus.render import libreoffice, to_docx, to_pdf, to_text

KINDS = ("key_tasks", "measures", "indicators", "reviews", "projects")
LABELS = {"key_tasks": "重点任务", "measures": "工作举措", "indicators": "指标", "reviews": "回顾行", "projects": "项目"}
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SEED_EXPECTED = Path(__file__).resolve().parent / "corpus" / "seeds.json"


def build(documents: list[CorpusDocument], workdir: Path | None = None) -> dict[str, bytes]:
    """Each document as the file a planner uploads (name → bytes); PDFs only when LibreOffice is here."""
    files: dict[str, bytes] = {}
    words: dict[str, bytes] = {}
    for doc in documents:
        if doc.fmt == "txt":
            files[doc.name] = to_text(doc.markup)
        elif doc.fmt.startswith("pdf:"):
            words[doc.name] = to_docx(doc.markup, doc.fmt[4:])
        else:
            files[doc.name] = to_docx(doc.markup, doc.fmt)
    if words and libreoffice():
        with tempfile.TemporaryDirectory() as tmp:
            files.update(to_pdf(words, workdir or Path(tmp)))
    return files


def found_entries(draft: dict[str, Any]) -> dict[str, list[str]]:
    items = draft["items"]
    return {
        "key_tasks": [i["title"] for i in items if i["type"] == "key_task"],
        "measures": [i["title"] for i in items if i["type"] == "measure"],
        "indicators": [i["name"] for i in draft["indicators"]],
        "reviews": [r["name"] for t in draft["reviews"] for r in t["rows"]],
        "projects": [p["name"] for p in draft["projects"]],
    }


_PUNCT = re.compile(r"[\s“”\"'《》（）()【】\[\]、，,。．.：:；;！!？?·—\-]")


def _key(title: str) -> str:
    return _PUNCT.sub("", title)


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    matched: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.expected += other.expected
        self.found += other.found
        self.matched += other.matched

    @property
    def recall(self) -> float:
        return 100.0 if not self.expected else 100.0 * self.matched / self.expected

    @property
    def precision(self) -> float:
        return 100.0 if not self.found else 100.0 * self.matched / self.found


def compare(expected: list[str], found: list[str]) -> Score:
    left = [_key(f) for f in found]
    score = Score(len(expected), len(found))
    for title in expected:
        k = _key(title)
        if k in left:
            left.remove(k)
            score.matched += 1
        else:
            score.missing.append(title)
    keys = [_key(f) for f in found]
    score.extra = [f for f, k in zip(found, keys, strict=True) if k in left]
    return score


@dataclass
class Result:
    name: str
    fmt: str
    scores: dict[str, Score]
    draft: dict[str, Any]


def score_document(name: str, fmt: str, filename: str, data: bytes, expected: dict[str, list[str]]) -> Result:
    draft = extract(read_document(filename, data))
    found = found_entries(draft)
    return Result(name, fmt, {k: compare(expected.get(k, []), found[k]) for k in KINDS}, draft)


def seed_documents() -> list[tuple[str, Path, dict[str, list[str]]]]:
    """(name, path, expected) of the seed documents beside the project (none when they are absent)."""
    if not SEEDS.is_dir():
        return []
    expected = json.loads(SEED_EXPECTED.read_text(encoding="utf-8"))
    out = []
    for prefix, entries in expected.items():
        found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
        if found:
            out.append((f"seed {prefix}", found[0], entries))
    return out


def run(only: str | None = None) -> list[Result]:
    documents = [d for d in DOCUMENTS if only is None or only in d.name]
    files = build(documents)
    results = []
    for doc in documents:
        if doc.name in files:
            results.append(score_document(doc.name, doc.fmt, doc.filename, files[doc.name], doc.expected))
    for name, path, expected in seed_documents():
        if only is None or only in name:
            results.append(score_document(name, "txt", path.name, path.read_bytes(), expected))
    return results


def totals(results: list[Result]) -> dict[str, Score]:
    total = {k: Score() for k in KINDS}
    for result in results:
        for k in KINDS:
            total[k].add(result.scores[k])
    return total


def _cell(score: Score) -> str:
    if not score.expected and not score.found:
        return "—"
    return f"{score.recall:.0f}/{score.precision:.0f}"


def table(results: list[Result]) -> str:
    head = f"{'document':32} {'format':13} " + " ".join(f"{LABELS[k]:>9}" for k in KINDS)
    lines = [head, "-" * len(head.encode("gbk"))]
    for r in results:
        lines.append(f"{r.name:32} {r.fmt:13} " + " ".join(f"{_cell(r.scores[k]):>12}" for k in KINDS))
    total = totals(results)
    lines.append(f"{'overall (recall/precision %)':32} {'':13} " + " ".join(f"{_cell(total[k]):>12}" for k in KINDS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--only", help="only the documents whose name contains this")
    parser.add_argument("--misses", action="store_true", help="list what was missed or found in excess")
    args = parser.parse_args(argv)
    results = run(args.only)
    if args.json:
        print(json.dumps({r.name: {k: {"recall": round(s.recall, 1), "precision": round(s.precision, 1)}
                                   for k, s in r.scores.items()} for r in results}, ensure_ascii=False, indent=2))
        return 0
    if not libreoffice():
        print("(LibreOffice is not installed: the PDF documents are left out)")
    print(table(results))
    if args.misses:
        for r in results:
            for k, s in r.scores.items():
                if s.missing or s.extra:
                    print(f"{r.name} {LABELS[k]}: missing {s.missing} extra {s.extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
