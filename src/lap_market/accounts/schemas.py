"""API models for organisations, users and tokens."""

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from lap_market.accounts.models import OrgKind, Role
from lap_market.primitives import Id, Input, LongText, Strict, Title

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


Email = Annotated[str, AfterValidator(_email)]
Name = Title
Password = Annotated[str, Field(min_length=12, max_length=200)]


class OrganisationCreate(Strict):
    name: Name
    kind: OrgKind
    gss_code: Annotated[str, StringConstraints(pattern=r"^E\d{8}$")] | None = None


def _blank_is_none(value: object) -> object:
    """An emptied form field clears the detail."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _vat_number(value: str) -> str:
    """A UK VAT number: GB and 9 digits (or 12 for a branch), spaces allowed as typed."""
    compact = re.sub(r"\s+", "", value).upper()
    if not re.fullmatch(r"(GB)?(\d{9}|\d{12})", compact):
        raise ValueError("must be a UK VAT number such as GB 123 4567 89")
    return compact if compact.startswith("GB") else "GB" + compact


def _company_number(value: str) -> str:
    """A Companies House number: 8 characters, digits or two letters and six digits."""
    compact = re.sub(r"\s+", "", value).upper()
    if not re.fullmatch(r"[0-9]{8}|[A-Z]{2}[0-9]{6}", compact):
        raise ValueError("must be a Companies House number such as 01234567 or SC123456")
    return compact


def _phone(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"\+?[0-9 ()-]{7,30}", value):
        raise ValueError("must be a telephone number such as 020 7332 3820")
    return value


Address = Annotated[LongText, StringConstraints(strip_whitespace=True, max_length=500)]
Detail = Title
Clearable = BeforeValidator(_blank_is_none)


class OrganisationUpdate(Strict):
    """An organisation's legal details (admin); omitted fields stay, empty ones are cleared."""

    legal_name: Annotated[Detail | None, Clearable] = None
    address: Annotated[Address | None, Clearable] = None
    vat_number: Annotated[Annotated[str, AfterValidator(_vat_number)] | None, Clearable] = None
    company_number: Annotated[
        Annotated[str, AfterValidator(_company_number)] | None, Clearable
    ] = None
    contact_name: Annotated[Detail | None, Clearable] = None
    contact_email: Annotated[Email | None, Clearable] = None
    contact_phone: Annotated[Annotated[str, AfterValidator(_phone)] | None, Clearable] = None
    # Let a borough sell (issue 17): its managers then act as its providers.
    can_provide: bool | None = None


class OrganisationRead(BaseModel):
    id: int
    name: str
    kind: str
    gss_code: str | None
    can_provide: bool = False
    legal_name: str | None = None
    address: str | None = None
    vat_number: str | None = None
    company_number: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None


JobTitle = Annotated[Detail | None, Clearable]


class UserCreate(Strict):
    email: Email
    name: Name
    role: Role
    organisation_id: Id
    password: Password
    job_title: JobTitle = None


class UserUpdate(Strict):
    name: Name | None = None
    is_active: bool | None = None
    role: Role | None = None
    job_title: JobTitle = None


class JobTitleForm(Strict):
    job_title: JobTitle = None


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    organisation: OrganisationRead
    created_at: datetime
    job_title: str | None = None


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
