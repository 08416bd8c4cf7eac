"""Admin management of organisations and users, and the bad input it refuses."""

import pytest
from sqlmodel import func, select

from lap_market.accounts.models import Organisation, User
from lap_market.accounts.security import verify_password
from lap_market.audit.models import AuditEvent
from tests.factories import accounts as f


@pytest.fixture
def admin_headers(client, session):
    admin = f.admin(session)
    session.commit()
    return f.token_headers(client, admin.email)


def _counts(session):
    session.expire_all()
    return (
        session.exec(select(func.count()).select_from(User)).one(),
        session.exec(select(func.count()).select_from(Organisation)).one(),
        session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(["user.created", "organisation.created"]))).one(),
    )


def test_reference_organisations(client, admin_headers):
    orgs = client.get("/api/v1/organisations?kind=borough", headers=admin_headers).json()
    assert len(orgs) == 33
    codes = {o["gss_code"]: o["name"] for o in orgs}
    assert codes["E09000001"] == "City of London"
    assert codes["E09000033"] == "Westminster"
    assert codes["E09000007"] == "Camden"
    kinds = {o["name"]: o["kind"] for o in client.get("/api/v1/organisations", headers=admin_headers).json()}
    assert kinds["London Metropolitan Archives"] == "lma"
    assert kinds["London Archives Partnership"] == "partnership"


def test_create_user_hashes_with_argon2id_and_audits(client, session, admin_headers):
    camden = f.borough(session)
    response = client.post("/api/v1/users", headers=admin_headers, json={
        "email": "New.Manager@Camden.example", "name": "New Manager", "role": "borough_manager",
        "organisation_id": camden.id, "password": "a-long-password-1",
    })
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "new.manager@camden.example"
    assert body["organisation"]["gss_code"] == "E09000007"
    session.expire_all()
    user = session.exec(select(User).where(User.email == "new.manager@camden.example")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password("a-long-password-1", user.password_hash)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert event.object_id == str(user.id)
    assert "password" not in str(event.details)
    # The new user can sign in.
    assert client.post("/api/v1/auth/token", data={
        "username": "new.manager@camden.example", "password": "a-long-password-1"}).status_code == 200


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"email": "not-an-email"}, 422, "email"),
    ({"password": "short"}, 422, "password"),
    ({"role": "superuser"}, 422, "role"),
    ({"role": "provider"}, 422, "role"),            # provider in a borough
    ({"role": "procurement_officer"}, 422, "role"),  # officer in a borough
    ({"organisation_id": 999999}, 422, "organisation_id"),
    ({"name": "x" * 201}, 422, "name"),
    ({"commissioned": True}, 422, "commissioned"),   # unknown fields are refused
])
def test_bad_user_input_writes_nothing(client, session, admin_headers, payload, status, field):
    camden = f.borough(session)
    data = {"email": "someone@camden.example", "name": "Someone", "role": "borough_manager",
            "organisation_id": camden.id, "password": "a-long-password-1", **payload}
    before = _counts(session)
    response = client.post("/api/v1/users", headers=admin_headers, json=data)
    assert response.status_code == status, response.text
    body = response.json()
    fields = [e.get("field") for e in body["detail"]] if isinstance(body["detail"], list) else [body.get("field")]
    assert any(field == x or (x or "").startswith(field) for x in fields), body
    assert _counts(session) == before


def test_duplicate_email_is_409(client, session, admin_headers):
    existing = f.manager(session)
    session.commit()
    before = _counts(session)
    response = client.post("/api/v1/users", headers=admin_headers, json={
        "email": existing.email.upper(), "name": "Dup", "role": "borough_manager",
        "organisation_id": existing.organisation_id, "password": "a-long-password-1"})
    assert response.status_code == 409
    assert response.json()["field"] == "email"
    assert _counts(session) == before


def test_organisations_create_and_refuse_bad_input(client, session, admin_headers):
    created = client.post("/api/v1/organisations", headers=admin_headers,
                          json={"name": "Kew Binders Ltd", "kind": "contractor"})
    assert created.status_code == 201
    before = _counts(session)
    for payload, status, field in [
        ({"name": "Kew Binders Ltd", "kind": "contractor"}, 409, "name"),
        ({"name": "Camden Again", "kind": "borough", "gss_code": "E09000007"}, 409, "gss_code"),
        ({"name": "Odd", "kind": "museum"}, 422, "kind"),
        ({"name": "Bad Code", "kind": "borough", "gss_code": "X123"}, 422, "gss_code"),
        ({"name": "", "kind": "contractor"}, 422, "name"),
    ]:
        response = client.post("/api/v1/organisations", headers=admin_headers, json=payload)
        assert response.status_code == status, (payload, response.text)
        assert field in response.text
    assert _counts(session) == before


def test_deactivate_user(client, session, admin_headers):
    manager = f.manager(session)
    session.commit()
    response = client.patch(f"/api/v1/users/{manager.id}", headers=admin_headers, json={"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.post("/api/v1/auth/token", data={
        "username": manager.email, "password": f.PASSWORD}).status_code == 401
    listing = client.get(f"/api/v1/users?organisation_id={manager.organisation_id}", headers=admin_headers)
    assert [u["email"] for u in listing.json()["items"]] == [manager.email]
