"""The selection page's form: the new plan's title, short name and period as fields; the chapters, the
unfinished tasks and the indicators as lists whose rows the page draws (read by :func:`choices_from`)."""

from __future__ import annotations

from typing import Any

from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..errors import DomainError
from ..text import CONTROL_CHARACTERS, clean
from ..web import Form
from .services import ACTIONS, Choices, TaskChoice

YEARS = NumberRange(1990, 2100, "年份须在1990到2100之间。")
BAD_CHOICE = "提交的选择无效，请刷新页面后重新选择。"
_MAX_ID = 2**31 - 1


class SuccessionForm(Form):
    title = StringField("新规划名称", validators=[DataRequired("请填写规划名称。"),
                                              Length(max=200, message="规划名称不能超过200字。")])
    short_name = StringField("简称", validators=[DataRequired("请填写规划简称。"),
                                               Length(max=60, message="简称不能超过60字。")])
    start_year = IntegerField("起始年份", validators=[InputRequired("请填写起始年份。"), YEARS])
    end_year = IntegerField("结束年份", validators=[InputRequired("请填写结束年份。"), YEARS])


def _id(text: str | None) -> int | None:
    """An id from the page ("" is none); anything else is a refused choice, not a 500."""
    if text in (None, ""):
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= _MAX_ID):
        raise DomainError(BAD_CHOICE)
    return int(text)


def _ids(values: list[str]) -> list[int]:
    return [i for i in (_id(v) for v in values) if i is not None]


def choices_from(form: SuccessionForm, formdata: Any) -> Choices:
    """The planner's choices: ``chapter`` and ``indicator`` (ticked ids), and for each listed task ``task-<id>``
    (转入下一期 / 本期关闭; absent: undecided), ``task-<id>-chapter``, ``task-<id>-note``, ``task-<id>-version``."""
    tasks: dict[int, TaskChoice] = {}
    for key in formdata:
        if not (key.startswith("task-") and key.count("-") == 1):
            continue
        task_id = _id(key.removeprefix("task-"))
        action = formdata.get(key) or None
        if task_id is None or (action is not None and action not in ACTIONS):
            raise DomainError(BAD_CHOICE)
        note = clean(formdata.get(f"{key}-note") or "").strip() or None
        if note is not None and CONTROL_CHARACTERS.search(note):
            raise DomainError("关闭说明不能包含控制字符。")
        tasks[task_id] = TaskChoice(action=action, chapter_id=_id(formdata.get(f"{key}-chapter")), note=note,
                                    version=_id(formdata.get(f"{key}-version")))
    return Choices(title=form.title.data or "", short_name=form.short_name.data or "",
                   start_year=form.start_year.data, end_year=form.end_year.data,
                   chapter_ids=_ids(formdata.getlist("chapter")), tasks=tasks,
                   indicator_ids=_ids(formdata.getlist("indicator")))

