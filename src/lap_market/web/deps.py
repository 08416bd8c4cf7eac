"""What every web router shares: CSRF checking on state-changing requests, and the four
things a signed-in page route works with."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from lap_market.accounts.deps import CSRF_COOKIE, SettingsDep, WebUser
from lap_market.accounts.security import csrf_token_valid
from lap_market.db import SessionDep
from lap_market.errors import Forbidden
from lap_market.web.actions import FormAction, form_action, prefixed_action

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Forbidden):
    code = "csrf_refused"


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing browser request that lacks this browser's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    token = request.headers.get("X-CSRF-Token")
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached on the request, so the route still reads it
            value = form.get("csrf_token")
            token = value if isinstance(value, str) else None
    secret = request.app.state.settings.secret_key
    if not csrf_token_valid(secret, request.cookies.get(CSRF_COOKIE), token):
        raise CsrfRefused("The form has expired or did not come from this site. Please try again.")


def web_router() -> APIRouter:
    """A router for HTML pages; every state-changing route on it is CSRF-checked. Pages are
    left out of the OpenAPI document, which describes the JSON API only."""
    return APIRouter(dependencies=[Depends(verify_csrf)], tags=["web"], include_in_schema=False)


@dataclass
class WebCall:
    """One signed-in request to a page: the request, its session, the settings and the user.

    Routes that show the same page again after a refused form pass this one value along,
    instead of the four, to the function that draws the page."""

    request: Request
    session: SessionDep
    settings: SettingsDep
    user: WebUser

    async def act(self, action: FormAction[Any, Any], *, prefixed: bool = False) -> Response:
        """Perform a state-changing form post (see ``web.actions.FormAction``); ``prefixed``
        when the form is one of several on its page (see ``web.actions.prefixed_action``)."""
        perform = prefixed_action if prefixed else form_action
        return await perform(self.request, self.session, action)


async def web_call(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser
) -> WebCall:
    """The dependency behind ``WebCallDep``: async, as it touches no database, so FastAPI
    builds it on the event loop rather than in a worker thread (a class would run there)."""
    return WebCall(request, session, settings, user)


WebCallDep = Annotated[WebCall, Depends(web_call)]
