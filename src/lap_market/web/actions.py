"""The one path every state-changing web route takes.

A form post is read, validated into the route's schema, handed to a service, and then either
shown again with every refusal beside its field (422, the whole page or the HTMX block) or
answered with a redirect that carries a success message to the next page. Routes describe
their page, their service call and their destination; nothing else in a route catches errors.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlmodel import Session

from lap_market.db import in_worker_thread
from lap_market.errors import DomainError, InvalidFields
from lap_market.templating import FLASH_COOKIE
from lap_market.web.forms import FormErrors, parse_form

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# A message travels one redirect; a minute is plenty and keeps a stale one from resurfacing.
FLASH_SECONDS = 60
FORM_VALUE_LIMIT = 20_000

Form = dict[str, str]
Errors = dict[str, str]


async def read_form(request: Request) -> Form:
    """The posted fields as text (files and the CSRF token left out), each value bounded."""
    raw = await request.form()
    return {
        key: value[:FORM_VALUE_LIMIT]
        for key, value in raw.items()
        if key != "csrf_token" and isinstance(value, str)
    }


def with_flash(response: Response, message: str) -> Response:
    """Carry ``message`` to the next page the browser loads."""
    response.set_cookie(
        FLASH_COOKIE, quote(message[:500]), max_age=FLASH_SECONDS,
        httponly=True, samesite="lax", path="/",
    )
    return response


def redirect(url: str, message: str | None = None) -> Response:
    """A 303 to ``url``, with a success message shown there when given."""
    response = RedirectResponse(url, status_code=303)
    return with_flash(response, message) if message else response


def pending_flash(request: Request) -> str | None:
    """The message a previous action left for this page, if any."""
    value = request.cookies.get(FLASH_COOKIE)
    return unquote(value) if value else None


def refused(session: Session, exc: DomainError, prefix: str = "") -> Errors:
    """A refused action's error by field; 403 and 404 are not form errors and go on up.

    The session is rolled back first so the page shown with the error reads what is stored,
    not what the refused action half-did.
    """
    if exc.status_code in (403, 404):
        raise exc
    session.rollback()
    if isinstance(exc, InvalidFields):
        return {prefix + name: message for name, message in exc.problems.items()}
    return {prefix + (exc.field or "form"): exc.detail}


@dataclass
class Attempt(Generic[T]):
    """What a step a page shows the outcome of came to: its result, or why not by field
    (``refusal`` keeps the domain error for pages that show more of it, a CSV file's rows)."""

    result: T | None = None
    errors: Errors = field(default_factory=dict)
    refusal: DomainError | None = None


def attempt(
    session: Session, run: Callable[[], T], refusals: tuple[type[DomainError], ...] = (DomainError,)
) -> Attempt[T]:
    """Run a step that is not a whole form action (a preview, a price check, an upload): a
    form that does not validate, or a refusal in ``refusals``, becomes errors by field with the
    session rolled back (see ``refused``; 403 and 404 go on up)."""
    try:
        return Attempt(result=run())
    except FormErrors as exc:
        return Attempt(errors=exc.errors)
    except refusals as exc:
        return Attempt(errors=refused(session, exc), refusal=exc)


class NoFields(BaseModel):
    """The schema of a form that is only a button (withdraw, publish, accept)."""


@dataclass
class FormAction(Generic[M, T]):
    """What a state-changing route is: a schema, a service call, and its two outcomes.

    ``run(data)`` calls the service with the validated form (``NoFields`` for a bare button);

    ``page(errors, form)`` shows the form again (status 422 is set here); ``done(result)``
    is where a successful action goes and ``message(result)`` what it says there;
    ``fragment(result)``, when given, answers an HTMX request in place instead of redirecting;
    ``after(result, response)`` adds what the success needs besides the redirect (signing in
    sets the session cookie). A refusal answers 422, or with ``keep_status`` its own status
    (401 and 429 on the sign-in form, 409 when a round has closed).
    """

    model: type[M]
    run: Callable[[M], T]
    page: Callable[[Errors, Form], Response]
    done: Callable[[T], str]
    message: Callable[[T], str | None] | None = None
    fragment: Callable[[T], Response] | None = None
    prefix: str = ""
    after: Callable[[T, Response], Response] | None = None
    keep_status: bool = False

    def perform(self, request: Request, session: Session, form: Form) -> Response:
        try:
            result = self.run(parse_form(self.model, form))
        except FormErrors as exc:
            session.rollback()
            return self._again({self.prefix + k: v for k, v in exc.errors.items()}, form)
        except DomainError as exc:
            status = exc.status_code if self.keep_status else 422
            return self._again(refused(session, exc, self.prefix), form, status)
        if self.fragment and request.headers.get("HX-Request") == "true":
            return self.fragment(result)
        response = redirect(self.done(result), self.message(result) if self.message else None)
        return self.after(result, response) if self.after else response

    def _again(self, errors: Errors, form: Form, status: int = 422) -> Response:
        response = self.page(errors, form)
        response.status_code = status
        return response


async def form_action(
    request: Request, session: Session, action: FormAction[Any, Any]
) -> Response:
    """Read the posted form and perform ``action`` with it."""
    return await perform(request, session, action, await read_form(request))


async def perform(
    request: Request, session: Session, action: FormAction[Any, Any], form: Form
) -> Response:
    """Perform ``action`` with a form already read, in a worker thread: the event loop is
    for reads only (``db.runs_on_loop``)."""
    return await in_worker_thread(lambda: action.perform(request, session, form))


async def prefixed_action(
    request: Request, session: Session, action: FormAction[Any, Any]
) -> Response:
    """Perform ``action`` with the fields named ``<prefix><field>`` (one form among several on
    a page). Errors come back under the prefixed names, and ``action.page`` receives the
    posted form as it was, so each value returns to its own box."""
    form = await read_form(request)
    fields = {
        key.removeprefix(action.prefix): value
        for key, value in form.items()
        if key.startswith(action.prefix)
    }
    page = action.page

    def again(errors: dict[str, str], _fields: Form) -> Response:
        return page(errors, form)

    action.page = again
    return await perform(request, session, action, fields)


def checked(
    run: Callable[[], T], refusals: tuple[type[DomainError], ...] = (DomainError,)
) -> tuple[T | None, Errors]:
    """A page's read that may refuse what was typed (a filter, a price calculator): its
    answer, or the refusal by field to show beside the inputs. Nothing was written, so
    nothing is rolled back; a refusal not in ``refusals`` goes on up."""
    try:
        return run(), {}
    except refusals as exc:
        return None, {exc.field or "form": exc.detail}
