"""Jinja templates (autoescaped) with jinja2-fragments, so HTMX swaps named blocks of a page."""

from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape

from lap_market.accounts.security import csrf_token_for
from lap_market.clock import format_london
from lap_market.db import REPO_ROOT
from lap_market.money import format_gbp
from lap_market.tenders.policy import can_cancel

# Set by lap_market.web.actions.redirect; read here so every page shows it without asking.
FLASH_COOKIE = "lap_flash"

TEMPLATES_DIR = REPO_ROOT / "templates"

templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
assert templates.env.autoescape, "templates must autoescape user text"


def _date(value: date | datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):  # an ISO timestamp kept in JSON (amendment history)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return format_london(parsed)
    if isinstance(value, datetime):  # people read London time, with GMT or BST beside it
        return format_london(value)
    return value.strftime("%-d %b %Y")


def _quantity(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}"


# Imported macros cannot see the page's variables, so the CSRF field reads the token of the
# request being rendered from here (rendering is synchronous, within render()).
_current_csrf_token: ContextVar[str] = ContextVar("csrf_token", default="")


def _csrf_input() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(_current_csrf_token.get())
    )


templates.env.globals["csrf_input"] = _csrf_input
templates.env.filters["gbp"] = format_gbp
templates.env.filters["when"] = _date
templates.env.filters["qty"] = _quantity
templates.env.globals["service_name"] = "LAP Market"
# Rules pages show or hide actions by, decided in the domains' policies (never in templates).
templates.env.globals["can_cancel"] = can_cancel


def is_htmx(request: Request) -> bool:
    """Whether HTMX sent the request (and wants a fragment)."""
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page, or only ``block`` of it when HTMX asked."""
    ctx: dict[str, Any] = {"request": request, **(context or {})}
    ctx.setdefault("user", getattr(request.state, "user", None))
    flash = request.cookies.get(FLASH_COOKIE)
    ctx.setdefault("flash", unquote(flash) if flash else None)
    ctx["csrf_token"] = csrf_token_for(
        request.app.state.settings.secret_key, request.state.csrf_cookie
    )
    block_name = block if (block and is_htmx(request)) else None
    reset = _current_csrf_token.set(ctx["csrf_token"])
    try:
        response = templates.TemplateResponse(
            request, template, ctx, status_code=status_code, headers=headers, block_name=block_name
        )
    finally:
        _current_csrf_token.reset(reset)
    assert isinstance(response, HTMLResponse)
    if flash and block_name is None:  # shown once, on the whole page it was meant for
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
