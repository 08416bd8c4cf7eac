"""The web shell: home, sign in and out, the role dashboard."""

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

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
from lap_market.accounts.schemas import LoginForm
from lap_market.config import Settings
from lap_market.db import SessionDep
from lap_market.templating import render
from lap_market.web.actions import FormAction, perform, read_form
from lap_market.web.dashboard import build_dashboard
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors

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


def _sign_in(session: Session, settings: Settings, address: str, data: LoginForm) -> str:
    """The new session's token; FormErrors naming each blank field first."""
    blank = {name: message for name, message in (
        ("email", "Enter your email address"),
        ("password", "Enter your password"),  # noqa: S105 - a message, not a secret
    ) if not getattr(data, name).strip()}
    if blank:
        raise FormErrors(blank)
    _user, token = accounts.sign_in(
        session, settings, email=data.email, password=data.password, client_address=address
    )
    return token


def _login_again(request: Request, errors: dict[str, str], form: dict[str, str]) -> Response:
    # A refused sign-in (wrong password, throttled) belongs beside the email address.
    if "form" in errors:
        errors = {"email": errors.pop("form"), **errors}
    return render(request, "shell/pages/login.html", {
        "next": _safe_next(form.get("next")), "errors": errors, "email": form.get("email", ""),
    })


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request, session: SessionDep, settings: SettingsDep, address: ClientAddress
) -> Response:
    """Check the credentials and start a cookie session."""
    form = await read_form(request)

    def with_cookie(token: str, response: Response) -> Response:
        response.set_cookie(
            SESSION_COOKIE, token, max_age=settings.token_minutes * 60, httponly=True,
            samesite="lax", secure=settings.cookie_secure, path="/",
        )
        return response

    return await perform(request, session, FormAction(
        model=LoginForm,
        run=lambda data: _sign_in(session, settings, address, data),
        page=lambda errors, form: _login_again(request, errors, form),
        done=lambda _token: _safe_next(form.get("next")),
        after=with_cookie,
        keep_status=True,
    ), form)


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
