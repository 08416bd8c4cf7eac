"""The page where each person chooses how they hear about each kind of message."""

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from lap_market.accounts.deps import WebUser
from lap_market.accounts.models import User
from lap_market.db import SessionDep
from lap_market.notifications import preferences
from lap_market.notifications.kinds import Mode
from lap_market.notifications.schemas import PreferenceIn
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, perform, read_form
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors

router = web_router()
MODE_LABELS = {Mode.IMMEDIATE: "Email straight away", Mode.DAILY: "Daily digest at 07:00",
               Mode.OFF: "Off"}


def _page(request: Request, session: SessionDep, user: WebUser, *,
          errors: dict[str, str] | None = None) -> Response:
    return render(
        request, "notifications/pages/preferences.html",
        {"prefs": preferences.get_preferences(session, user).preferences,
         "modes": MODE_LABELS, "errors": errors or {}},
    )


@router.get("/account/notifications", response_class=HTMLResponse)
def preferences_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """The signed-in person's choices, one group of radio buttons per kind."""
    return _page(request, session, user)


def _changes(session: Session, user: User, form: dict[str, str]) -> list[PreferenceIn]:
    """The kinds the form sets; FormErrors naming each kind given a mode that is not one."""
    changes: list[PreferenceIn] = []
    errors: dict[str, str] = {}
    for pref in preferences.get_preferences(session, user).preferences:
        value = form.get(pref.kind)
        if value is None:
            continue
        if value not in set(Mode):
            errors[pref.kind] = "Choose how you want to hear about this"
            continue
        changes.append(PreferenceIn(kind=pref.kind, mode=Mode(value)))
    if errors:
        raise FormErrors(errors)
    return changes


@router.post("/account/notifications", response_class=HTMLResponse)
async def save_preferences(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Save the form; a kind that cannot be turned off is refused beside its field."""
    form = await read_form(request)
    return await perform(request, session, FormAction(
        model=NoFields,
        run=lambda _: preferences.set_preferences(session, user, _changes(session, user, form)),
        page=lambda errors, _form: _page(request, session, user, errors=errors),
        done=lambda _: "/account/notifications",
        message=lambda _: "Your choices have been saved.",
    ), form)
