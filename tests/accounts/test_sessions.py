"""Server-side sessions: sign-out, deactivation, password change and admins end them at
once; the per-request check is one indexed read."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import inspect
from sqlmodel import Session, col, select

from lap_market.accounts import sessions
from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import AuthSession, User
from lap_market.accounts.security import create_access_token, hash_password, new_session_id
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.errors import Unauthenticated
from tests.factories import accounts as f
from tests.statements import on_statements

NEW_PASSWORD = "a-brand-new-passphrase"  # noqa: S105 - a test input


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _web_login(client: TestClient, email: str, password: str = f.PASSWORD) -> None:
    response = client.post("/login", follow_redirects=False, data={
        "email": email, "password": password, "csrf_token": _csrf(client.get("/login").text)})
    assert response.status_code == 303, response.text


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_api_sign_out_ends_that_session_only(client, session):
    officer = f.officer(session)
    session.commit()
    first, second = f.token_headers(client, officer.email), f.token_headers(client, officer.email)
    assert _me(client, first) == 200
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert _me(client, first) == 401
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    assert _me(client, second) == 200
    [event] = _events(session, "user.signed_out")
    assert event.actor_id == officer.id
    claims = jwt.get_unverified_claims(first["Authorization"].removeprefix("Bearer "))
    row = session.exec(select(AuthSession).where(AuthSession.sid == claims["sid"])).one()
    assert row.end_reason == "signed_out" and row.ended_at is not None
    assert event.details == {"session_id": row.id}


def test_web_sign_out_ends_a_copied_cookie_too(app, client, session):
    manager = f.manager(session)
    session.commit()
    _web_login(client, manager.email)
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get("/dashboard", follow_redirects=False).status_code == 200
    token = _csrf(client.get("/dashboard").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with TestClient(app, cookies={SESSION_COOKIE: cookie}) as thief:
        response = thief.get("/dashboard", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # The cookie's token is the same kind of token: it is dead as a bearer too.
    assert _me(client, {"Authorization": f"Bearer {cookie}"}) == 401
    assert len(_events(session, "user.signed_out")) == 1


def test_a_well_signed_token_without_an_open_session_is_refused(client, session, settings):
    officer = f.officer(session)
    session.commit()
    forged_session = create_access_token(
        user_id=officer.id, sid=new_session_id(), secret=settings.secret_key,  # type: ignore[arg-type]
        now=clock.now(), minutes=60)
    assert _me(client, {"Authorization": f"Bearer {forged_session}"}) == 401
    now = datetime.now(UTC)
    no_sid = jwt.encode({"sub": str(officer.id), "iat": int(now.timestamp()),
                         "exp": int((now + timedelta(hours=1)).timestamp())},
                        settings.secret_key, algorithm="HS256")
    assert _me(client, {"Authorization": f"Bearer {no_sid}"}) == 401
    # Another user's session id under this user's name is refused as well.
    other = f.manager(session)
    session.commit()
    other_sid = jwt.get_unverified_claims(f.session_token(client.app, other))["sid"]
    borrowed = create_access_token(
        user_id=officer.id, sid=other_sid, secret=settings.secret_key,  # type: ignore[arg-type]
        now=clock.now(), minutes=60)
    assert _me(client, {"Authorization": f"Bearer {borrowed}"}) == 401


def test_deactivation_ends_every_session_for_good(client, session):
    admin, manager = f.admin(session), f.manager(session)
    session.commit()
    admin_headers = f.token_headers(client, admin.email)
    tokens = [f.token_headers(client, manager.email) for _ in range(2)]
    response = client.patch(f"/api/v1/users/{manager.id}", headers=admin_headers, json={"is_active": False})
    assert response.status_code == 200
    assert [_me(client, t) for t in tokens] == [401, 401]
    assert client.patch(f"/api/v1/users/{manager.id}", headers=admin_headers,
                        json={"is_active": True}).status_code == 200
    # Re-activation revives nothing: the old tokens stay dead, a new sign-in works.
    assert [_me(client, t) for t in tokens] == [401, 401]
    assert _me(client, f.token_headers(client, manager.email)) == 200
    ended = [e for e in _events(session, "user.sessions_ended") if e.object_id == str(manager.id)]
    assert [(e.actor_id, e.details) for e in ended] == [
        (admin.id, {"reason": "deactivated", "sessions_ended": 2})]


def test_deactivating_from_the_admin_page_ends_sessions(client, session):
    admin, provider = f.admin(session), f.provider(session)
    session.commit()
    headers = f.token_headers(client, provider.email)
    _web_login(client, admin.email)
    token = _csrf(client.get("/admin/users").text)
    response = client.post(f"/admin/users/{provider.id}/active",
                           data={"active": "false", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert _me(client, headers) == 401


def test_change_own_password_by_api(client, session):
    manager = f.manager(session)
    session.commit()
    this, other = f.token_headers(client, manager.email), f.token_headers(client, manager.email)
    url = "/api/v1/me/password"
    for body, field in [
        ({"current_password": "not-my-password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": f.PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": f.PASSWORD, "new_password": f.PASSWORD}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "admin": True}, "admin"),
    ]:
        refused = client.post(url, headers=this, json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
        assert _me(client, other) == 200
    assert client.post(url, json={"current_password": f.PASSWORD, "new_password": NEW_PASSWORD}).status_code == 401

    changed = client.post(url, headers=this, json={"current_password": f.PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"other_sessions_ended": 1}
    assert _me(client, this) == 200
    assert _me(client, other) == 401
    assert client.post("/api/v1/auth/token", data={
        "username": manager.email, "password": f.PASSWORD}).status_code == 401
    assert _me(client, f.token_headers(client, manager.email, NEW_PASSWORD)) == 200
    session.expire_all()
    assert session.get(User, manager.id).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    [event] = _events(session, "user.password_changed")
    assert event.actor_id == manager.id and event.details == {"other_sessions_ended": 1}
    assert NEW_PASSWORD not in str(event.details) and f.PASSWORD not in str(event.details)


def test_guessing_the_current_password_is_throttled(client, session, settings):
    provider = f.provider(session)
    session.commit()
    headers = f.token_headers(client, provider.email)
    for _ in range(settings.login_max_failures):
        assert client.post("/api/v1/me/password", headers=headers, json={
            "current_password": "a-wrong-guess", "new_password": NEW_PASSWORD}).status_code == 422
    throttled = client.post("/api/v1/me/password", headers=headers, json={
        "current_password": f.PASSWORD, "new_password": NEW_PASSWORD})
    assert throttled.status_code == 429


def test_change_own_password_on_the_web(app, client, session):
    officer = f.officer(session)
    session.commit()
    api_headers = f.token_headers(client, officer.email)
    _web_login(client, officer.email)
    page = client.get("/account/password")
    assert page.status_code == 200 and "Change your password" in page.text
    assert 'href="/account/password"' in client.get("/dashboard").text
    form = {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD}
    assert client.post("/account/password", data=form).status_code == 403  # no CSRF token
    token = _csrf(page.text)
    mismatch = client.post("/account/password", data={**form, "confirm_password": "something-else",
                                                       "csrf_token": token})
    assert mismatch.status_code == 422
    assert "There is a problem" in mismatch.text and "does not match the new password" in mismatch.text
    wrong = client.post("/account/password", data={**form, "current_password": "nope-nope-nope",
                                                    "csrf_token": token})
    assert wrong.status_code == 422 and "Your current password is not correct" in wrong.text
    assert _me(client, api_headers) == 200

    done = client.post("/account/password", data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "Your password has been changed" in client.get(done.headers["location"]).text
    assert client.get("/dashboard", follow_redirects=False).status_code == 200  # this browser stays
    assert _me(client, api_headers) == 401
    with TestClient(app) as fresh:
        _web_login(fresh, officer.email, NEW_PASSWORD)


def test_admin_ends_a_users_sessions_by_api(client, session):
    admin, manager = f.admin(session), f.manager(session)
    session.commit()
    admin_headers = f.token_headers(client, admin.email)
    tokens = [f.token_headers(client, manager.email) for _ in range(2)]
    assert client.delete(f"/api/v1/users/{manager.id}/sessions", headers=tokens[0]).status_code == 403
    response = client.delete(f"/api/v1/users/{manager.id}/sessions", headers=admin_headers)
    assert response.status_code == 200 and response.json() == {"sessions_ended": 2}
    assert [_me(client, t) for t in tokens] == [401, 401]
    assert _me(client, admin_headers) == 200
    assert _me(client, f.token_headers(client, manager.email)) == 200  # they may sign in again
    assert client.delete("/api/v1/users/999999/sessions", headers=admin_headers).status_code == 404
    huge = client.delete(f"/api/v1/users/{2**63}/sessions", headers=admin_headers)
    assert huge.status_code == 404 and huge.json()["field"] == "user_id"  # a path id out of range: 404, as every path id
    [event] = [e for e in _events(session, "user.sessions_ended") if e.details["reason"] == "admin"]
    assert (event.actor_id, event.object_id) == (admin.id, str(manager.id))
    assert event.details["sessions_ended"] == 2


def test_admin_ends_a_users_sessions_from_the_users_page(client, session):
    admin, manager = f.admin(session), f.manager(session)
    session.commit()
    headers = f.token_headers(client, manager.email)
    _web_login(client, admin.email)
    page = client.get("/admin/users")
    assert f'action="/admin/users/{manager.id}/sessions/end"' in page.text
    response = client.post(f"/admin/users/{manager.id}/sessions/end",
                           data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert _me(client, headers) == 401
    assert f'action="/admin/users/{manager.id}/sessions/end"' not in client.get("/admin/users").text


def test_sign_in_refuses_a_user_changed_since_the_password_check(app, session, settings):
    """The sign-in stamp is conditional, so a deactivation or password change that lands
    between the password check and the new session wins."""
    manager = f.manager(session)
    session.commit()
    for change in ({"is_active": False}, {"password_hash": hash_password(NEW_PASSWORD)}):
        with Session(app.state.engine) as signing_in:
            checked = signing_in.get(User, manager.id)
            assert checked is not None
            with Session(app.state.engine) as admin:
                row = admin.get(User, manager.id)
                for key, value in change.items():
                    setattr(row, key, value)
                admin.commit()
            with pytest.raises(Unauthenticated):
                sessions.start_session(signing_in, settings, checked, client_address="test")
            signing_in.rollback()
        session.expire_all()
        restored = session.get(User, manager.id)
        restored.is_active, restored.password_hash = True, hash_password(f.PASSWORD)  # type: ignore[union-attr]
        session.commit()
    assert session.exec(select(AuthSession)).all() == []


def test_two_password_changes_at_once_exactly_one_wins(app, client, session):
    manager = f.manager(session)
    session.commit()
    headers = [f.token_headers(client, manager.email) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def change(own_headers: dict[str, str], new: str) -> None:
        with TestClient(app) as own:
            barrier.wait(timeout=10)
            results.append(own.post("/api/v1/me/password", headers=own_headers, json={
                "current_password": f.PASSWORD, "new_password": new}).status_code)

    threads = [threading.Thread(target=change, args=(h, NEW_PASSWORD + str(n)))
               for n, h in enumerate(headers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results)[0] == 200 and sorted(results)[1] in (409, 422, 401)
    session.expire_all()
    assert len(_events(session, "user.password_changed")) == 1
    # The winner's session is the only one left open.
    assert len(session.exec(select(AuthSession).where(col(AuthSession.ended_at).is_(None))).all()) == 1


def test_the_per_request_check_is_one_indexed_read(app, client, session):
    officer = f.officer(session)
    session.commit()
    headers = f.token_headers(client, officer.email)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with on_statements(app, count):
        assert _me(client, headers) == 200
    touching = [s for s in statements if "authsession" in s.lower()]
    assert len(touching) == 1 and "join" in touching[0].lower()
    indexes = {i["name"]: i for i in inspect(app.state.engine).get_indexes("authsession")}
    assert indexes["ix_authsession_sid"]["unique"] and indexes["ix_authsession_sid"]["column_names"] == ["sid"]
