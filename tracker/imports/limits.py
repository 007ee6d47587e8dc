"""How much work one plan document may ask of a web worker.

Reading and extracting are linear in the document's size, and the size is capped: paragraphs, table cells,
characters (a cell merged down a table or a number Word repeats in front of each paragraph count every
time they are read) and the entries of the draft (chapters, tasks, 专栏, indicators, table rows, candidate
targets). A clock bounds the rest: the readers and the extractor check a deadline in their loops. Whatever
limit is reached, the document is refused with a ``DomainError`` on the upload field and nothing is kept.

The caps stand well above the largest real plan of ../shared/seeds, the provincial 14th five-year plan
(114 paragraphs, 224 table cells, 23,166 characters, 131 draft entries of which 66 in the task tree): 44,
89, 43 and 38 times. A generated plan nested five levels deep (tests/bench/import_extract.py) reaches the
paragraph cap within the others, in about a tenth of a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import DomainError

# the caps
MAX_PARAGRAPHS = 5_000
MAX_CELLS = 20_000
MAX_CHARS = 1_000_000
MAX_ITEMS = 5_000
# The XML elements of a Word file, counted before python-docx builds its tree of them: a small file of many
# empty elements would otherwise take gigabytes (the provincial plan as a .docx has some 21,000, most of
# them in its styles).
MAX_XML_ELEMENTS = 1_000_000

# the time limit: seconds a document may take to read; the app config key TIME_LIMIT_CONFIG overrides it
# (0 refuses at the first check)
TIME_LIMIT_SECONDS = 20.0
TIME_LIMIT_CONFIG = "IMPORT_TIME_LIMIT"

# bounds of the extractor's own: a table's header is its first row and at most MAX_HEADER_ROWS lines that
# continue it (规划目标 / 完成情况 under 2020年); a text copied into more than one entry of the draft (a
# goal-list line, the note that explains a mark) is quoted up to MAX_QUOTE_CHARS
MAX_HEADER_ROWS = 3
MAX_QUOTE_CHARS = 500

FIELD = "file"
SPLIT = "请拆分后上传。"


class Budget:
    """The work one document may still take: counts against the caps and a deadline on a monotonic clock.

    ``None`` for a cap (or for ``seconds``) means no limit; ``clock`` is injectable so that a test sees the
    time limit reached without waiting for it.
    """

    def __init__(self, seconds: float | None = TIME_LIMIT_SECONDS, *, paragraphs: int | None = MAX_PARAGRAPHS,
                 cells: int | None = MAX_CELLS, chars: int | None = MAX_CHARS, items: int | None = MAX_ITEMS,
                 clock: Callable[[], float] = time.monotonic, field: str = FIELD) -> None:
        self.seconds = seconds
        self.max_paragraphs, self.max_cells, self.max_chars, self.max_items = paragraphs, cells, chars, items
        self.paragraphs = self.cells = self.chars = self.items = 0
        self.clock = clock
        self.field = field
        self.start()

    def start(self) -> None:
        """(Re)start the clock: a legacy file's conversion by LibreOffice has its own time limit."""
        self.deadline = None if self.seconds is None else self.clock() + self.seconds

    @classmethod
    def unlimited(cls) -> Budget:
        """No caps and no deadline (benchmarks and the tests of the algorithms' own scaling)."""
        return cls(None, paragraphs=None, cells=None, chars=None, items=None)

    def _refuse(self, message: str) -> DomainError:
        return DomainError(message, field=self.field)

    def tick(self) -> None:
        """One step of a loop: refuse once the deadline has passed."""
        if self.deadline is not None and self.clock() >= self.deadline:
            raise self._refuse(f"文档过于复杂，解析超过{self.seconds:g}秒，已停止。请删除不必要的内容或拆分后重新上传。")

    def text(self, n: int) -> None:
        self.chars += n
        if self.max_chars is not None and self.chars > self.max_chars:
            raise self._refuse(f"文档文字过多（超过{self.max_chars}字），无法导入。{SPLIT}")

    def paragraph(self, chars: int = 0) -> None:
        """A paragraph of the document's body (``chars``: its length, where not counted already)."""
        self.paragraphs += 1
        if self.max_paragraphs is not None and self.paragraphs > self.max_paragraphs:
            raise self._refuse(f"文档段落过多（超过{self.max_paragraphs}段），无法导入。{SPLIT}")
        self.text(chars)
        self.tick()

    def cell(self, chars: int = 0, span: int = 1) -> None:
        """A table cell (``span``: how many grid cells a merged cell takes)."""
        self.cells += max(span, 1)
        if self.max_cells is not None and self.cells > self.max_cells:
            raise self._refuse(f"文档中的表格单元格过多（超过{self.max_cells}个），无法导入。{SPLIT}")
        self.text(chars)
        self.tick()

    def item(self) -> None:
        """One entry of the draft."""
        self.items += 1
        if self.max_items is not None and self.items > self.max_items:
            raise self._refuse(f"文档识别出的条目（章节、任务、专栏、指标等）过多（超过{self.max_items}条），无法导入。{SPLIT}")
        self.tick()
