"""The audit log page for officers and admins."""

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from lap_market.accounts.deps import WebUser
from lap_market.audit import service
from lap_market.db import SessionDep
from lap_market.primitives import Line, PageNumber
from lap_market.templating import render
from lap_market.web.deps import web_router

router = web_router()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    user: WebUser,
    action: Line | None = None,
    object_type: Line | None = None,
    page: PageNumber = 1,
) -> Response:
    """Audit events, newest first, filterable in place."""
    events, total = service.list_events(
        session, user, action=action or None, object_type=object_type or None, page=page,
        page_size=50,
    )
    return render(
        request, "shell/pages/audit.html",
        {"events": events, "total": total, "page": page, "action": action or "",
         "object_type": object_type or ""},
        block="results",
    )
