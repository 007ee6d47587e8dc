"""Formal documents (公文) in the layout of GB/T 9704-2012, and their conversion to PDF: one idea, an official
document. Every formal document the system writes (督办单, 约谈通知书, 情况通报, the evaluation report) is built
here, so the page, fonts, headings, tables, page numbers and 落款 follow one rule.

The layout: A4 portrait, margins 37/35/28/26 mm (top/bottom/left/right), a line pitch of 28.95 pt and a
character grid of 28 characters a line, 22 lines a page; the title in 方正小标宋简体 二号 (22 pt), centred; the
body in 仿宋_GB2312 三号 (16 pt) with a first-line indent of two characters; headings numbered 一、（黑体）,
（一）（楷体_GB2312）, 1.（仿宋_GB2312 bold）, （1）（仿宋_GB2312）; tables numbered 表1, 表2 … with the title above
and the header row repeated on each page; page numbers "— 1 —" in 宋体 四号 at the foot (odd pages right,
even pages left, one character in); the 落款 (issuing body and date) at the end. The fonts are named in the
file; a machine without them substitutes (see the README for the fonts packages that look closest).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from .errors import DomainError, NotFound
from .office import libreoffice, run

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEI_FONT = "黑体"
KAI_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"

TITLE_SIZE = 22  # 二号
BODY_SIZE = 16  # 三号
PAGE_NUMBER_SIZE = 14  # 四号
TABLE_SIZES = {"四号": 14.0, "小四": 12.0, "五号": 10.5, "小五": 9.0}

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, BOTTOM, LEFT, RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
LINE_PITCH = Pt(28.95)  # 22 lines in the 225 mm between the margins
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
CONDENSE_TWIPS = -5  # -0.25 pt a character: 28 × 15.75 pt fit the 442 pt line

# Word validates the order of property elements: where w:spacing goes in a run's, w:snapToGrid in a paragraph's.
RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                     "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                     "w:specVanish", "w:oMath")
PPR_AFTER_SNAP = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                  "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                  "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")

CHINESE_NUMERALS = "〇一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 23 → 二十三 (heading numbers go no further)."""
    if n < 10:
        return CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (CHINESE_NUMERALS[tens] if tens > 1 else "") + "十" + (CHINESE_NUMERALS[ones] if ones else "")


def document_date(day: date) -> str:
    """2026年12月6日: the date of a 落款, in Arabic numerals without leading zeros (GB/T 9704 7.3.5.1)."""
    return f"{day.year}年{day.month}月{day.day}日"


# A sentence ends once: "予以调整。。" or "；。" reads as a slip. Doubled stops collapse, and a stop after a
# pause mark keeps only the stop.
_DOUBLED = re.compile(r"([。；，、：！？])\1+")
_PAUSE_THEN_STOP = re.compile(r"[，、；：]+([。！？])")
_STOP_THEN_PAUSE = re.compile(r"([。！？])[，、；]+")


def tidy(text: str) -> str:
    """Text with its punctuation checked: no doubled marks, no pause mark before or after a full stop."""
    text = _DOUBLED.sub(r"\1", text)
    text = _PAUSE_THEN_STOP.sub(r"\1", text)
    return _STOP_THEN_PAUSE.sub(r"\1", text)


def sentence(text: str) -> str:
    """``text`` ending in exactly one full stop (a clause that already ends in ？ or ！ keeps it)."""
    text = text.rstrip().rstrip("，、；：。")
    return text if not text or text.endswith(("？", "！")) else text + "。"


def text_width(text: str) -> float:
    """The width of ``text`` in characters of the body font: ASCII letters and digits are half wide."""
    return sum(0.5 if ord(ch) < 0x2E80 and ch != "—" else 1.0 for ch in text)


