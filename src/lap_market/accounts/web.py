"""Admin pages (organisations and users) and the user's own password page."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from lap_market.accounts import service, sessions
from lap_market.accounts.deps import (
    ClientAddress,
    SettingsDep,
    WebUser,
    session_id,
    web_role,
)
from lap_market.accounts.models import OrgKind, Role, User
from lap_market.accounts.schemas import (
    JobTitleForm,
    OrganisationCreate,
    OrganisationUpdate,
    PasswordChangeForm,
    UserCreate,
    UserUpdate,
)
from lap_market.db import SessionDep
from lap_market.primitives import Id, Input
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, form_action
from lap_market.web.deps import web_router

router = web_router()
AdminPage = Annotated[User, Depends(web_role(Role.ADMIN))]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class _ActiveForm(Input):
    """The activate/deactivate button: ``active`` is "true" to activate."""

    active: str = ""


def _users_page(request: Request, session: SessionDep, admin: User, **extra: Any) -> Response:
    users, total = service.list_users(session, admin, page_size=500)
    organisations = {o.id: o for o in service.list_organisations(session)}
    open_sessions = sessions.active_session_counts(session, [u.id for u in users if u.id])
    return render(
        request, "accounts/pages/users.html",
        {"users": users, "total": total, "organisations": organisations, "roles": list(Role),
         "open_sessions": open_sessions, "errors": {}, "form": {}, **extra},
        status_code=422 if extra.get("errors") else 200,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Every user, with the form to add one."""
    return _users_page(request, session, admin)


def _on_users_page(
    request: Request, session: SessionDep, admin: User, *, model: type[M],
    run: Callable[[M], T], message: Callable[[T], str],
) -> FormAction[M, T]:
    """An admin's action on the users page, which shows any refusal and then the result."""
    return FormAction(
        model=model,
        run=run,
        page=lambda errors, form: _users_page(request, session, admin, errors=errors, form=form),
        done=lambda _result: "/admin/users",
        message=message,
    )


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Add a user from the form."""
    return await form_action(request, session, _on_users_page(
        request, session, admin, model=UserCreate,
        run=lambda data: service.create_user(session, admin, data=data),
        message=lambda user: f"{user.name} can now sign in as {user.email}.",
    ))


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id
) -> Response:
    """Activate or deactivate a user."""
    return await form_action(request, session, _on_users_page(
        request, session, admin, model=_ActiveForm,
        run=lambda data: service.update_user(
            session, admin, user_id, data=UserUpdate(is_active=data.active == "true")),
        message=lambda user: f"{user.name} is now {'active' if user.is_active else 'inactive'}.",
    ))


@router.post("/admin/users/{user_id}/sessions/end", response_class=HTMLResponse)
async def end_sessions(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id
) -> Response:
    """Sign a user out everywhere."""
    return await form_action(request, session, _on_users_page(
        request, session, admin, model=NoFields,
        run=lambda _: service.end_user_sessions(session, admin, user_id),
        message=lambda ended: f"Signed out of {ended} session{'s' if ended != 1 else ''}.",
    ))


def _password_page(request: Request, errors: dict[str, str] | None = None) -> Response:
    return render(request, "accounts/pages/password.html", {"errors": errors or {}})


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, _user: WebUser) -> Response:
    """The form to change your own password."""
    return _password_page(request)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser,
    address: ClientAddress,
) -> Response:
    """Change your own password; your other sessions are signed out."""
    return await form_action(request, session, FormAction(
        model=PasswordChangeForm,
        run=lambda data: service.change_own_password(
            session, settings, user, current_sid=session_id(request), client_address=address,
            current_password=data.current_password, new_password=data.new_password,
        ),
        page=lambda errors, _form: _password_page(request, errors),
        done=lambda _ended: "/account/password",
        message=lambda _ended: "Your password has been changed. You have been signed out "
                               "everywhere else; this browser stays signed in.",
        keep_status=True,  # a throttled guess answers 429, as the sign-in form does
    ))


def _organisations_page(request: Request, session: SessionDep, **extra: Any) -> Response:
    return render(
        request, "accounts/pages/organisations.html",
        {"organisations": service.list_organisations(session), "kinds": list(OrgKind),
         "errors": {}, "form": {}, **extra},
    )


@router.get("/admin/organisations", response_class=HTMLResponse)
def organisations_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Every organisation, with the form to add one."""
    return _organisations_page(request, session)


@router.post("/admin/organisations", response_class=HTMLResponse)
async def add_organisation(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Add an organisation from the form."""
    return await form_action(request, session, FormAction(
        model=OrganisationCreate,
        run=lambda data: service.create_organisation(session, admin, data=data),
        page=lambda errors, form: _organisations_page(request, session, errors=errors, form=form),
        done=lambda org: f"/admin/organisations/{org.id}",
        message=lambda org: f"{org.name} added. Record its legal details below.",
    ))


LEGAL_LABELS = {
    "legal_name": "Legal name", "address": "Address", "vat_number": "VAT number",
    "company_number": "Company number", "contact_name": "Contact name",
    "contact_email": "Contact email", "contact_phone": "Contact telephone",
}


def _organisation_page(
    request: Request, session: SessionDep, organisation_id: int,
    errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
) -> Response:
    organisation = service.get_organisation(session, organisation_id)
    stored = {name: getattr(organisation, name) or "" for name in LEGAL_LABELS}
    return render(
        request, "accounts/pages/organisation.html",
        {"organisation": organisation, "labels": LEGAL_LABELS,
         "errors": errors or {}, "form": form if form is not None else stored},
    )


@router.get("/admin/organisations/{organisation_id}", response_class=HTMLResponse)
def organisation_page(
    request: Request, session: SessionDep, _admin: AdminPage, organisation_id: Id
) -> Response:
    """One organisation's legal details, as contracts print them, with the form to edit."""
    return _organisation_page(request, session, organisation_id)


@router.post("/admin/organisations/{organisation_id}", response_class=HTMLResponse)
async def save_organisation(
    request: Request, session: SessionDep, admin: AdminPage, organisation_id: Id
) -> Response:
    """Save the legal details from the form (every field is on it, so each is sent)."""
    return await form_action(request, session, FormAction(
        model=OrganisationUpdate,
        run=lambda data: service.update_organisation(session, admin, organisation_id, data),
        page=lambda errors, form: _organisation_page(
            request, session, organisation_id, errors, form),
        done=lambda _org: "/admin/organisations",
        message=lambda org: f"Saved the legal details of {org.name}.",
    ))


@router.post("/admin/users/{user_id}/job-title", response_class=HTMLResponse)
async def set_job_title(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id
) -> Response:
    """Set a user's job title (shown under their name when they sign a contract)."""
    return await form_action(request, session, _on_users_page(
        request, session, admin, model=JobTitleForm,
        run=lambda data: service.update_user(
            session, admin, user_id, data=UserUpdate(job_title=data.job_title)),
        message=lambda user: f"{user.name}'s job title is now "
                             f"{user.job_title or 'not recorded'}.",
    ))
