"""Who is asking: bearer tokens for the API, the session cookie for the web app."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer

from lap_market.accounts import policy, sessions
from lap_market.accounts.models import Role, User
from lap_market.accounts.security import decode_access_token
from lap_market.accounts.throttle import client_address
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.db import SessionDep, on_loop
from lap_market.errors import DomainError, Forbidden, Unauthenticated
from lap_market.modeling import pk

SESSION_COOKIE = "lap_session"


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, detached from any database session."""

    id: int
    name: str
    email: str
    role: str
    organisation_id: int
    sells: bool = False  # a provider, or a borough manager whose borough sells

CSRF_COOKIE = "lap_csrf"

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_client_address(request: Request, settings: SettingsDep) -> str:
    """Where the request came from: the socket peer, or what a trusted proxy forwarded."""
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    peer = request.client.host if request.client else None
    return client_address(peer, forwarded, settings.trusted_proxies)


ClientAddress = Annotated[str, Depends(get_client_address)]


async def api_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    """The user whose open session a bearer token names; 401 for a missing, expired, forged
    or signed-out token. The session id is kept on ``request.state.session_id``.

    One read by a unique index, done on the event loop for every route (see
    ``db.runs_on_loop``): a thread of its own would cost more than the read."""
    if not token:
        raise Unauthenticated("Not signed in: send a bearer token.")
    claims = decode_access_token(token, secret=settings.secret_key, now=clock.now())
    user = await on_loop(session, lambda: sessions.user_for_token(session, claims))
    request.state.session_id = claims.sid
    return user


CurrentUser = Annotated[User, Depends(api_user)]


def session_id(request: Request) -> str:
    """The signed-in request's session id (set by ``api_user`` / ``web_user_optional``)."""
    sid: str = request.state.session_id
    return sid


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only ``roles`` through (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(
                "This needs the role " + " or ".join(r.value for r in roles) + "."
            )
        return user

    return check


def provider_user(user: CurrentUser) -> User:
    """A dependency that lets only providers through, a selling borough's managers too."""
    if not policy.is_provider(user):
        raise Forbidden("This needs the role provider (or a borough that sells).")
    return user


def api_router(tag: str) -> APIRouter:
    """A domain's JSON router: under /api/v1, grouped under ``tag`` in the API docs."""
    return APIRouter(prefix="/api/v1", tags=[tag])


# The API's route-level guards, one per role: 401 without a token, 403 for another role.
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
OfficerUser = Annotated[User, Depends(require_role(Role.PROCUREMENT_OFFICER))]
# Providers, and the managers of a borough that sells (issue 17).
ProviderUser = Annotated[User, Depends(provider_user)]
BoroughManagerUser = Annotated[User, Depends(require_role(Role.BOROUGH_MANAGER))]


class LoginRequired(DomainError):
    """Raised by web routes when there is no valid session; rendered as a redirect."""

    status_code = 401
    code = "login_required"


def web_user_optional(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user of a browser, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = decode_access_token(token, secret=settings.secret_key, now=clock.now())
        user = sessions.user_for_token(session, claims)
    except Unauthenticated:
        return None
    request.state.session_id = claims.sid
    # The page shell shows who is signed in, even on error pages rendered after a rollback
    # has expired the ORM object, so it keeps a plain snapshot.
    request.state.user = SignedIn(
        id=pk(user), name=user.name, email=user.email, role=user.role,
        organisation_id=user.organisation_id, sells=policy.is_provider(user),
    )
    return user


async def web_user(user: Annotated[User | None, Depends(web_user_optional)]) -> User:
    """The signed-in user of a browser; otherwise a redirect to the login page."""
    if user is None:
        raise LoginRequired("Please sign in.")
    return user


WebUser = Annotated[User, Depends(web_user)]
OptionalWebUser = Annotated[User | None, Depends(web_user_optional)]


def web_provider(user: WebUser) -> User:
    """Web counterpart of ``provider_user``."""
    if not policy.is_provider(user):
        raise Forbidden("You do not have access to this page.")
    return user


def web_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """Web counterpart of ``require_role``."""

    async def check(user: WebUser) -> User:
        if user.role not in roles:
            raise Forbidden("You do not have access to this page.")
        return user

    return check
