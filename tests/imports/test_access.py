"""Who may import, cascade and see coverage; uploads refused with a clear message."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.attachments.services import MAX_FILE_BYTES
from tracker.imports.models import ImportDocument

from .conftest import client_for, plan_by_code, seed
from .docgen import build_docx
from .test_documents import document_id, upload


@pytest.mark.parametrize(("name", "data", "message"), [
    ("plan.xls", b"\xd0\xcf\x11\xe0 ...", "不支持的文件类型“.xls”"),
    ("plan.pdf", b"%PDF-1.4 ...", "PDF 文件已损坏"),
    ("plan.pdf", b"PK\x03\x04 a zip is not a pdf", "内容与扩展名不符"),
    ("plan", b"text", "不支持的文件类型“.（无扩展名）”"),
    ("plan.docx", b"", "是空的"),
    ("plan.docx", b"%PDF-1.4 pretending", "内容与扩展名不符"),
    ("plan.docx", b"PK\x03\x04" + b"\x00" * 40, "已损坏"),
    ("plan.txt", b"\x00\x01\x02binary\xff\xfe\x00", "二进制"),
    ("plan.doc", b"PK\x03\x04 a zip is not a .doc", "内容与扩展名不符"),
    ("plan.txt", b"x" * (MAX_FILE_BYTES + 1), "超过 10 MB"),
])
def test_bad_uploads_are_refused_with_a_clear_message(demo: Flask, db: Session, name: str, data: bytes,
                                                     message: str) -> None:
    planner = client_for(demo, "zj_planner")
    response = upload(planner, name, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="field-error"' in html  # next to the file field
    assert db.scalar(select(func.count()).select_from(ImportDocument)) == 0


def test_a_renamed_spreadsheet_is_not_a_word_document(demo: Flask) -> None:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    response = upload(client_for(demo, "zj_planner"), "plan.docx", out.getvalue())
    assert response.status_code == 422
    assert "不是 Word 文档" in response.get_data(as_text=True)


def test_gbk_text_is_read(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    response = upload(planner, "乐清.txt", seed("001").read_text(encoding="utf-8").encode("gb18030"))
    assert response.status_code == 302
    db.rollback()
    draft = db.scalars(select(ImportDocument)).one().draft
    assert len(draft["indicators"]) == 8


def test_an_empty_draft_says_why(demo: Flask) -> None:
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "纪要.txt", "会议纪要\n大家讨论了很多事情。\n".encode()))
    html = planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert "没有识别出章节、任务、专栏或指标表" in html


@pytest.mark.parametrize("username", ["zj_head_jk", "zj_staff_jk", "zj_supervisor", "zj_evaluator", "zj_leader",
                                      "admin"])
def test_only_planners_import(demo: Flask, username: str) -> None:
    client = client_for(demo, username)
    for response in (client.get("/imports"), upload(client, "plan.txt", b"x")):
        assert response.status_code == 403
        assert "只有规划处可以导入规划文档" in response.get_data(as_text=True)


def test_a_draft_belongs_to_its_region(demo: Flask, provincial_text: str) -> None:
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "plan.docx", build_docx(provincial_text)))
    outsider = client_for(demo, "wz_planner")
    for response in (outsider.get(f"/imports/{doc_id}"), outsider.get(f"/imports/{doc_id}/confirm"),
                     outsider.post(f"/imports/{doc_id}/discard", data={"rev": 0})):
        assert response.status_code == 403
        assert "只有本地区的规划处可以处理该导入" in response.get_data(as_text=True)
    assert planner.get("/imports/999999").status_code == 404
    assert planner.get(f"/imports/{doc_id}/items/nonsense").status_code == 404
    assert planner.get(f"/imports/{doc_id}/items/t999999").status_code == 404


def test_task_list_and_coverage_and_cascade_permissions(demo: Flask, db: Session) -> None:
    province = plan_by_code(db, "zj-14").id
    city = plan_by_code(db, "wz-14").id
    checks = [
        # (user, url, expected status)
        ("zj_head_jk", f"/plans/{province}/tasklist.xlsx", 200),
        ("zj_head_jk", f"/plans/{province}/tasklist/import", 403),
        ("wz_planner", f"/plans/{province}/tasklist/import", 403),
        ("zj_planner", f"/plans/{province}/tasklist/import", 200),
        ("hz_planner", f"/plans/{city}/tasklist.xlsx", 403),
        ("zj_planner", f"/plans/{province}/coverage", 200),
        ("zj_leader", f"/plans/{province}/coverage", 200),
        ("zj_head_jk", f"/plans/{province}/coverage", 403),
        ("wz_planner", f"/plans/{province}/coverage", 403),
        ("wz_planner", f"/plans/{city}/coverage", 200),
        ("zj_planner", f"/plans/{province}/cascade", 403),
        ("wz_planner", f"/plans/{province}/cascade", 200),
        ("wz_leader", f"/plans/{province}/cascade", 403),
        ("yq_planner", f"/plans/{city}/cascade", 200),
        ("hz_planner", f"/plans/{city}/cascade", 403),
    ]
    failures = []
    for username, url, expected in checks:
        response = client_for(demo, username).get(url)
        if response.status_code != expected:
            failures.append(f"{username} {url}: {response.status_code} ≠ {expected}")
        if response.status_code == 403 and "无权访问" not in response.get_data(as_text=True):
            failures.append(f"{username} {url}: 403 without the Chinese error page")
    assert failures == []


def test_the_plan_pages_link_to_the_import_pages(demo: Flask, db: Session) -> None:
    province = plan_by_code(db, "zj-14").id
    planner = client_for(demo, "zj_planner")
    assert "导入规划文档" in planner.get("/plans").get_data(as_text=True)
    page = planner.get(f"/plans/{province}").get_data(as_text=True)
    assert "导出任务分解表" in page and "导入任务分解表" in page and "覆盖情况" in page
    assert "新增章" in page  # the planning buttons are still there
    head = client_for(demo, "zj_head_jk")
    assert "导入规划文档" not in head.get("/plans").get_data(as_text=True)
    page = head.get(f"/plans/{province}").get_data(as_text=True)
    assert "导出任务分解表" in page and "导入任务分解表" not in page and "覆盖情况" not in page
    city = client_for(demo, "wz_planner").get(f"/plans/{province}").get_data(as_text=True)
    assert "分解为本级规划" in city


def test_anonymous_users_go_to_the_login_page(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/imports", "/imports/1", "/plans/1/tasklist.xlsx", "/plans/1/coverage", "/plans/1/cascade"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
