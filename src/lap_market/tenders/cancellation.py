"""Cancelling a whole tender or one lot before award: its demand goes back to the boroughs'
queue and bidders are told."""


from sqlalchemy import update
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict, Invalid
from lap_market.modeling import pk
from lap_market.notifications import events
from lap_market.tenders import notifications
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.service import (
    conditional_update,
    get_lot,
    get_tender_for_officer,
    settle_tender,
    tender_lots,
)


def _release_demand(session: Session, lot_ids: list[int]) -> list[Demand]:
    """Send the lots' demand back to ``submitted``, free to be tendered again."""
    if not lot_ids:
        return []
    demands = list(session.exec(select(Demand).where(col(Demand.lot_id).in_(lot_ids))).all())
    now = clock.now()
    for demand in demands:
        demand.status = DemandStatus.SUBMITTED
        demand.tender_id = None
        demand.lot_id = None
        demand.updated_at = now
        session.add(demand)
    return demands


def _has_award(session: Session, tender_id: int, lot_id: int | None = None) -> bool:
    query = select(Award.id).where(
        Award.tender_id == tender_id, Award.status == AwardStatus.STANDSTILL
    )
    if lot_id is not None:
        query = query.where(Award.lot_id == lot_id)
    return session.exec(query).first() is not None


def release_lot_demand(session: Session, lot: Lot) -> list[Demand]:
    """The needs pooled into a lot that closed without an award go back to ``submitted``,
    free to be tendered again (their boroughs are told by the caller's event)."""
    return _release_demand(session, [pk(lot)])


def _borough_names(session: Session, demands: list[Demand]) -> list[str]:
    ids = {d.borough_id for d in demands}
    if not ids:
        return []
    return sorted(
        session.exec(select(Organisation.name).where(col(Organisation.id).in_(ids))).all()
    )


def cancel_tender(session: Session, actor: User, tender_id: int, *, reason: str) -> Tender:
    """Cancel a whole tender before any award; its demand returns to ``submitted``."""
    tender = get_tender_for_officer(session, actor, tender_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("Give the reason for cancelling.", field="reason")
    if tender.status not in (TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED):
        raise Conflict(f"A tender that is {tender.status} cannot be cancelled.")
    if _has_award(session, tender.id):  # type: ignore[arg-type]
        raise Conflict("A lot of this tender has been awarded: revoke the award first.")
    now = clock.now()
    if not conditional_update(
        session,
        update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status).in_(
                [TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED]
            ),
        )
        .values(
            status=TenderStatus.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
        ),
    ):
        raise Conflict("This tender changed while you were cancelling it; please reload.")
    session.refresh(tender)
    lots = [lot for lot in tender_lots(session, tender) if lot.status == LotStatus.OPEN]
    for lot in lots:
        lot.status = LotStatus.CANCELLED
        lot.cancel_reason = reason
        session.add(lot)
    bidders = notifications.bidder_org_ids(session, tender.id)  # type: ignore[arg-type]
    demands = _release_demand(session, [lot.id for lot in lots])  # type: ignore[misc]
    audit.record(
        session,
        actor,
        action="tender.cancelled",
        object_type="tender",
        object_id=tender.id,
        details={
            "reference": tender.reference,
            "reason": reason,
            "demand_ids": [d.id for d in demands],
            "boroughs": _borough_names(session, demands),
        },
    )
    if tender.published_at is not None:
        notifications.notify(
            session,
            bidders | notifications.asker_org_ids(session, tender.id),  # type: ignore[arg-type]
            tender_id=tender.id,
            kind="cancelled",
            message=f"{tender.reference} “{tender.title}” has been cancelled: {reason}",
        )
    events.demand_returned(session, tender, {d.borough_id for d in demands})
    return tender


def cancel_lot(session: Session, actor: User, tender_id: int, lot_id: int, *, reason: str) -> Lot:
    """Cancel one lot before its award; its demand returns to ``submitted``."""
    tender = get_tender_for_officer(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("Give the reason for cancelling.", field="reason")
    if tender.status not in (TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED):
        raise Conflict(f"A lot of a tender that is {tender.status} cannot be cancelled.")
    if not conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
        .values(status=LotStatus.CANCELLED, cancel_reason=reason),
    ):
        raise Conflict(f"Lot {lot.number} is {lot.status}: only an open lot can be cancelled.")
    session.refresh(lot)
    bidders = notifications.bidder_org_ids(session, tender.id, lot.id)  # type: ignore[arg-type]
    demands = _release_demand(session, [lot.id])  # type: ignore[list-item]
    audit.record(
        session,
        actor,
        action="lot.cancelled",
        object_type="lot",
        object_id=lot.id,
        details={
            "tender_id": tender.id,
            "number": lot.number,
            "reason": reason,
            "demand_ids": [d.id for d in demands],
            "boroughs": _borough_names(session, demands),
        },
    )
    notifications.notify(
        session,
        bidders,
        tender_id=tender.id,
        kind="lot_cancelled",
        message=f"Lot {lot.number} of {tender.reference} has been cancelled: {reason}",
    )
    events.demand_returned(session, tender, {d.borough_id for d in demands}, lot=lot)
    settle_tender(session, tender)
    return lot
