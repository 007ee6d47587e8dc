"""The supervision documents — 督办单, 约谈通知书, 情况通报 — as Word files in the official layout
(``tracker.documents``)."""

from __future__ import annotations

from datetime import date

from docx.enum.text import WD_ALIGN_PARAGRAPH

from ..documents import TABLE_SIZES, OfficialDocument, document_date, sentence
from ..timeutil import format_date, to_local, today
from .models import CaseAction, CaseState, CaseStep, SupervisionCase

LABEL_WIDTH, VALUE_WIDTH = 32, 124  # mm: the 156 mm between the margins


def matter(case: SupervisionCase) -> str:
    """What the case is about: the task under the plan's full title, or the case's own title."""
    task = case.task
    return f"《{task.plan.title}》{task.code} {task.title}" if task else case.title


def _matter_in_text(case: SupervisionCase) -> str:
    """The same, as a sentence names it: 《…规划》1“强化…”任务, or “the case's title”."""
    task = case.task
    return f"《{task.plan.title}》{task.code}“{task.title}”任务" if task else f"“{case.title}”"


def notice_fields(case: SupervisionCase) -> list[tuple[str, str]]:
    return [
        ("督办单编号", case.number_label),
        ("责任单位", case.department.full_name),
        ("督办事项", matter(case)),
        ("督办来源", case.source.label),
        ("发现的问题", case.problem),
        ("领导批示", case.instruction or ""),
        ("整改要求", case.requirements or ""),
        ("答复期限", format_date(case.response_deadline)),
        ("签发人", case.issued_by.name if case.issued_by else ""),
        ("签发日期", format_date(to_local(case.issued_at).date()) if case.issued_at else ""),
    ]


def _issued_on(case: SupervisionCase) -> date:
    return to_local(case.issued_at).date() if case.issued_at else today()


def notice_docx(case: SupervisionCase, issuer_body: str) -> bytes:
    """督办单: the 文号 under the title, the case's fields as a form, what is asked, the 落款."""
    doc = OfficialDocument("督 办 单", subtitle=case.number_label)
    doc.grid(None, [(label, value) for label, value in notice_fields(case) if value], [LABEL_WIDTH, VALUE_WIDTH],
             size=TABLE_SIZES["四号"], label_columns=frozenset({0}))
    doc.paragraph("", indent=False)
    doc.paragraph(f"请{case.department.full_name}于答复期限前，在规划执行督查系统中签收本督办单，报送整改方案和"
                  "整改情况；逾期未答复的，将按规定予以约谈或通报。")
    doc.signature(issuer_body, _issued_on(case))
    return doc.save()


def _paragraphs(doc: OfficialDocument, text: str) -> None:
    for line in text.splitlines():
        if line.strip():
            doc.paragraph(sentence(line.strip()))


def _history(case: SupervisionCase) -> str:
    issued = f"{document_date(_issued_on(case))}以{case.number_label}督办单督办" if case.issued_at else "已立案督办"
    deadline = f"，要求于{document_date(case.response_deadline)}前答复" if case.response_deadline else ""
    return f"你单位承办的{_matter_in_text(case)}，因{sentence(case.problem).rstrip('。')}，{issued}{deadline}。"


def interview_notice_docx(case: SupervisionCase, text: str, day: date | None = None) -> bytes:
    """约谈通知书: to the responsible unit, why it is interviewed (the case so far), the step's text (time,
    place, who attends), the 落款 of the supervising office."""
    doc = OfficialDocument("约谈通知书", subtitle=case.number_label if case.number_seq else None)
    doc.paragraph(f"{case.department.full_name}：", indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    doc.paragraph(_history(case) + "经督促，整改仍未到位。根据督查工作有关规定，决定对你单位进行约谈。")
    _paragraphs(doc, text)
    doc.paragraph("请你单位主要负责人按时参加，并就整改进展、存在问题和下一步措施作书面汇报。")
    doc.signature(case.issuing_body, day or today())
    return doc.save()


def circular_docx(case: SupervisionCase, text: str, day: date | None = None,
                  addressee: str = "各有关单位", state: CaseState | None = None) -> bytes:
    """情况通报: the case and how it stands, the step's text (what is circulated and required), the 落款."""
    doc = OfficialDocument(f"关于{case.department.full_name}督办事项整改情况的通报")
    doc.paragraph(f"{addressee}：", indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    doc.paragraph(_history(case).replace("你单位", case.department.full_name, 1)
                  + f"截至目前，该督办件状态为“{(state or case.state).label}”。现将有关情况通报如下。")
    _paragraphs(doc, text)
    doc.paragraph("各单位要引以为戒，对照督办要求抓好整改落实，确保规划任务按期完成。")
    doc.signature(case.issuing_body, day or today())
    return doc.save()


# The escalation steps that issue a document of their own, and its name.
STEP_DOCUMENTS = {CaseAction.INTERVIEW: "约谈通知书", CaseAction.CIRCULATE: "情况通报"}


def step_docx(case: SupervisionCase, step: CaseStep) -> bytes:
    """The document of a 约谈 or 通报 step, as it stood that day: its date, its text, the case's state then."""
    day = to_local(step.created_at).date()
    if step.action == CaseAction.INTERVIEW:
        return interview_notice_docx(case, step.comment or "", day)
    return circular_docx(case, step.comment or "", day, state=step.from_state)


def step_filename(case: SupervisionCase, step: CaseStep, suffix: str) -> str:
    number = f"{case.number_year}-{case.number_seq}" if case.number_seq else f"{case.id}"
    return f"{STEP_DOCUMENTS[step.action]}{number}-{step.id}.{suffix}"
