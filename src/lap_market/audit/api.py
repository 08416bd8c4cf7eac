"""JSON routes for the audit trail (read only: there is no update or delete path)."""

from typing import Annotated

from fastapi import Query

from lap_market.accounts.deps import CurrentUser, api_router
from lap_market.accounts.schemas import Page
from lap_market.audit import service
from lap_market.audit.schemas import AuditEventRead
from lap_market.db import SessionDep
from lap_market.primitives import BusinessDateTime, Id, Line, PageNumber

router = api_router("audit")


@router.get("/audit", response_model=Page[AuditEventRead])
def list_audit(
    session: SessionDep,
    user: CurrentUser,
    action: Line | None = None,
    object_type: Line | None = None,
    object_id: Line | None = None,
    actor_id: Id | None = None,
    organisation_id: Id | None = None,
    since: BusinessDateTime | None = None,
    until: BusinessDateTime | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEventRead]:
    """Audit events, newest first (officers and admins)."""
    events, total = service.list_events(
        session, user, action=action, object_type=object_type, object_id=object_id,
        actor_id=actor_id, organisation_id=organisation_id, since=since, until=until,
        page=page, page_size=page_size,
    )
    return Page[AuditEventRead](
        items=[AuditEventRead.of(e) for e in events], total=total
    )
