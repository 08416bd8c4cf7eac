"""The page where each person chooses how they hear about each kind of message."""

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts.deps import WebUser
from lap_market.db import SessionDep
from lap_market.errors import DomainError
from lap_market.notifications import preferences
from lap_market.notifications.kinds import Mode
from lap_market.notifications.schemas import PreferenceIn
from lap_market.templating import render
from lap_market.web.deps import web_router

router = web_router()
MODE_LABELS = {Mode.IMMEDIATE: "Email straight away", Mode.DAILY: "Daily digest at 07:00",
               Mode.OFF: "Off"}


def _page(request: Request, session: SessionDep, user: WebUser, *,
          errors: dict[str, str] | None = None, saved: bool = False) -> Response:
    return render(
        request, "notifications/pages/preferences.html",
        {"prefs": preferences.get_preferences(session, user).preferences,
         "modes": MODE_LABELS, "errors": errors or {}, "saved": saved},
        status_code=422 if errors else 200,
    )


@router.get("/account/notifications", response_class=HTMLResponse)
def preferences_page(request: Request, session: SessionDep, user: WebUser,
                     saved: bool = False) -> Response:
    """The signed-in person's choices, one group of radio buttons per kind."""
    return _page(request, session, user, saved=saved)


@router.post("/account/notifications", response_class=HTMLResponse)
async def save_preferences(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Save the form; a kind that cannot be turned off is refused beside its field."""
    form = await request.form()
    changes: list[PreferenceIn] = []
    errors: dict[str, str] = {}
    for pref in preferences.get_preferences(session, user).preferences:
        value = form.get(pref.kind)
        if value is None:
            continue
        if value not in set(Mode):
            errors[pref.kind] = "Choose how you want to hear about this"
            continue
        changes.append(PreferenceIn(kind=pref.kind, mode=Mode(str(value))))
    if not errors:
        try:
            preferences.set_preferences(session, user, changes)
        except DomainError as exc:
            session.rollback()
            errors[exc.field or "form"] = exc.detail
    if errors:
        return _page(request, session, user, errors=errors)
    return RedirectResponse("/account/notifications?saved=1", status_code=303)
