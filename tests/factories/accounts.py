"""Factories for organisations and users."""

from itertools import count
from typing import Any

from sqlmodel import Session, select

from lap_market.accounts.models import Organisation, OrgKind, Role, User
from lap_market.accounts.security import hash_password
from lap_market.accounts.sessions import start_session
from lap_market.clock import clock

PASSWORD = "correct-horse-battery"  # noqa: S105 - test credential
_PASSWORD_HASH = hash_password(PASSWORD)  # hashing is slow by design: do it once
_seq = count(1)


def borough(session: Session, gss_code: str = "E09000007") -> Organisation:
    """A London borough from the reference data (Camden by default)."""
    org = session.exec(select(Organisation).where(Organisation.gss_code == gss_code)).one()
    return org


def lma(session: Session) -> Organisation:
    """London Metropolitan Archives."""
    return session.exec(select(Organisation).where(Organisation.kind == OrgKind.LMA)).one()


def partnership(session: Session) -> Organisation:
    """The London Archives Partnership."""
    return session.exec(select(Organisation).where(Organisation.kind == OrgKind.PARTNERSHIP)).one()


def contractor(session: Session, name: str | None = None) -> Organisation:
    """A new contractor organisation."""
    org = Organisation(
        name=name or f"Contractor {next(_seq)} Ltd", kind=OrgKind.CONTRACTOR, created_at=clock.now()
    )
    session.add(org)
    session.flush()
    return org


def user(
    session: Session, *, role: Role, organisation: Organisation, email: str | None = None,
    name: str | None = None, is_active: bool = True,
) -> User:
    """A user with the shared test password."""
    n = next(_seq)
    u = User(
        email=email or f"{role.value}{n}@test.example", name=name or f"{role.value} {n}",
        role=role, organisation_id=organisation.id,  # type: ignore[arg-type]
        password_hash=_PASSWORD_HASH, is_active=is_active, created_at=clock.now(),
    )
    session.add(u)
    session.flush()
    return u


def officer(session: Session) -> User:
    return user(session, role=Role.PROCUREMENT_OFFICER, organisation=partnership(session))


def admin(session: Session) -> User:
    return user(session, role=Role.ADMIN, organisation=partnership(session))


def manager(session: Session, gss_code: str = "E09000007") -> User:
    return user(session, role=Role.BOROUGH_MANAGER, organisation=borough(session, gss_code))


def provider(session: Session, organisation: Organisation | None = None) -> User:
    return user(session, role=Role.PROVIDER, organisation=organisation or contractor(session))


def token_headers(client, email: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Bearer headers for a user, via the real token endpoint."""
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def session_token(app: Any, user: User, *, minutes: int = 60, address: str = "test") -> str:
    """A token for a server-side session opened for ``user`` at the clock's current time,
    as a sign-in would (without the password check or its audit event); committed in its
    own transaction, so commit the test's session first."""
    settings = app.state.settings.model_copy(update={"token_minutes": minutes})
    with Session(app.state.engine) as db:
        row = db.get(User, user.id)
        assert row is not None, "commit the user before opening a session for them"
        token = start_session(db, settings, row, client_address=address)
        db.commit()
    return token


def bearer(app: Any, user: User, *, minutes: int = 60) -> dict[str, str]:
    """Bearer headers for a fresh server-side session of ``user`` (see ``session_token``)."""
    return {"Authorization": f"Bearer {session_token(app, user, minutes=minutes)}"}