def set_fonts(target: Any, east_asia: str, size: float | None = None, *, bold: bool | None = None) -> None:
    """Name the fonts of a run or a style in its XML: the East Asian slot (w:eastAsia) for Chinese text, which
    python-docx's ``font.name`` alone leaves unset, and Times New Roman for Latin letters and digits."""
    font = target.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(slot), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _no_grid_snap(paragraph: Any) -> None:
    """Let a paragraph (a table cell's, the footer's) keep its own line height instead of the page's grid."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(snap, *PPR_AFTER_SNAP)


def _mark_size(paragraph: Any, size: float) -> None:
    """The size of a paragraph's mark, which sets an empty paragraph's height (an empty table cell would
    otherwise be as tall as a line of the 16 pt body)."""
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(round(size * 2)))
    rpr.append(sz)
    paragraph._p.get_or_add_pPr().insert_element_before(rpr, "w:sectPr", "w:pPrChange")


def _set_grid(section: Any) -> None:
    """The line grid: lines 28.95 pt apart, 22 a page (Word and LibreOffice read w:docGrid). The character
    grid is left off: 28 characters of 16 pt (448 pt) do not fit the 156 mm (442 pt) text block, and
    LibreOffice gives each character two cells of a grid narrower than the font, halving the line. The body
    is condensed by 0.25 pt a character instead (the Normal style), which puts 28 on a line in both."""
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))
    if grid.get(qn("w:charSpace")) is not None:
        del grid.attrib[qn("w:charSpace")]


def _field(paragraph: Any, instruction: str, font: str, size: float) -> None:
    """A field (PAGE) as Word writes it: begin, the instruction, separate, a placeholder result, end."""
    def run_with(child: Any) -> None:
        run = paragraph.add_run()
        set_fonts(run, font, size)
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    result = paragraph.add_run("1")
    set_fonts(result, font, size)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _page_number(footer: Any, odd: bool) -> None:
    """"— 1 —" in 宋体 四号: odd pages at the right, even pages at the left, one character in."""
    paragraph = footer.paragraphs[0]
    paragraph.text = ""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(0)
    fmt.line_spacing = 1.0
    if odd:
        fmt.right_indent = Pt(PAGE_NUMBER_SIZE)
    else:
        fmt.left_indent = Pt(PAGE_NUMBER_SIZE)
    _no_grid_snap(paragraph)
    set_fonts(paragraph.add_run("— "), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    _field(paragraph, "PAGE", PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    set_fonts(paragraph.add_run(" —"), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)


# Heading levels: how each is numbered, and its font (GB/T 9704 7.3.3).
HEADING_LEVELS = {
    1: (lambda n: f"{chinese_number(n)}、", HEI_FONT, False),
    2: (lambda n: f"（{chinese_number(n)}）", KAI_FONT, False),
    3: (lambda n: f"{n}.", BODY_FONT, True),
    4: (lambda n: f"（{n}）", BODY_FONT, False),
}


class OfficialDocument:
    """A formal document being written: title, paragraphs, numbered headings and tables, 落款; ``save()``
    gives the .docx bytes."""

    def __init__(self, title: str, *, subtitle: str | None = None) -> None:
        self.doc = Document()
        self.tables = 0
        self._numbers = [0, 0, 0, 0]
        self._setup()
        self._title(title)
        if subtitle:  # one centred line each (the 文号, a period, a status)
            for line in subtitle.split("\n"):
                p = self.paragraph(line, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
            p.paragraph_format.space_after = LINE_PITCH
        else:
            self.paragraph("", indent=False)  # one blank line between the title and the body

    # ---------------------------------------------------------------------------------------- the page

    def _setup(self) -> None:
        doc = self.doc
        normal = doc.styles["Normal"]
        set_fonts(normal, BODY_FONT, BODY_SIZE)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE_PITCH
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = False  # the grid decides the lines; a widow rule would leave pages a line short
        spacing = OxmlElement("w:spacing")  # condensed: 28 characters a line (see _set_grid)
        spacing.set(qn("w:val"), str(CONDENSE_TWIPS))
        normal.element.get_or_add_rPr().insert_element_before(spacing, *RPR_AFTER_SPACING)
        doc.settings.odd_and_even_pages_header_footer = True
        section = doc.sections[0]
        self._portrait(section)
        _page_number(section.footer, odd=True)
        _page_number(section.even_page_footer, odd=False)

    @staticmethod
    def _portrait(section: Any) -> None:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.top_margin, section.bottom_margin = TOP, BOTTOM
        section.left_margin, section.right_margin = LEFT, RIGHT
        section.footer_distance = Mm(23)  # the page number's top 7 mm below the text block (35 − 7 − its 5 mm)
        _set_grid(section)

    @staticmethod
    def _landscape(section: Any) -> None:
        """The A4 sheet turned: the portrait margins turn with it (the binding edge stays the long one)."""
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = PAGE_HEIGHT, PAGE_WIDTH
        section.top_margin, section.bottom_margin = LEFT, RIGHT
        section.left_margin, section.right_margin = TOP, BOTTOM
        section.footer_distance = Mm(14)
        _set_grid(section)

    # ---------------------------------------------------------------------------------------- text

    def _title(self, title: str) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt = p.paragraph_format
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing = Pt(TITLE_SIZE * 1.6)  # a title line is taller than the grid's
        fmt.keep_with_next = True
        set_fonts(p.add_run(tidy(title)), TITLE_FONT, TITLE_SIZE)

    def paragraph(self, text: str, *, indent: bool = True, align: Any = None, font: str = BODY_FONT,
                  bold: bool = False, size: float = BODY_SIZE) -> Any:
        """A body paragraph, indented two characters; its punctuation is checked."""
        p = self.doc.add_paragraph()
        if align is not None:
            p.alignment = align
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Pt(size * 2) if indent else Pt(0)
        if text:
            set_fonts(p.add_run(tidy(text)), font, size, bold=bold)
        return p

    def heading(self, text: str, level: int = 1, *, number: bool = True) -> Any:
        """一、总体情况 (黑体) / （一）… (楷体) / 1.… (仿宋 bold) / （1）… (仿宋), numbered in order: a heading
        restarts the numbering of the levels below it."""
        numbering, font, bold = HEADING_LEVELS[level]
        label = ""
        if number:
            self._numbers[level - 1] += 1
            for lower in range(level, len(self._numbers)):
                self._numbers[lower] = 0
            label = numbering(self._numbers[level - 1])
        p = self.paragraph(label + text, font=font, bold=bold, align=WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.keep_with_next = True
        return p

    def items(self, texts: Sequence[str], level: int = 2) -> None:
        """Numbered points under a heading: （一）… as body paragraphs whose number and first sentence (the
        point itself) take the level's font, the rest the body font."""
        numbering, font, bold = HEADING_LEVELS[level]
        for n, text in enumerate(texts, 1):
            text = sentence(tidy(text))
            lead, stop, rest = text.partition("。")
            if not rest:
                lead, stop, rest = "", "", text
            p = self.paragraph("")
            set_fonts(p.add_run(numbering(n) + lead + stop), font, BODY_SIZE, bold=bold)
            if rest:
                set_fonts(p.add_run(rest), BODY_FONT, BODY_SIZE)

    def signature(self, issuer: str, day: date) -> None:
        """The 落款: the issuing body's full name centred over the date, the date four characters in from the
        right margin, after a blank line (GB/T 9704 7.3.5.2, no seal)."""
        when = document_date(day)
        self.paragraph("", indent=False)
        date_indent = 4.0
        issuer_indent = max(0.0, date_indent + (text_width(when) - text_width(issuer)) / 2)
        for text, chars in ((issuer, issuer_indent), (when, date_indent)):
            p = self.paragraph(text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = Pt(BODY_SIZE * chars)
            p.paragraph_format.keep_with_next = text == issuer

    # ---------------------------------------------------------------------------------------- tables

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], *,
              right: frozenset[int] = frozenset(), centre: frozenset[int] = frozenset(), size: str = "五号",
              landscape: bool = False, note: str | None = None) -> Any:
        """表N and its title above a grid table (column ``widths`` in mm; columns in ``right`` hold figures and
        align right); the header row repeats on each page. ``landscape`` puts a wide table on turned pages
        of its own section."""
        if landscape:
            self._landscape(self.doc.add_section(WD_SECTION.NEW_PAGE))
        self.tables += 1
        caption = self.paragraph(f"表{self.tables}　{title}", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER,
                                 font=HEI_FONT, size=TABLE_SIZES["四号"])
        caption.paragraph_format.keep_with_next = True
        table = self.grid(headers, rows, widths, right=right, centre=centre, size=TABLE_SIZES[size])
        if note:
            self.paragraph(note, indent=False, size=TABLE_SIZES[size])
        if landscape:
            self._portrait(self.doc.add_section(WD_SECTION.NEW_PAGE))
        else:
            self.paragraph("", indent=False, size=TABLE_SIZES[size])  # air between the table and the text
        return table

    def grid(self, headers: Sequence[str] | None, rows: Sequence[Sequence[Any]], widths: Sequence[float], *,
             right: frozenset[int] = frozenset(), centre: frozenset[int] = frozenset(),
             size: float = TABLE_SIZES["五号"], label_columns: frozenset[int] = frozenset()) -> Any:
        """A bordered table without a number (a form's fields, say); ``headers`` None for none. Columns in
        ``right`` align right (figures), in ``centre`` centred, in ``label_columns`` are set in 黑体."""
        ncols = len(widths)
        table = self.doc.add_table(rows=0, cols=ncols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        if headers is not None:
            cells = table.add_row().cells
            for i, text in enumerate(headers):
                self._cell(cells[i], text, HEI_FONT, size, align=WD_ALIGN_PARAGRAPH.CENTER)
            tr_pr = table.rows[0]._tr.get_or_add_trPr()
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "true")
            tr_pr.append(header)
        for values in rows:
            cells = table.add_row().cells
            for i, value in enumerate(values):
                align = (WD_ALIGN_PARAGRAPH.RIGHT if i in right
                         else WD_ALIGN_PARAGRAPH.CENTER if i in centre else None)
                font = HEI_FONT if i in label_columns else BODY_FONT
                self._cell(cells[i], "" if value is None else str(value), font, size, align=align)
            tr_pr = table.rows[-1]._tr.get_or_add_trPr()
            cant_split = OxmlElement("w:cantSplit")
            tr_pr.insert(0, cant_split)
        for i, width in enumerate(widths):
            table.columns[i].width = Mm(width)  # the grid LibreOffice lays out by
            for cell in table.columns[i].cells:
                cell.width = Mm(width)
        return table

    @staticmethod
    def _cell(cell: Any, text: str, font: str, size: float, *, align: Any = None) -> None:
        paragraph = cell.paragraphs[0]
        lines = tidy(text).split("\n")
        for n, line in enumerate(lines):
            p = paragraph if n == 0 else cell.add_paragraph()
            fmt = p.paragraph_format
            fmt.first_line_indent = Pt(0)
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
            if align is not None:
                p.alignment = align
            _no_grid_snap(p)
            _mark_size(p, size)
            if line:
                set_fonts(p.add_run(line), font, size)

    # ---------------------------------------------------------------------------------------- the file

    def save(self) -> bytes:
        buffer = BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


