"""The administrator's pages for users and departments."""

from __future__ import annotations

from sqlalchemy import select

from tracker.audit import AuditEntry
from tracker.auth.models import Role, User
from tracker.regions.models import Department

from ..conftest import login


def _admin(demo):  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "admin")
    return client


def _dept_id(demo, name: str = "疾控处") -> int:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        return s.scalar(select(Department.id).where(Department.name == name, Department.region_id == 1))


def test_admin_lists_and_filters_users(demo) -> None:  # type: ignore[no-untyped-def]
    client = _admin(demo)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "zj_planner" in html and "wz_planner" in html
    html = client.get("/admin/users?role=supervisor").get_data(as_text=True)
    assert "zj_supervisor" in html and "zj_planner" not in html
    assert "zj_head_jk" in client.get("/admin/users?q=head_jk").get_data(as_text=True)


def test_admin_creates_and_edits_a_user(demo) -> None:  # type: ignore[no-untyped-def]
    client = _admin(demo)
    dept = _dept_id(demo)
    response = client.post("/admin/users/new", data={"username": "jk_new", "name": "新员工", "role": "dept_staff",
                                                     "department_id": dept, "password": "abc12345", "is_active": "y"})
    assert response.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        user = s.scalars(select(User).where(User.username == "jk_new")).one()
    response = client.post(f"/admin/users/{user.id}/edit", data={"name": "新员工", "role": "dept_head",
                                                                 "department_id": dept, "is_active": "y"})
    assert response.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        assert s.get(User, user.id).role == Role.DEPT_HEAD
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id,
                                                   AuditEntry.action == "update")).one()
        assert entry.changes["role"] == ["责任单位填报员", "责任单位负责人"]


def test_user_form_refusals(demo) -> None:  # type: ignore[no-untyped-def]
    client = _admin(demo)
    dept = _dept_id(demo)
    dup = client.post("/admin/users/new", data={"username": "zj_planner", "name": "x", "role": "planner",
                                                "department_id": dept, "password": "abc12345"})
    assert dup.status_code == 422 and "已存在" in dup.get_data(as_text=True)
    nopw = client.post("/admin/users/new", data={"username": "u2", "name": "x", "role": "planner",
                                                 "department_id": dept})
    assert nopw.status_code == 422 and "初始密码" in nopw.get_data(as_text=True)
    bad = client.post("/admin/users/new", data={"username": "bad name!", "name": "x", "role": "planner",
                                                "department_id": 999999, "password": "abc12345"})
    assert bad.status_code == 422
    assert client.get("/admin/users/999999/edit").status_code == 404


def test_admin_departments(demo) -> None:  # type: ignore[no-untyped-def]
    client = _admin(demo)
    assert "疾控处" in client.get("/admin/departments?region=1").get_data(as_text=True)
    response = client.post("/admin/regions/1/departments/new", data={"name": "健康促进处", "kind": "division",
                                                                     "is_active": "y"})
    assert response.status_code == 302
    dup = client.post("/admin/regions/1/departments/new", data={"name": "健康促进处", "kind": "division"})
    assert dup.status_code == 422 and "已有名为" in dup.get_data(as_text=True)
    assert client.get("/admin/regions/999/departments/new").status_code == 404


def test_the_admin_sets_a_supervising_offices_prefix(demo) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.regions.models import Department

    client = _admin(demo)
    with demo.extensions["tracker.sessions"]() as s:
        office = s.scalars(select(Department).where(Department.name == "督查室", Department.region_id == 1)).one()
        office_id, kind = office.id, office.kind.value
    assert 'value="浙卫督"' in client.get(f"/admin/departments/{office_id}/edit").get_data(as_text=True)
    bad = client.post(f"/admin/departments/{office_id}/edit",
                      data={"name": "督查室", "kind": kind, "is_active": "y", "doc_prefix": "浙卫督〔2026〕"})
    assert bad.status_code == 422 and "文号前缀只写机关代字" in bad.get_data(as_text=True)
    taken = client.post(f"/admin/departments/{office_id}/edit",
                        data={"name": "督查室", "kind": kind, "is_active": "y", "doc_prefix": "温卫督"})
    assert taken.status_code == 422 and "已由温州市督查室使用" in taken.get_data(as_text=True)
    ok = client.post(f"/admin/departments/{office_id}/edit",
                     data={"name": "督查室", "kind": kind, "is_active": "y", "doc_prefix": "浙卫督办"})
    assert ok.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        assert s.get(Department, office_id).doc_prefix == "浙卫督办"


def test_non_admins_are_refused(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_planner")
    response = client.get("/admin/users")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    assert demo.test_client().get("/admin/users").status_code == 302
