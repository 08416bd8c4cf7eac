"""Admin page: the email outbox, readable when no SMTP server is configured."""

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from lap_market.accounts.deps import web_role
from lap_market.accounts.models import Role, User
from lap_market.db import SessionDep
from lap_market.mail import service
from lap_market.primitives import Line
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, form_action
from lap_market.web.deps import web_router

router = web_router()
AdminPage = Annotated[User, Depends(web_role(Role.ADMIN))]


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The newest emails with their status and bodies."""
    return _outbox(request, session, admin, status or "")


def _outbox(request: Request, session: Session, admin: User, status: str,
            errors: dict[str, str] | None = None) -> Response:
    messages, counts = service.list_outbox(session, admin, status=status or None)
    return render(
        request, "mail/pages/outbox.html",
        {"messages": messages, "counts": counts, "status": status, "errors": errors or {},
         "smtp_configured": bool(request.app.state.settings.smtp_url)},
    )


@router.post("/admin/outbox/{message_id}/resend", response_class=HTMLResponse)
async def resend_message(request: Request, session: SessionDep, admin: AdminPage,
                         message_id: Annotated[Line, Path(max_length=32)]) -> Response:
    """Send a message again, with the same Message-ID."""
    return await form_action(request, session, FormAction(
        model=NoFields,
        run=lambda _: service.resend(session, admin, message_id),
        page=lambda errors, _form: _outbox(request, session, admin, "", errors),
        done=lambda _: "/admin/outbox",
        message=lambda _: "The message will be sent again, with the same Message-ID.",
        keep_status=True,  # nothing to resend yet is a 409, as the API answers
    ))
