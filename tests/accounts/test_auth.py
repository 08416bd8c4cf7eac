"""Tokens, the current user, and every token attack the API must refuse."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt
from sqlmodel import select

from lap_market.accounts.models import LoginFailure, Role
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from tests.factories import accounts as f


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_token_and_me(client, session):
    officer = f.officer(session)
    session.commit()
    response = client.post(
        "/api/v1/auth/token", data={"username": officer.email.upper(), "password": f.PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    data = me.json()
    assert data["role"] == "procurement_officer"
    assert data["email"] == officer.email
    # Issue 13 added the legal details (none recorded for the partnership).
    assert data["organisation"] == {
        "id": officer.organisation_id, "name": "London Archives Partnership",
        "kind": "partnership", "gss_code": None, "legal_name": None, "address": None,
        "vat_number": None, "company_number": None, "contact_name": None,
        "contact_email": None, "contact_phone": None, "can_provide": False,
    }
    claims = jwt.get_unverified_claims(body["access_token"])
    assert {"sub", "iat", "exp"} <= set(claims)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_wrong_password_is_401_and_recorded(client, session):
    manager = f.manager(session)
    session.commit()
    response = client.post(
        "/api/v1/auth/token", data={"username": manager.email, "password": "wrong-password-123"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    session.expire_all()
    assert len(session.exec(select(LoginFailure)).all()) == 1


def test_missing_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _signed(settings, **overrides):
    now = datetime.now(UTC)
    claims = {"sub": "1", "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())}
    claims.update(overrides)
    return claims


@pytest.mark.parametrize("attack", ["expired", "forged", "alg_none", "no_exp", "garbage", "bad_sub",
                                    "hs512", "unknown_user"])
def test_token_attacks_are_401(client, session, settings, attack):
    officer = f.officer(session)
    session.commit()
    secret = settings.secret_key
    claims = _signed(settings, sub=str(officer.id))
    if attack == "expired":
        claims["exp"] = int((datetime.now(UTC) - timedelta(seconds=5)).timestamp())
        token = jwt.encode(claims, secret, algorithm="HS256")
    elif attack == "forged":
        token = jwt.encode(claims, "not-the-secret-" * 3, algorithm="HS256")
    elif attack == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    elif attack == "no_exp":
        del claims["exp"]
        token = jwt.encode(claims, secret, algorithm="HS256")
    elif attack == "garbage":
        token = "not.a.token"
    elif attack == "bad_sub":
        claims["sub"] = "someone"
        token = jwt.encode(claims, secret, algorithm="HS256")
    elif attack == "hs512":
        token = jwt.encode(claims, secret, algorithm="HS512")
    else:
        claims["sub"] = "999999"
        token = jwt.encode(claims, secret, algorithm="HS256")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, attack


def test_token_expires_by_the_application_clock(client, session):
    officer = f.officer(session)
    session.commit()
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    headers = f.token_headers(client, officer.email)
    clock.advance(timedelta(minutes=59))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deactivated_user_cannot_use_token_or_sign_in(client, session):
    manager = f.manager(session)
    session.commit()
    headers = f.token_headers(client, manager.email)
    manager.is_active = False
    session.add(manager)
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    response = client.post(
        "/api/v1/auth/token", data={"username": manager.email, "password": f.PASSWORD}
    )
    assert response.status_code == 401


def test_repeated_failures_are_throttled(client, session, settings):
    manager = f.manager(session)
    session.commit()
    for _ in range(settings.login_max_failures):
        bad = client.post("/api/v1/auth/token", data={"username": manager.email, "password": "x" * 12})
        assert bad.status_code == 401
    # Even the right password is refused while throttled, so guessing gains nothing.
    throttled = client.post("/api/v1/auth/token", data={"username": manager.email, "password": f.PASSWORD})
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == str(settings.login_window_minutes * 60)
    # Another account is unaffected.
    other = f.officer(session)
    session.commit()
    assert client.post(
        "/api/v1/auth/token", data={"username": other.email, "password": f.PASSWORD}
    ).status_code == 200
    # After the window the account may try again, and success clears the count.
    clock.advance(timedelta(minutes=settings.login_window_minutes + 1))
    assert client.post(
        "/api/v1/auth/token", data={"username": manager.email, "password": f.PASSWORD}
    ).status_code == 200
    session.expire_all()
    assert session.exec(select(LoginFailure).where(LoginFailure.email == manager.email)).all() == []


def test_sign_in_is_audited(client, session):
    officer = f.officer(session)
    session.commit()
    f.token_headers(client, officer.email)
    session.expire_all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.signed_in")).one()
    assert event.actor_id == officer.id
    assert event.organisation_id == officer.organisation_id


@pytest.mark.parametrize("role", [Role.BOROUGH_MANAGER, Role.PROVIDER, Role.PROCUREMENT_OFFICER])
def test_admin_routes_forbid_other_roles(client, session, role):
    maker = {Role.BOROUGH_MANAGER: f.manager, Role.PROVIDER: f.provider,
             Role.PROCUREMENT_OFFICER: f.officer}[role]
    user = maker(session)
    session.commit()
    headers = f.token_headers(client, user.email)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.get("/api/v1/organisations", headers=headers).status_code == 403
    response = client.post(
        "/api/v1/organisations", headers=headers, json={"name": "Sneaky Ltd", "kind": "contractor"}
    )
    assert response.status_code == 403


def test_audit_log_is_for_officers_and_admins(client, session):
    officer, manager, admin = f.officer(session), f.manager(session), f.admin(session)
    session.commit()
    assert client.get("/api/v1/audit", headers=f.token_headers(client, manager.email)).status_code == 403
    page = client.get("/api/v1/audit?action=user.signed_in", headers=f.token_headers(client, officer.email))
    assert page.status_code == 200
    assert page.json()["total"] >= 2
    assert all(e["action"] == "user.signed_in" for e in page.json()["items"])
    assert client.get("/api/v1/audit", headers=f.token_headers(client, admin.email)).status_code == 200
    # Append-only: no route updates or deletes events.
    headers = f.token_headers(client, admin.email)
    event_id = page.json()["items"][0]["id"]
    assert client.delete(f"/api/v1/audit/{event_id}", headers=headers).status_code in (404, 405)
    assert client.patch(f"/api/v1/audit/{event_id}", headers=headers, json={}).status_code in (404, 405)
