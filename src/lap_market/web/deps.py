"""What every web router shares: CSRF checking on state-changing requests."""

from fastapi import APIRouter, Depends, Request

from lap_market.accounts.deps import CSRF_COOKIE
from lap_market.accounts.security import csrf_token_valid
from lap_market.errors import Forbidden

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