# ------------------------------------------------------------------------------------------- PDF

# Well inside the web worker's own timeout (gunicorn --timeout 120).
PDF_TIMEOUT = 60
PDF_MIMETYPE = "application/pdf"
NO_LIBREOFFICE = "服务器没有安装 LibreOffice，无法生成 PDF。请下载 Word 版（.docx）后自行打印或另存为 PDF。"


class PdfUnavailable(NotFound):
    """The server cannot make PDFs (LibreOffice is not installed): the .pdf routes answer 404."""


class PdfFailed(DomainError):
    status_code = 503


def pdf_available() -> bool:
    """Whether this server can make PDFs (the pages show the PDF links only then)."""
    return libreoffice() is not None


def docx_to_pdf(data: bytes, *, timeout: float = PDF_TIMEOUT) -> bytes:
    """A .docx converted to PDF by LibreOffice headless: a private user profile per call (two workers
    converting at once would otherwise fight over one profile and one of them exit at once), a time limit
    after which soffice and its soffice.bin child are killed, and a clear error when LibreOffice is absent."""
    binary = libreoffice()
    if binary is None:
        raise PdfUnavailable(NO_LIBREOFFICE)
    with tempfile.TemporaryDirectory(prefix="tracker-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "document.docx"
        source.write_bytes(data)
        profile = (folder / "profile").as_uri()  # file:///tmp/tracker-pdf-…/profile
        try:
            run([binary, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
                  "--convert-to", "pdf", "--outdir", str(folder / "out"), str(source)], timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PdfFailed(f"生成 PDF 超时（超过{timeout:g}秒），请稍后重试或下载 Word 版。") from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise PdfFailed("生成 PDF 失败，请稍后重试或下载 Word 版。") from exc
        result = folder / "out" / "document.pdf"
        if not result.exists():
            raise PdfFailed("生成 PDF 失败，请稍后重试或下载 Word 版。")
        return result.read_bytes()
