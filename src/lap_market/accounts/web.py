"""Admin pages (organisations and users) and the user's own password page."""

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
from lap_market.errors import DomainError
from lap_market.primitives import Id
from lap_market.templating import render
from lap_market.web.actions import FormAction, form_action
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors, domain_form_errors, parse_form

router = web_router()
AdminPage = Annotated[User, Depends(web_role(Role.ADMIN))]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


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


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Add a user from the form."""
    return await form_action(request, session, FormAction(
        model=UserCreate,
        run=lambda data: service.create_user(session, admin, data=data),
        page=lambda errors, form: _users_page(request, session, admin, errors=errors, form=form),
        done=lambda _user: "/admin/users",
        message=lambda user: f"{user.name} can now sign in as {user.email}.",
    ))


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id
) -> Response:
    """Activate or deactivate a user."""
    form = await request.form()
    service.update_user(
        session, admin, user_id, data=UserUpdate(is_active=form.get("active") == "true")
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/sessions/end", response_class=HTMLResponse)
def end_sessions(session: SessionDep, admin: AdminPage, user_id: UserId) -> Response:
    """Sign a user out everywhere."""
    service.end_user_sessions(session, admin, user_id)
    return RedirectResponse("/admin/users", status_code=303)


def _password_page(request: Request, **extra: Any) -> Response:
    status = extra.pop("status_code", 200)
    return render(
        request, "accounts/pages/password.html", {"errors": {}, "changed": False, **extra},
        status_code=status,
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, _user: WebUser, changed: bool = False) -> Response:
    """The form to change your own password."""
    return _password_page(request, changed=changed)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser,
    address: ClientAddress,
) -> Response:
    """Change your own password; your other sessions are signed out."""
    try:
        data = parse_form(PasswordChangeForm, dict(await request.form()))
        service.change_own_password(
            session, settings, user, current_sid=session_id(request), client_address=address,
            current_password=data.current_password, new_password=data.new_password,
        )
    except FormErrors as exc:
        return _password_page(request, errors=exc.errors, status_code=422)
    except DomainError as exc:
        session.rollback()
        return _password_page(
            request, errors=domain_form_errors(exc), status_code=exc.status_code
        )
    return RedirectResponse("/account/password?changed=true", status_code=303)


def _organisations_page(request: Request, session: SessionDep, **extra: Any) -> Response:
    return render(
        request, "accounts/pages/organisations.html",
        {"organisations": service.list_organisations(session), "kinds": list(OrgKind),
         "errors": {}, "form": {}, **extra},
        status_code=422 if extra.get("errors") else 200,
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
    request: Request, session: SessionDep, admin: AdminPage, user_id: UserId
) -> Response:
    """Set a user's job title (shown under their name when they sign a contract)."""
    return await form_action(request, session, FormAction(
        model=JobTitleForm,
        run=lambda data: service.update_user(
            session, admin, user_id, data=UserUpdate(job_title=data.job_title)),
        page=lambda errors, form: _users_page(request, session, admin, errors=errors, form=form),
        done=lambda _user: "/admin/users",
        message=lambda user: f"{user.name}'s job title is now "
                             f"{user.job_title or 'not recorded'}.",
    ))
