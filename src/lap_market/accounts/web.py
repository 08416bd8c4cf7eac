"""Admin pages: organisations and users."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts import service
from lap_market.accounts.deps import web_role
from lap_market.accounts.models import OrgKind, Role, User
from lap_market.accounts.schemas import OrganisationCreate, UserCreate, UserUpdate
from lap_market.db import SessionDep
from lap_market.errors import DomainError
from lap_market.primitives import Id
from lap_market.templating import render
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors, domain_form_errors, parse_form

router = web_router()
AdminPage = Annotated[User, Depends(web_role(Role.ADMIN))]


def _users_page(request: Request, session: SessionDep, admin: User, **extra: Any) -> Response:
    users, total = service.list_users(session, admin, page_size=500)
    organisations = {o.id: o for o in service.list_organisations(session)}
    return render(
        request, "accounts/pages/users.html",
        {"users": users, "total": total, "organisations": organisations, "roles": list(Role),
         "errors": {}, "form": {}, **extra},
        status_code=422 if extra.get("errors") else 200,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Every user, with the form to add one."""
    return _users_page(request, session, admin)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """Add a user from the form."""
    form = dict(await request.form())
    try:
        data = parse_form(UserCreate, form)
        service.create_user(session, admin, data=data)
    except FormErrors as exc:
        return _users_page(request, session, admin, errors=exc.errors, form=form)
    except DomainError as exc:
        session.rollback()
        return _users_page(request, session, admin, errors=domain_form_errors(exc), form=form)
    return RedirectResponse("/admin/users", status_code=303)


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
    form = dict(await request.form())
    try:
        data = parse_form(OrganisationCreate, form)
        service.create_organisation(session, admin, data=data)
    except FormErrors as exc:
        return _organisations_page(request, session, errors=exc.errors, form=form)
    except DomainError as exc:
        session.rollback()
        return _organisations_page(request, session, errors=domain_form_errors(exc), form=form)
    return RedirectResponse("/admin/organisations", status_code=303)
