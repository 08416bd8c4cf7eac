"""Organisations, users and failed logins."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

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


class User(SQLModel, table=True):
    id: int | None = id_field()
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = text(200)
    role: str = text(30)
    organisation_id: int = fk("organisation.id")
    password_hash: str = text(255)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp()


class LoginFailure(SQLModel, table=True):
    """One failed password attempt, kept to throttle guessing across worker processes."""

    id: int | None = id_field()
    email: str = Field(max_length=254, index=True)
    at: datetime = timestamp()
