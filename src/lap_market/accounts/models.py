"""Organisations, users, their signed-in sessions and failed logins."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from lap_market.modeling import fk, id_field, text, timestamp


class OrgKind(StrEnum):
    BOROUGH = "borough"
    LMA = "lma"
    CONTRACTOR = "contractor"
    PARTNERSHIP = "partnership"


class Role(StrEnum):
    BOROUGH_MANAGER = "borough_manager"
    PROVIDER = "provider"
    PROCUREMENT_OFFICER = "procurement_officer"
    ADMIN = "admin"


# Which organisation kinds each role may belong to.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.BOROUGH_MANAGER: frozenset({OrgKind.BOROUGH}),
    Role.PROVIDER: frozenset({OrgKind.LMA, OrgKind.CONTRACTOR}),
    Role.PROCUREMENT_OFFICER: frozenset({OrgKind.PARTNERSHIP}),
    Role.ADMIN: frozenset({OrgKind.PARTNERSHIP}),
}


class Organisation(SQLModel, table=True):
    id: int | None = id_field()
    name: str = Field(max_length=200, unique=True)
    kind: str = text(20)
    gss_code: str | None = Field(default=None, max_length=9, unique=True, nullable=True)
    created_at: datetime = timestamp()
    # Legal details, as a contract names the party (null until an admin records them; the
    # councils' official names are seeded by migration 0004_legal).
    legal_name: str | None = text(200, nullable=True)
    address: str | None = text(500, nullable=True)
    vat_number: str | None = text(20, nullable=True)
    company_number: str | None = text(20, nullable=True)
    contact_name: str | None = text(200, nullable=True)
    contact_email: str | None = text(254, nullable=True)
    contact_phone: str | None = text(40, nullable=True)

    @property
    def display_legal_name(self) -> str:
        """The name a contract uses: the legal name once recorded, else the short name."""
        return self.legal_name or self.name
    # A borough an admin lets sell its spare capacity: its managers act as its providers.
    can_provide: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class User(SQLModel, table=True):
    id: int | None = id_field()
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = text(200)
    role: str = text(30)
    organisation_id: int = fk("organisation.id")
    password_hash: str = text(255)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp()
    # Written by every sign-in as a conditional UPDATE, which also serialises a sign-in
    # against a concurrent deactivation or password change (see sessions.start_session).
    last_signed_in_at: datetime | None = timestamp(nullable=True)
    # Shown under a signatory's name on contracts ("Head of Archives").
    job_title: str | None = text(200, nullable=True)
    # Loaded in the same query as the user (an inner join: every user has one), because
    # whether a borough manager also sells (``policy.is_provider``) reads it on every request.
    organisation: Organisation = Relationship(
        sa_relationship_kwargs={"lazy": "joined", "innerjoin": True}
    )


class AuthSession(SQLModel, table=True):
    """One signed-in session. Its token carries ``sid``; a token is honoured only while its
    session row exists and has not ended, so ending the row signs the token out at once."""

    id: int | None = id_field()
    sid: str = Field(max_length=64, unique=True, index=True)
    user_id: int = fk("user.id")
    client_address: str = text(64)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    ended_at: datetime | None = timestamp(nullable=True)
    end_reason: str | None = text(30, nullable=True)


class LoginFailure(SQLModel, table=True):
    """One failed (or still running) password attempt, kept in the database so throttling
    holds across worker processes; counted per (email, client address) and per address."""

    __table_args__ = (sa.Index("ix_loginfailure_client_address_at", "client_address", "at"),)

    id: int | None = id_field()
    email: str = Field(max_length=254, index=True)
    client_address: str = text(64, default="")
    at: datetime = timestamp()
