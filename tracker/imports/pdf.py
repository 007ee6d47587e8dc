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

A page set in two columns (a booklet's annexes, a table of contents) is read column by column: the words'
x positions show a gutter — a vertical strip in the middle of the text block that no word of a column crosses,
with words on both sides of it on at least three lines — and the page is read band by band, a band being
the stretch between lines that run across the gutter (a title, a page number): in each band the left column,
then the right. Lines in a column are measured against that column's margins. A page without a gutter of its
own after one with columns (the last page, where the text ends in the left column) keeps the gutter when no
more than a few of its lines cross it.

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


# ------------------------------------------------------------------------------------------- columns

Box = tuple[float, float, float, float]  # x0, top, x1, bottom


def _crosses(word: dict[str, Any], gutter: tuple[float, float]) -> bool:
    return word["x0"] < gutter[1] - 1 and word["x1"] > gutter[0] + 1


def _gutter(words: list[dict[str, Any]]) -> tuple[float, float] | None:
    """The gap between two columns of text (x from, x to), or None for a page of one column.

    Words narrower than half the text block are a column's; the widest strip none of them covers, with its
    middle in the middle half of the block and at least a character wide, is the gutter when words lie on both
    sides of it on three lines or more and the words running across it (a title over both columns, a page
    number) are few."""
    if len(words) < 6:
        return None
    left, right = min(w["x0"] for w in words), max(w["x1"] for w in words)
    width = right - left
    narrow = sorted((w for w in words if w["x1"] - w["x0"] < width / 2), key=lambda w: w["x0"])
    char = sorted(w["bottom"] - w["top"] for w in words)[len(words) // 2]
    best: tuple[float, float] | None = None
    reach = left
    for word in narrow:  # the strips no narrow word covers, left to right
        if word["x0"] > reach and (best is None or word["x0"] - reach > best[1] - best[0]) \
                and left + width / 4 <= (reach + word["x0"]) / 2 <= right - width / 4:
            best = (reach, word["x0"])
        reach = max(reach, word["x1"])
    if best is None or best[1] - best[0] < char:
        return None
    lefts = [w for w in narrow if w["x1"] <= best[0] + 1]
    rights = [w for w in narrow if w["x0"] >= best[1] - 1]
    side_by_side = sum(1 for w in lefts if any(abs(w["top"] - r["top"]) < char for r in rights))
    across = sum(1 for w in words if _crosses(w, best))
    return best if side_by_side >= 3 and across * 5 <= len(words) else None


def _keeps(words: list[dict[str, Any]], gutter: tuple[float, float]) -> bool:
    """A page without columns of its own after one with them: the text of its left column and no more than
    a few lines (a heading, a page number) across the gutter."""
    across = sum(1 for w in words if _crosses(w, gutter))
    return bool(words) and across * 5 <= len(words) and any(w["x1"] <= gutter[0] + 1 for w in words)


def _regions(page: Box, words: list[dict[str, Any]], tables: list[Box],
             gutter: tuple[float, float] | None) -> list[tuple[Box, int | None]]:
    """The page's parts in reading order, each with its column (0 left, 1 right, None across the page)."""
    if gutter is None:
        return [(page, None)]
    x0, top, x1, bottom = page
    middle = (gutter[0] + gutter[1]) / 2
    spans = sorted([(w["top"], w["bottom"]) for w in words if _crosses(w, gutter)]
                   + [(t[1], t[3]) for t in tables if _crosses({"x0": t[0], "x1": t[2]}, gutter)])
    bands: list[tuple[float, float, bool]] = []  # top, bottom, across the page
    for s_top, s_bottom in spans:
        if bands and bands[-1][2] and s_top <= bands[-1][1]:
            bands[-1] = (bands[-1][0], max(bands[-1][1], s_bottom), True)
            continue
        start = bands[-1][1] if bands else top
        if s_top > start:
            bands.append((start, s_top, False))
        bands.append((s_top, s_bottom, True))
    start = bands[-1][1] if bands else top
    if bottom > start:
        bands.append((start, bottom, False))
    regions: list[tuple[Box, int | None]] = []
    for b_top, b_bottom, across in bands:
        if across:
            regions.append(((x0, b_top, x1, b_bottom), None))
        else:
            regions += [((x0, b_top, middle, b_bottom), 0), ((middle, b_top, x1, b_bottom), 1)]
    return regions


def _region_of(regions: list[tuple[Box, int | None]], box: Box) -> int:
    """Where a table goes in the reading order: the part its middle lies in."""
    centre = {"x0": box[0], "x1": box[2], "top": box[1], "bottom": box[3]}
    return next((n for n, (bbox, _column) in enumerate(regions) if _inside(centre, [bbox])), 0)


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
        gutter: tuple[float, float] | None = None  # the last page's, for a page that ends a column
        for page in pdf.pages:
            budget.tick()
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            text_page = page.filter(lambda o, boxes=boxes: not _inside(o, boxes)) if boxes else page
            words = text_page.extract_words()
            gutter = _gutter(words) or (gutter if gutter and _keeps(words, gutter) else None)
            regions = _regions(page.bbox, words, boxes, gutter)
            items: list[tuple[tuple[int, float], str, Any]] = []
            for t in tables:
                rows = [["\n".join(_unspace(clean_text(x)) for x in (c or "").splitlines()) for c in row]
                        for row in t.extract()]
                for row in rows:
                    for cell in row:
                        budget.cell(len(cell))
                items.append(((_region_of(regions, t.bbox), t.bbox[1]), "table", rows))
            for order, (bbox, column) in enumerate(regions):
                part = text_page if column is None and len(regions) == 1 else \
                    text_page.filter(lambda o, bbox=bbox: _inside(o, [bbox]))
                # (a list number in another font sits a little higher than its text: a wider tolerance keeps
                # them on one line)
                for line in part.extract_text_lines(return_chars=True, y_tolerance=6):
                    text = _unspace(clean_text(line["text"]))
                    if not text:
                        continue
                    size, font = _line_style(line)
                    sizes[size] += len(text)
                    fonts[font] += len(text)
                    items.append(((order, line["top"]), "line", {"text": text, "x0": line["x0"], "x1": line["x1"],
                                                                 "size": size, "font": font, "column": column}))
            items.sort(key=lambda i: i[0])
            pages.append([(kind, payload) for _at, kind, payload in items])
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

    # the text block's margins, over the whole document (a last page of short lines has the same margins);
    # a column's, over the lines of that column. The left margin is where one line in twenty starts, the right
    # one where most lines end (a line that runs over, with wide digits or a kept-together word, does not
    # move it)
    lines = [p for page in pages for k, p in page if k == "line" and not is_noise(p["text"])]
    margins: dict[int | None, tuple[float, float]] = {}
    for column in {p["column"] for p in lines}:
        mine = [p for p in lines if p["column"] == column]
        lefts, rights = Counter(round(p["x0"]) for p in mine), Counter(round(p["x1"]) for p in mine)
        margins[column] = (min((x for x, n in lefts.items() if n * 20 >= len(mine)), default=0.0),
                           float(rights.most_common(1)[0][0]))
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
            left, right = margins.get(line["column"], (0.0, 0.0))
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
