"""The web shell: home, sign in and out, the role dashboard."""

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts import service as accounts
from lap_market.accounts import sessions
from lap_market.accounts.deps import (
    SESSION_COOKIE,
    ClientAddress,
    OptionalWebUser,
    SettingsDep,
    WebUser,
    session_id,
)
from lap_market.db import SessionDep
from lap_market.errors import TooManyRequests, Unauthenticated
from lap_market.primitives import Line
from lap_market.templating import render
from lap_market.web.dashboard import build_dashboard
from lap_market.web.deps import web_router

router = web_router()


def _safe_next(target: str | None) -> str:
    # Only local paths, so the login form cannot bounce people to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/dashboard"


@router.get("/", response_class=HTMLResponse)
def home(user: OptionalWebUser) -> Response:
    """Signed-in people go to their dashboard; others to sign in."""
    return RedirectResponse("/dashboard" if user else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalWebUser, next: str | None = None) -> Response:
    """The sign-in form."""
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "shell/pages/login.html", {"next": _safe_next(next), "errors": {}})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    email: Annotated[Line, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[Line, Form(max_length=500)] = "/dashboard",
) -> Response:
    """Check the credentials and start a cookie session."""
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
    status = 422
    if not errors:
        try:
            _user, token = accounts.sign_in(
                session, settings, email=email, password=password, client_address=address
            )
        except (Unauthenticated, TooManyRequests) as exc:
            errors["email"] = exc.detail
            status = exc.status_code
        else:
            response = RedirectResponse(_safe_next(next), status_code=303)
            response.set_cookie(
                SESSION_COOKIE, token, max_age=settings.token_minutes * 60, httponly=True,
                samesite="lax", secure=settings.cookie_secure, path="/",
            )
            return response
    return render(
        request, "shell/pages/login.html",
        {"next": _safe_next(next), "errors": errors, "email": email}, status_code=status,
    )


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request, session: SessionDep, user: OptionalWebUser) -> Response:
    """End the cookie session, on the server too: a copy of the cookie stops working."""
    if user is not None:
        sessions.sign_out(session, user, sid=session_id(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: WebUser) -> Response:
    """The signed-in user's dashboard."""
    return render(
        request, "shell/pages/dashboard.html", {"dashboard": build_dashboard(session, user)}
    )
