"""JSON routes: tokens, the current user, organisations and users."""

from typing import Annotated

from fastapi import Form, Query, Request, Response
from sqlmodel import Session

from lap_market.accounts import service, sessions
from lap_market.accounts.deps import (
    AdminUser,
    ClientAddress,
    CurrentUser,
    SettingsDep,
    api_router,
    session_id,
)
from lap_market.accounts.models import Organisation, Role, User
from lap_market.accounts.schemas import (
    MeRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    Page,
    PasswordChange,
    PasswordChanged,
    SessionsEnded,
    Token,
    UserCreate,
    UserRead,
    UserUpdate,
)
from lap_market.db import SessionDep, on_loop
from lap_market.primitives import Id, Line, PageNumber

router = api_router("accounts")


def organisation_read(organisation: Organisation) -> OrganisationRead:
    """API view of an organisation."""
    return OrganisationRead.model_validate(organisation, from_attributes=True)


def user_read(session: Session, user: User) -> UserRead:
    """API view of a user with their organisation."""
    organisation = service.get_organisation(session, user.organisation_id)
    return UserRead(
        id=user.id, email=user.email, name=user.name, role=user.role,
        is_active=user.is_active, organisation=organisation_read(organisation),
        created_at=user.created_at, job_title=user.job_title,
    )


@router.post("/auth/token", response_model=Token)
def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    username: Annotated[Line, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
) -> Token:
    """Exchange an email and password for a bearer token (OAuth2 password flow).

    Repeated failures from one client address answer 429 for that address only."""
    _user, token = service.sign_in(
        session, settings, email=username, password=password, client_address=address
    )
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.post("/auth/logout", status_code=204, response_class=Response)
def sign_out(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """End this token's session on the server: the token stops working at once."""
    sessions.sign_out(session, user, sid=session_id(request))
    return Response(status_code=204)


@router.post("/me/password", response_model=PasswordChanged)
def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    address: ClientAddress,
    data: PasswordChange,
) -> PasswordChanged:
    """Change your own password (the current one is required); your other sessions end."""
    ended = service.change_own_password(
        session, settings, user, current_sid=session_id(request), client_address=address,
        current_password=data.current_password, new_password=data.new_password,
    )
    return PasswordChanged(other_sessions_ended=ended)


@router.get("/me", response_model=MeRead)
async def me(session: SessionDep, user: CurrentUser) -> MeRead:
    """The signed-in user, their role and organisation."""
    organisation = await on_loop(
        session, lambda: service.get_organisation(session, user.organisation_id)
    )
    return MeRead(
        id=user.id, email=user.email, name=user.name, role=user.role,
        organisation=organisation_read(organisation),
    )


@router.get("/organisations", response_model=list[OrganisationRead])
def list_organisations(
    session: SessionDep, _admin: AdminUser, kind: Annotated[Line | None, Query()] = None
) -> list[OrganisationRead]:
    """Every organisation (admin)."""
    return [organisation_read(o) for o in service.list_organisations(session, kind=kind)]


@router.post("/organisations", response_model=OrganisationRead, status_code=201)
def create_organisation(
    session: SessionDep, admin: AdminUser, data: OrganisationCreate
) -> OrganisationRead:
    """Add an organisation (admin)."""
    return organisation_read(service.create_organisation(session, admin, data=data))


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead)
def update_organisation(
    session: SessionDep, admin: AdminUser, organisation_id: Id, data: OrganisationUpdate
) -> OrganisationRead:
    """Record an organisation's legal details, or let a borough sell (``can_provide``)
    (admin): only the fields sent change, and an empty string clears a detail."""
    return organisation_read(
        service.update_organisation(session, admin, organisation_id, data)
    )


@router.get("/users", response_model=Page[UserRead])
def list_users(
    session: SessionDep,
    admin: AdminUser,
    organisation_id: Id | None = None,
    role: Role | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[UserRead]:
    """Users (admin)."""
    users, total = service.list_users(
        session, admin, organisation_id=organisation_id, role=role, page=page, page_size=page_size
    )
    return Page[UserRead](items=[user_read(session, u) for u in users], total=total)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(session: SessionDep, admin: AdminUser, data: UserCreate) -> UserRead:
    """Add a user (admin)."""
    return user_read(session, service.create_user(session, admin, data=data))


@router.delete("/users/{user_id}/sessions", response_model=SessionsEnded)
def end_user_sessions(
    session: SessionDep,
    admin: AdminUser,
    user_id: Id,
) -> SessionsEnded:
    """Sign a user out everywhere: all their tokens stop working (admin)."""
    return SessionsEnded(sessions_ended=service.end_user_sessions(session, admin, user_id))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(session: SessionDep, admin: AdminUser, user_id: Id, data: UserUpdate) -> UserRead:
    """Rename, change role, or deactivate a user (admin)."""
    return user_read(session, service.update_user(session, admin, user_id, data=data))
