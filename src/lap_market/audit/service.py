"""Recording and reading the audit trail. Events are only ever added."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit.models import AuditEvent
from lap_market.audit.policy import require_log_reader
from lap_market.clock import clock
from lap_market.tenders.models import Tender


def unsealed() -> ColumnElement[bool]:
    """Events anyone may list now: not sealed, or sealed to a tender whose deadline has passed.

    Sealed events are left out entirely (not just anonymised), so their place in the order of
    events cannot tell who bid: a bid event right after a provider's sign-in would.
    """
    closed = select(Tender.id).where(
        col(Tender.submission_deadline).is_not(None),
        col(Tender.submission_deadline) <= clock.now(),
    )
    sealed_to = col(AuditEvent.sealed_tender_id)
    return or_(sealed_to.is_(None), sealed_to.in_(closed))


def newest_first() -> tuple[ColumnElement[Any], ...]:
    """Newest first: by time, then the internal id for events recorded in the same instant
    (used for order only, never shown, so it cannot count hidden events)."""
    return (col(AuditEvent.at).desc(), col(AuditEvent.id).desc())


def record(
    session: Session,
    actor: User | None,
    *,
    action: str,
    object_type: str,
    object_id: int | str | None,
    details: dict[str, Any] | None = None,
    organisation_id: int | None = None,
    sealed_tender_id: int | None = None,
) -> AuditEvent:
    """Add one audit event in the caller's transaction, so it commits or rolls back with it.

    ``sealed_tender_id``: the event stays out of every listing until that tender's submission
    deadline has passed (sealed bids), then shows in full.
    """
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor.id if actor else None,
        organisation_id=organisation_id
        if organisation_id is not None
        else (actor.organisation_id if actor else None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        details=_jsonable(details or {}),
        sealed_tender_id=sealed_tender_id,
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


def list_events(
    session: Session,
    actor: User,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
    organisation_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditEvent], int]:
    """Audit events, newest first; officers and admins only."""
    require_log_reader(actor)
    query = select(AuditEvent).where(unsealed())
    if action:
        query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(*newest_first()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), int(total)


def recent_for_organisation(
    session: Session, organisation_id: int, limit: int = 10
) -> list[AuditEvent]:
    """The latest events done by an organisation's own people, for its dashboard."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.organisation_id == organisation_id, unsealed())
            .order_by(*newest_first())
            .limit(limit)
        ).all()
    )
