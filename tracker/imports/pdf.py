"""PDF plan documents with a text layer as blocks, read with pdfplumber.

A PDF has no paragraphs, only characters at positions. The reader takes each page's lines (outside its
tables) in reading order, top to bottom, and joins them into paragraphs the way a reader's eye does: a line
starts a new paragraph when it is indented, when the line before it stopped short of the right margin, when
its font size or weight changes, or when it starts with a heading number ("一、", "（一）", "1．"). A
paragraph that runs to the foot of a page continues on the next page unless the next page's first line is
indented; page numbers ("— 1 —") are skipped. Lines in a larger or bold font than the body are headings
(their level by size). Tables are pdfplumber's, in their place among the paragraphs; a table that goes on at
the top of the next page with the same columns continues (its repeated header row dropped, a row broken
over the page joined again). A merged cell
comes out empty, so a category merged down a column continues as in a Word table.

A scanned PDF (pages without a text layer) is refused with a message saying what to do.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from typing import Any

from ..errors import DomainError
from .blocks import Block, Paragraph, Table, clean_text
from .headings import classify_heading, is_noise
from .limits import FIELD, Budget

log = logging.getLogger(__name__)

MAX_PAGES = 500
NO_TEXT = ("该 PDF 没有可以读取的文字（可能是扫描件或图片）。请上传 Word 文档，或先用 OCR 软件把 PDF "
           "转成带文字层的文件后再上传。")


def _font(fontname: str) -> str:
    """"BAAAAA+SimHei" → "simhei" (the subset prefix off)."""
    return fontname.split("+", 1)[-1].lower()


def _bold(font: str, body_font: str) -> bool:
    """A bold face, or a 黑体 / 小标宋 face other than the body's (headings in official documents)."""
    if any(w in font for w in ("bold", "heavy", "black", "semibold")):
        return True
    return font != body_font and any(w in font for w in ("hei", "黑体", "xbs", "xiaobiaosong", "小标宋"))


def _line_style(line: dict[str, Any]) -> tuple[float, str]:
    chars = [c for c in line.get("chars", []) if c.get("text", "").strip()]
    if not chars:
        return 0.0, ""
    size = Counter(round(c["size"], 1) for c in chars).most_common(1)[0][0]
    font = Counter(_font(c.get("fontname", "")) for c in chars).most_common(1)[0][0]
    return size, font


# LibreOffice and Word leave a gap between Chinese and Latin text ("2026 年") that the layer reads as a space
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’"
_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[\w%.‰≥≤<>+-])|(?<=[\w%.‰≥≤<>+-])\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+(?=[{_CJK}])")


def _unspace(text: str) -> str:
    return _GAP.sub("", text)


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def read_pdf(data: bytes, budget: Budget | None = None) -> list[Block]:
    """The blocks of a PDF with a text layer (see the module docstring)."""
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    budget = budget or Budget()
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pdf.pages  # noqa: B018  (the page tree is read here: a broken file fails now)
    except (PdfminerException, ValueError, TypeError, KeyError) as exc:
        log.info("unreadable PDF: %s", exc)
        raise DomainError("PDF 文件已损坏或加密，无法读取。", field=FIELD) from None
    with pdf:
        if len(pdf.pages) > MAX_PAGES:
            raise DomainError(f"PDF 超过 {MAX_PAGES} 页，无法导入。请拆分后上传。", field=FIELD)
        # (kind, page, top, payload): lines and tables of every page in reading order
        pages: list[list[tuple[str, Any]]] = []
        sizes: Counter[float] = Counter()
        fonts: Counter[str] = Counter()
        for page in pdf.pages:
            budget.tick()
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            items: list[tuple[float, str, Any]] = []
            for t in tables:
                rows = [["\n".join(_unspace(clean_text(x)) for x in (c or "").splitlines()) for c in row]
                        for row in t.extract()]
                for row in rows:
                    for cell in row:
                        budget.cell(len(cell))
                items.append((t.bbox[1], "table", rows))
            text_page = page.filter(lambda o, boxes=boxes: not _inside(o, boxes)) if boxes else page
            # (a list number in another font sits a little higher than its text: a wider tolerance keeps
            # them on one line)
            for line in text_page.extract_text_lines(return_chars=True, y_tolerance=6):
                text = _unspace(clean_text(line["text"]))
                if not text:
                    continue
                size, font = _line_style(line)
                sizes[size] += len(text)
                fonts[font] += len(text)
                items.append((line["top"], "line", {"text": text, "x0": line["x0"], "x1": line["x1"],
                                                     "size": size, "font": font}))
            items.sort(key=lambda i: i[0])
            pages.append([(kind, payload) for _top, kind, payload in items])
        if not sizes:
            raise DomainError(NO_TEXT, field=FIELD)
    body_size = sizes.most_common(1)[0][0]
    body_font = fonts.most_common(1)[0][0]
    heading_sizes = sorted({s for s in sizes if s > body_size + 0.5}, reverse=True)
    for page_items in pages:
        for kind, payload in page_items:
            if kind == "line":
                payload["bold"] = _bold(payload.pop("font"), body_font)
    return _blocks(pages, heading_sizes, budget)


