"""API models for organisations, users and tokens."""

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from lap_market.accounts.models import OrgKind, Role
from lap_market.primitives import Id, Input, Strict

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=12, max_length=200)]


class OrganisationCreate(Strict):
    name: Name
    kind: OrgKind
    gss_code: Annotated[str, StringConstraints(pattern=r"^E\d{8}$")] | None = None


class OrganisationRead(BaseModel):
    id: int
    name: str
    kind: str
    gss_code: str | None


class UserCreate(Strict):
    email: Email
    name: Name
    role: Role
    organisation_id: Id
    password: Password


class UserUpdate(Strict):
    name: Name | None = None
    is_active: bool | None = None
    role: Role | None = None


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    organisation: OrganisationRead
    created_at: datetime


class MeRead(BaseModel):
    id: int
    email: str
    name: str
    role: str
    organisation: OrganisationRead


class PasswordChange(Strict):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class LoginForm(Input):
    """The sign-in form; a blank field is named by the route, in the page's own words."""

    email: Annotated[str, Field(max_length=254)] = ""
    password: Annotated[str, Field(max_length=200)] = ""
    next: Annotated[str, Field(max_length=500)] = "/dashboard"


class PasswordChangeForm(PasswordChange):
    """The web form, which asks for the new password twice."""

    confirm_password: Annotated[str, Field(max_length=200)]

    @field_validator("confirm_password")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        if "new_password" in info.data and value != info.data["new_password"]:
            raise ValueError("does not match the new password")
        return value


class PasswordChanged(BaseModel):
    other_sessions_ended: int


class SessionsEnded(BaseModel):
    sessions_ended: int


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
