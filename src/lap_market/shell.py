"""What every HTTP response carries: a request id, the CSRF cookie, security and cache
headers, and one JSON log line.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs the rest of the app in a task group and streams the response
through a memory channel, which cost about a tenth of a short request's CPU (issue 11).
Here the headers are added to the ``http.response.start`` message as it passes.
"""

import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lap_market.accounts.deps import CSRF_COOKIE, SESSION_COOKIE
from lap_market.config import Settings

log = logging.getLogger("lap_market.request")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'; frame-ancestors 'none'"
)
# Swagger UI injects <style> elements; its page carries no user data.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
# Sent with HSTS when cookies are marked Secure (i.e. the service is only reached over HTTPS).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"
STATIC_PREFIXES = ("/static/", "/api/docs-assets/")


class Shell:
    """ASGI middleware wrapping every HTTP request of the app."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _request_headers(scope)
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        cookies = _cookies(headers.get("cookie", ""))
        csrf_cookie = cookies.get(CSRF_COOKIE)
        new_csrf = csrf_cookie is None or len(csrf_cookie) < 20
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["csrf_cookie"] = secrets.token_urlsafe(24) if new_csrf else csrf_cookie
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                self._decorate(scope, headers, cookies, out, new_csrf=new_csrf)
                out["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.settings.log_requests:
                self._log(scope, status, started, request_id)

    def _decorate(
        self,
        scope: Scope,
        request_headers: Mapping[str, str],
        cookies: Mapping[str, str],
        out: MutableHeaders,
        *,
        new_csrf: bool,
    ) -> None:
        path: str = scope["path"]
        secure = self.settings.cookie_secure
        if new_csrf and not path.startswith(("/api/", "/static/")):
            out.append("set-cookie", _csrf_cookie(scope["state"]["csrf_cookie"], secure=secure))
        security_headers(out, path, secure=secure)
        signed_in = (
            scope["state"].get("user") is not None
            or "authorization" in request_headers
            or SESSION_COOKIE in cookies
        )
        cache_headers(out, path, signed_in=signed_in)

    @staticmethod
    def _log(scope: Scope, status: int, started: float, request_id: str) -> None:
        log.info(
            json.dumps(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "request_id": request_id,
                }
            )
        )


def security_headers(headers: MutableHeaders, path: str, *, secure: bool) -> None:
    """The browser protections every response carries."""
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if secure:
        headers["Strict-Transport-Security"] = HSTS
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
    if path.startswith("/api/docs"):
        headers["Content-Security-Policy"] = DOCS_CSP


def cache_headers(headers: MutableHeaders, path: str, *, signed_in: bool) -> None:
    """No shared or browser cache keeps what a signed-in person saw, nor any API JSON; other
    dynamic responses default to no-store too unless their route chose otherwise."""
    if path.startswith(STATIC_PREFIXES):
        return
    api_json = path.startswith("/api/") and headers.get("content-type", "").startswith(
        "application/json"
    )
    if signed_in or api_json:
        if "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Cache-Control", "no-store")


def _request_headers(scope: Scope) -> dict[str, str]:
    # The few request headers the shell reads; a repeated one keeps its first value.
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key in ("x-request-id", "cookie", "authorization") and key not in found:
            found[key] = value.decode("latin-1")
    return found


def _cookies(header: str) -> dict[str, str]:
    return cookie_parser(header) if header else {}


def _csrf_cookie(value: str, *, secure: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[CSRF_COOKIE] = value
    morsel: Any = cookie[CSRF_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    if secure:
        morsel["secure"] = True
    return str(cookie.output(header="").strip())