def _split_row(before: list[str], after: list[str]) -> bool:
    """A row Word broke over the page: the part on the next page fills only some of the cells the part
    before it filled (a row under a merged cell leaves the same cells empty as the row above it)."""
    filled_before = {i for i, c in enumerate(before) if c}
    filled_after = {i for i, c in enumerate(after) if c}
    return bool(filled_after) and filled_after < filled_before and len(filled_after) * 2 <= len(filled_before)


def _blocks(pages: list[list[tuple[str, Any]]], heading_sizes: list[float], budget: Budget) -> list[Block]:
    blocks: list[Block] = []
    current: dict[str, Any] | None = None  # the paragraph being joined: text, style, whether it may go on

    def close() -> None:
        nonlocal current
        if current is not None:
            budget.paragraph(len(current["text"]))
            blocks.append(Paragraph(current["text"], heading=current["heading"]))
            current = None

    def level(size: float, bold: bool) -> int | None:
        if size in heading_sizes:
            return heading_sizes.index(size) + 1
        if bold:
            return len(heading_sizes) + 1
        return None

    # the text block's margins, over the whole document (a last page of short lines has the same margins)
    lines = [p for page in pages for k, p in page if k == "line" and not is_noise(p["text"])]
    lefts = Counter(round(p["x0"]) for p in lines)
    left = min((x for x, n in lefts.items() if n * 20 >= len(lines)), default=0.0)
    right = max((p["x1"] for p in lines), default=0.0)
    for page in pages:
        first_on_page = True
        for kind, payload in page:
            if kind == "table":
                close()
                rows = payload
                last = blocks[-1] if blocks else None
                if (first_on_page and isinstance(last, Table) and last.rows and rows
                        and len(last.rows[0]) == len(rows[0])):
                    if rows[0] == last.rows[0]:
                        rows = rows[1:]
                    if rows and _split_row(last.rows[-1], rows[0]):
                        last.rows[-1] = [a + b for a, b in zip(last.rows[-1], rows[0], strict=True)]
                        rows = rows[1:]
                    last.rows.extend(rows)
                else:
                    blocks.append(Table(rows))
                first_on_page = False
                continue
            line = payload
            if is_noise(line["text"]):
                continue
            size, bold = line["size"], line["bold"]
            heading = level(size, bold)
            indented = line["x0"] > left + max(size, 1.0) * 1.2
            numbered = classify_heading(line["text"]) is not None
            joins = (current is not None and current["open"] and not indented and not numbered
                     and current["style"] == (size, bold))
            if first_on_page and current is not None and not current["open"]:
                joins = False
            if joins:
                assert current is not None
                current["text"] += line["text"]
            else:
                close()
                current = {"text": line["text"], "heading": heading, "style": (size, bold)}
            # a line that runs to the right margin goes on in the next line
            assert current is not None
            current["open"] = line["x1"] >= right - max(size, 1.0) * 1.5
            first_on_page = False
    close()
    return blocks
