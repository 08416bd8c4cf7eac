"""In-app notifications to organisations about tenders they take part in."""

from collections.abc import Iterable

from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.errors import NotFound
from lap_market.tenders.models import Bid, BidStatus, Notification, Question


def notify(
    session: Session,
    organisation_ids: Iterable[int],
    *,
    tender_id: int | None,
    kind: str,
    message: str,
) -> None:
    """One notification for each organisation (duplicates collapsed)."""
    now = clock.now()
    for organisation_id in sorted(set(organisation_ids)):
        session.add(
            Notification(
                organisation_id=organisation_id,
                tender_id=tender_id,
                kind=kind,
                message=message,
                created_at=now,
            )
        )


def bidder_org_ids(session: Session, tender_id: int, lot_id: int | None = None) -> set[int]:
    """Organisations holding an active bid in the tender (or in one lot of it)."""
    query = select(Bid.provider_id).where(
        Bid.tender_id == tender_id, Bid.status == BidStatus.ACTIVE
    )
    if lot_id is not None:
        query = query.where(Bid.lot_id == lot_id)
    return set(session.exec(query).all())


def asker_org_ids(session: Session, tender_id: int) -> set[int]:
    """Organisations that asked a clarification question on the tender."""
    return set(
        session.exec(select(Question.asked_by_org_id).where(Question.tender_id == tender_id)).all()
    )


def provider_org_ids(session: Session) -> set[int]:
    """Every provider organisation (LMA and contractors)."""
    kinds = [OrgKind.LMA, OrgKind.CONTRACTOR]
    rows = session.exec(select(Organisation.id).where(col(Organisation.kind).in_(kinds))).all()
    return {int(org_id) for org_id in rows if org_id is not None}


def list_notifications(
    session: Session, actor: User, *, unread_only: bool = False, limit: int = 200
) -> list[Notification]:
    """The actor's organisation's notifications, newest first."""
    query = select(Notification).where(Notification.organisation_id == actor.organisation_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    # By time: rows written under a moved clock (demo data, back-dated events) are not in id
    # order; the id only breaks ties.
    newest = (col(Notification.created_at).desc(), col(Notification.id).desc())
    return list(session.exec(query.order_by(*newest).limit(limit)).all())


def unread_count(session: Session, actor: User) -> int:
    """How many of the organisation's notifications nobody has read yet."""
    return int(
        session.exec(
            select(func.count()).where(
                Notification.organisation_id == actor.organisation_id,
                col(Notification.read_at).is_(None),
            )
        ).one()
    )


def mark_read(session: Session, actor: User, notification_id: str) -> Notification:
    """Mark one of the organisation's notifications (by public id) read (404 for another
    organisation's)."""
    notification = session.exec(
        select(Notification).where(Notification.public_id == notification_id)
    ).first()
    if notification is None or notification.organisation_id != actor.organisation_id:
        raise NotFound("No such notification.", field="notification_id")
    if notification.read_at is None:
        notification.read_at = clock.now()
        session.add(notification)
        audit.record(
            session,
            actor,
            action="notification.read",
            object_type="notification",
            object_id=notification.public_id,
        )
    return notification
