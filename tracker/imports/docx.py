"""Word documents as blocks: paragraphs and tables in document order.

python-docx gives the paragraphs' text but not the numbers Word's automatic numbering shows in front of
them ("第一章", "一、", "1．"), so this reader follows the numbering definitions itself (numbering.xml, the
paragraph's own numPr or its style's) and puts the number back in front of the text. Merged table cells
are expanded: a horizontally merged cell leaves the cells it spans empty, a vertically merged cell
repeats the text above (so a category merged down a column continues).

A legacy .doc or .wps file is converted to .docx with LibreOffice when it is installed.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..attachments.services import check_unpacked_size
from ..errors import DomainError
from ..office import libreoffice, run
from .blocks import Block, Paragraph, Table
from .limits import MAX_XML_ELEMENTS, Budget
from .ooxml import check_package

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _val(element: Any, tag: str) -> str | None:
    child = element.find(f"{W}{tag}") if element is not None else None
    return None if child is None else child.get(f"{W}val")


# ------------------------------------------------------------------------------------------- numbering

_CN = "零一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _chinese(n: int) -> str:
    if n < 10:
        return _CN[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return _CN[hundreds] + "百"
    if rest < 10:
        return _CN[hundreds] + "百零" + _CN[rest]
    return _CN[hundreds] + "百" + ("一" if rest < 20 else "") + _chinese(rest)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += letters
            n -= value
    return out


def _letters(n: int) -> str:
    n = max(n, 1)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """A counter as Word shows it in the given number format."""
    match fmt:
        case "chineseCounting" | "chineseCountingThousand" | "japaneseCounting" | "taiwaneseCounting" | \
                "taiwaneseCountingThousand" | "koreanCounting":
            return _chinese(n)
        case "ideographDigital" | "taiwaneseDigital" | "japaneseDigitalTenThousand":
            return "".join(_CN[int(d)] for d in str(n)).replace("零", "〇")
        case "chineseLegalSimplified":
            return _chinese(n).translate(str.maketrans("一二三四五六七八九十百", "壹贰叁肆伍陆柒捌玖拾佰"))
        case "ideographTraditional":
            return _TIANGAN[(n - 1) % 10]
        case "ideographZodiac":
            return _DIZHI[(n - 1) % 12]
        case "decimalFullWidth" | "decimalFullWidth2":
            return str(n).translate(_FULLWIDTH)
        case "decimalEnclosedCircle" | "decimalEnclosedCircleChinese":
            return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"
        case "decimalEnclosedFullstop":
            return chr(0x2488 + n - 1) if 1 <= n <= 20 else f"{n}."
        case "decimalEnclosedParen":
            return chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})"
        case "decimalZero":
            return f"{n:02d}"
        case "lowerLetter":
            return _letters(n)
        case "upperLetter":
            return _letters(n).upper()
        case "lowerRoman":
            return _roman(n)
        case "upperRoman":
            return _roman(n).upper()
        case "none" | "bullet":
            return ""
        case _:
            return str(n)


LEVELS = 9  # a Word list has levels 0 to 8 (lvlText names them %1 to %9)


class Numbering:
    """Word's list numbering: the number each numbered paragraph shows, counted in document order."""

    def __init__(self, document: Any) -> None:
        # abstractNumId -> ilvl -> (format, text, start, isLgl)
        self.abstract: dict[str, dict[int, tuple[str, str, int, bool]]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstractNumId, start overrides)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(f"{W}abstractNum"):
            levels: dict[int, tuple[str, str, int, bool]] = {}
            for lvl in abstract.findall(f"{W}lvl"):
                ilvl = int(lvl.get(f"{W}ilvl", "0"))
                if not 0 <= ilvl < LEVELS:
                    continue
                start = _val(lvl, "start")
                levels[ilvl] = (_val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "",
                                int(start) if start and start.lstrip("-").isdecimal() else 1,
                                lvl.find(f"{W}isLgl") is not None)
            self.abstract[abstract.get(f"{W}abstractNumId", "")] = levels
        for num in root.findall(f"{W}num"):
            overrides = {}
            for override in num.findall(f"{W}lvlOverride"):
                start = _val(override, "startOverride")
                if start and start.isdecimal():
                    overrides[int(override.get(f"{W}ilvl", "0"))] = int(start)
            self.nums[num.get(f"{W}numId", "")] = (_val(num, "abstractNumId") or "", overrides)

    def label(self, num_id: str, ilvl: int) -> tuple[str, bool] | None:
        """(the number text Word shows, whether it is a bullet) for the next paragraph of this list."""
        if num_id not in self.nums:
            return None
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        if ilvl not in levels:
            return None
        counters = self.counters.setdefault(num_id, {})

        def start(level: int) -> int:
            return overrides.get(level, levels.get(level, ("decimal", "", 1, False))[2])

        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start(ilvl)
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        fmt, text, _start, legal = levels[ilvl]
        if fmt == "bullet":
            return "", True

        def number(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            value = counters.get(level, start(level))
            level_fmt = levels.get(level, ("decimal", "", 1, False))[0]
            return format_number(value, "decimal" if legal and level != ilvl else level_fmt)

        return re.sub(r"%(\d)", number, text), False


# ------------------------------------------------------------------------------------------- styles

T = TypeVar("T")


class _Styles:
    """Heading levels and numbering that paragraphs take from their styles (following basedOn)."""

    def __init__(self, document: Any) -> None:
        self.by_id: dict[str, Any] = {}
        self._levels: dict[str, int | None] = {}
        self._numbering: dict[str, tuple[str, int] | None] = {}
        try:
            root = document.styles.element
        except AttributeError:
            return
        for style in root.findall(f"{W}style"):
            self.by_id[style.get(f"{W}styleId", "")] = style

    def _inherited(self, style_id: str | None, own: Callable[[Any], T | None], known: dict[str, T | None]) -> T | None:
        """The value of the first style along the basedOn chain that has one (each style worked out once:
        a document of many paragraphs, or of a long chain of styles, does not walk the chain again)."""
        path: dict[str, None] = {}  # (in order, and looked up in one step)
        value: T | None = None
        while style_id and style_id in self.by_id and style_id not in path:
            if style_id in known:
                value = known[style_id]
                break
            path[style_id] = None
            style = self.by_id[style_id]
            value = own(style)
            if value is not None:
                break
            style_id = _val(style, "basedOn")
        for walked in path:
            known[walked] = value
        return value

    def heading_level(self, style_id: str | None) -> int | None:
        return self._inherited(style_id, _own_heading_level, self._levels)

    def numbering(self, style_id: str | None) -> tuple[str, int] | None:
        return self._inherited(style_id, _own_numbering, self._numbering)


def _own_heading_level(style: Any) -> int | None:
    name = _val(style, "name") or ""
    if m := _HEADING_STYLE.match(name.strip()):
        return int(m.group(1))
    ppr = style.find(f"{W}pPr")
    outline = _val(ppr, "outlineLvl")
    if outline is not None and outline.isdecimal() and int(outline) < 9:
        return int(outline) + 1
    return None


def _own_numbering(style: Any) -> tuple[str, int] | None:
    num_pr = style.find(f"{W}pPr/{W}numPr")
    if num_pr is not None:
        num_id = _val(num_pr, "numId")
        ilvl = _val(num_pr, "ilvl")
        if num_id:
            return num_id, int(ilvl) if ilvl and ilvl.isdecimal() else 0
    return None


# ------------------------------------------------------------------------------------------- reading


class _Reader:
    """Blocks of a document, each paragraph's text counted once against the budget where it is read (and
    again where it is copied: a cell merged down a column, a table inside a cell)."""

    def __init__(self, document: Any, budget: Budget) -> None:
        self.numbering = Numbering(document)
        self.styles = _Styles(document)
        self.budget = budget

    def paragraph(self, p: Any) -> Paragraph:
        ppr = p.find(f"{W}pPr")
        style_id = _val(ppr, "pStyle")
        text = _paragraph_text(p)
        level = self.styles.heading_level(style_id)
        outline = _val(ppr, "outlineLvl")
        if outline is not None and outline.isdecimal() and int(outline) < 9:
            level = int(outline) + 1
        num = None
        num_pr = ppr.find(f"{W}numPr") if ppr is not None else None
        if num_pr is not None:
            num_id = _val(num_pr, "numId")
            ilvl = _val(num_pr, "ilvl")
            if num_id and num_id != "0":
                num = (num_id, int(ilvl) if ilvl and ilvl.isdecimal() else 0)
            elif num_id == "0":
                num = None
        elif style_id:
            num = self.styles.numbering(style_id)
        bullet = False
        if num is not None and text.strip():
            found = self.numbering.label(*num)
            if found is not None:
                label, bullet = found
                if label:
                    text = label + text
        self.budget.text(len(text))
        self.budget.tick()
        return Paragraph(text, heading=level, bullet=bullet)

    def cell_text(self, tc: Any) -> str:
        lines = []
        for child in tc:
            if child.tag == f"{W}p":
                lines.append(self.paragraph(child).text)
            elif child.tag == f"{W}tbl":
                for row in self.table(child).rows:
                    lines.append(" ".join(c for c in row if c))
                    self.budget.text(len(lines[-1]))
            elif child.tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    lines.append(self.cell_text(content))
                    self.budget.text(len(lines[-1]))
        return "\n".join(line for line in lines if line is not None).strip("\n")

    def table(self, tbl: Any) -> Table:
        rows: list[list[str]] = []
        above: dict[int, str] = {}
        for tr in tbl.findall(f"{W}tr"):
            row: list[str] = []
            column = 0
            for tc in _cells(tr):
                tcpr = tc.find(f"{W}tcPr")
                span = _val(tcpr, "gridSpan")
                span_n = int(span) if span and span.isdecimal() else 1
                vmerge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
                if vmerge is not None and vmerge.get(f"{W}val") not in ("restart",):
                    text = above.get(column, "")
                    self.budget.cell(len(text), span=span_n)
                else:
                    self.budget.cell(span=span_n)
                    text = self.cell_text(tc)
                row.append(text)
                above[column] = text
                for extra in range(1, span_n):
                    row.append("")
                    above[column + extra] = ""
                column += span_n
            rows.append(row)
        return Table(rows)

    def blocks(self, container: Any) -> list[Block]:
        out: list[Block] = []
        for child in container:
            if child.tag == f"{W}p":
                self.budget.paragraph()
                out.append(self.paragraph(child))
                for box in _text_boxes(child):
                    # A text box (often a 专栏) reads like a one-cell table.
                    self.budget.cell()
                    out.append(Table([[self.cell_text(box)]]))
            elif child.tag == f"{W}tbl":
                out.append(self.table(child))
            elif child.tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    out.extend(self.blocks(content))
        return out


def _cells(tr: Any) -> list[Any]:
    cells = []
    for child in tr:
        if child.tag == f"{W}tc":
            cells.append(child)
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                cells.extend(c for c in content if c.tag == f"{W}tc")
    return cells


MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"


def _paragraph_text(p: Any) -> str:
    """The visible text of a paragraph: runs, hyperlinks and fields, tabs and breaks; no deleted text and
    not the text boxes anchored in it (those are read as blocks of their own)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in node:
            tag = child.tag
            if tag in (f"{W}txbxContent", f"{MC}Fallback"):
                continue
            if tag == f"{W}t":
                parts.append(child.text or "")
            elif tag == f"{W}tab":
                parts.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                parts.append("\n")
            elif tag == f"{W}noBreakHyphen":
                parts.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _text_boxes(p: Any) -> list[Any]:
    """The text boxes anchored in a paragraph (each once: not the fallback copy)."""
    boxes: list[Any] = []

    def walk(node: Any) -> None:
        for child in node:
            if child.tag == f"{MC}Fallback":
                continue
            if child.tag == f"{W}txbxContent":
                boxes.append(child)
            else:
                walk(child)

    walk(p)
    return boxes


UNREADABLE = "文件无法作为 Word（.docx）文档读取，可能已损坏或不是 Word 文件。"


def read_docx(data: bytes, budget: Budget | None = None) -> list[Block]:
    import docx  # python-docx

    budget = budget or Budget()
    check_unpacked_size("", data)
    check_package(data, unreadable=UNREADABLE, max_elements=MAX_XML_ELEMENTS, budget=budget)
    try:
        document = docx.Document(io.BytesIO(data))
        return _Reader(document, budget).blocks(document.element.body)
    except DomainError:
        raise
    except Exception as exc:
        # python-docx and lxml fail in many ways on a damaged or crafted file (their own errors, but also
        # AttributeError on an unexpected part): whatever it is, the file cannot be read.
        log.warning("unreadable .docx: %r", exc)
        raise DomainError(UNREADABLE, field="file") from exc


# ------------------------------------------------------------------------------------------- legacy formats

# Well inside the web worker's own timeout (gunicorn --timeout 120), with the extraction's time limit after it.
CONVERT_TIMEOUT = 60


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """A .doc or .wps file converted to .docx by LibreOffice (headless, a private profile, a time limit)."""
    binary = libreoffice()
    if binary is None:
        raise DomainError(f"服务器没有安装 LibreOffice，无法读取 .{suffix} 文件。请用 Word 或 WPS 打开后“另存为”"
                          ".docx 再上传。", field="file")
    with tempfile.TemporaryDirectory(prefix="tracker-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"document.{suffix}"
        source.write_bytes(data)
        profile = (folder / "profile").as_uri()
        try:
            run([binary, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "docx",
                  "--outdir", str(folder / "out"), str(source)], timeout=CONVERT_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise DomainError(f".{suffix} 文件转换超时（超过{CONVERT_TIMEOUT}秒），请另存为 .docx 后上传。",
                              field="file") from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise DomainError(f".{suffix} 文件无法转换，可能已损坏。请另存为 .docx 后上传。", field="file") from exc
        result = folder / "out" / "document.docx"
        if not result.exists():
            raise DomainError(f".{suffix} 文件无法转换，可能已损坏。请另存为 .docx 后上传。", field="file")
        return result.read_bytes()
