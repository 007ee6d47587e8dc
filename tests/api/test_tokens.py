"""Personal access tokens: made on the page and shown once, stored as a hash, revoked, expiring, read-only, counted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from tracker import timeutil
from tracker.api.models import ApiToken, TokenScope
from tracker.audit import AuditEntry

from ..conftest import client_for


def _create(client, name="数据同步", scope="read", days="90"):  # type: ignore[no-untyped-def]
    return client.post("/account/tokens", data={"name": name, "scope": scope, "days": days})


def test_a_token_is_shown_once_and_stored_as_its_hash(demo, db) -> None:  # type: ignore[no-untyped-def]
    client = client_for(demo, "zj_head_jk")
    response = _create(client)
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    token = re.search(r'value="(trk_[A-Za-z0-9_-]{43})"', html).group(1)  # type: ignore[union-attr]
    assert "只显示一次" in html or "无法再次查看" in html
    record = db.scalars(select(ApiToken)).one()
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (record.hint + record.name)
    assert record.scope == TokenScope.READ and record.user.username == "zj_head_jk"
    assert record.expires_at - record.created_at == timedelta(days=90)
    # the list shows its beginning, never the token again
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert token not in listing and record.hint in listing
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "api_tokens")).one()
    assert entry.action == "create" and entry.actor_id == record.user_id
    # the token works, and its use is recorded
    me = demo.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "zj_head_jk"
    assert me.get_json()["token"]["scope"] == "read"
    db.rollback()  # a new snapshot
    assert db.get(ApiToken, record.id).last_used_at == timeutil.now()


def test_the_form_refuses_a_missing_name_and_a_lifetime_over_a_year(demo, db) -> None:  # type: ignore[no-untyped-def]
    client = client_for(demo, "zj_head_jk")
    assert _create(client, name=" ").status_code == 422
    assert _create(client, days="366").status_code == 422
    assert _create(client, scope="admin").status_code == 422
    assert db.scalars(select(ApiToken)).all() == []


def test_revoked_expired_and_unknown_tokens_are_401(demo, db, make_token) -> None:  # type: ignore[no-untyped-def]
    token = make_token("zj_head_jk", days=7)
    api = demo.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=auth).status_code == 200
    for headers in ({}, {"Authorization": "Bearer trk_unknown"}, {"Authorization": f"Basic {token}"}):
        response = api.get("/api/v1/me", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    with timeutil.frozen(timeutil.now() + timedelta(days=7, seconds=1)):
        response = api.get("/api/v1/me", headers=auth)
        assert response.status_code == 401 and "过期" in response.get_json(force=True)["detail"]
    record = db.scalars(select(ApiToken)).one()
    client = client_for(demo, "zj_head_jk")
    assert client.post(f"/account/tokens/{record.id}/revoke").status_code == 302
    response = api.get("/api/v1/me", headers=auth)
    assert response.status_code == 401 and "吊销" in response.get_json(force=True)["detail"]
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)


def test_another_users_token_cannot_be_revoked(demo, db, make_token) -> None:  # type: ignore[no-untyped-def]
    token = make_token("zj_head_jk")
    record = db.scalars(select(ApiToken)).one()
    other = client_for(demo, "zj_head_yz")
    assert other.post(f"/account/tokens/{record.id}/revoke").status_code == 404
    assert demo.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_read_only_token_may_not_write(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("zj_head_jk", TokenScope.READ)
    version = api.get(f"/tasks/{world['task']}").headers["ETag"]
    response = api("PATCH", f"/tasks/{world['task']}", json={"progress": 70}, headers={"If-Match": version})
    assert response.status_code == 403 and "只读" in response.get_json(force=True)["detail"]
    assert api("POST", f"/notifications/{world['notification']}/read").status_code == 403
    assert api.get(f"/tasks/{world['task']}").headers["ETag"] == version


def test_a_token_is_limited_per_minute(demo, make_token) -> None:  # type: ignore[no-untyped-def]
    demo.config["API_RATE_LIMIT"] = 3
    auth = {"Authorization": f"Bearer {make_token('zj_head_jk')}"}
    api = demo.test_client()
    assert [api.get("/api/v1/me", headers=auth).status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/me", headers=auth)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = {"Authorization": f"Bearer {make_token('zj_head_jk')}"}
    assert api.get("/api/v1/me", headers=other).status_code == 200  # per token
    with timeutil.frozen(timeutil.now() + timedelta(seconds=61)):
        assert api.get("/api/v1/me", headers=auth).status_code == 200


def test_a_process_takes_a_tenth_of_a_tokens_minute_at_a_time(demo, db, make_token) -> None:  # type: ignore[no-untyped-def]
    """The token's row is written when the process takes more places, not on every request."""
    demo.config["API_RATE_LIMIT"] = 20
    auth = {"Authorization": f"Bearer {make_token('zj_head_jk')}"}
    api = demo.test_client()

    def taken() -> int:
        db.rollback()  # a new snapshot
        return db.scalars(select(ApiToken)).one().window_count

    assert api.get("/api/v1/me", headers=auth).status_code == 200 and taken() == 2
    assert api.get("/api/v1/me", headers=auth).status_code == 200 and taken() == 2
    assert api.get("/api/v1/me", headers=auth).status_code == 200 and taken() == 4
    assert [api.get("/api/v1/me", headers=auth).status_code for _ in range(17)] == [200] * 17
    assert api.get("/api/v1/me", headers=auth).status_code == 429  # the 21st of the minute
    with timeutil.frozen(timeutil.now() + timedelta(seconds=61)):
        assert api.get("/api/v1/me", headers=auth).status_code == 200 and taken() == 2
