"""Cancelling a whole tender or one lot before award: its demand goes back to the boroughs'
queue and bidders are told."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict
from lap_market.modeling import conditional_update, pk
from lap_market.notifications import events
from lap_market.tenders import notifications
from lap_market.tenders.models import Award, AwardStatus, Lot, LotStatus, Tender, TenderStatus
from lap_market.tenders.policy import CANCELLABLE, can_cancel
from lap_market.tenders.service import (
    get_officer_lot,
    get_tender_for_officer,
    move_open_lot,
    record_lot_event,
    record_tender_event,
    required_text,
    settle_tender,
    tender_lots,
)

BACK_IN_THE_PIPELINE = (
    "your needs in it are back with you as submitted, free to be tendered again."
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


def release_lot_demand(session: Session, lot: Lot) -> list[Demand]:
    """The needs pooled into a lot that closed without an award go back to ``submitted``,
    free to be tendered again (their boroughs are told by the caller's event)."""
    return _release_demand(session, [pk(lot)])


def _demand_details(session: Session, demands: list[Demand]) -> dict[str, Any]:
    """The released demand as the audit records it: ids and the boroughs' names."""
    ids = {d.borough_id for d in demands}
    names = (
        session.exec(select(Organisation.name).where(col(Organisation.id).in_(ids))).all()
        if ids
        else []
    )
    return {"demand_ids": [d.id for d in demands], "boroughs": sorted(names)}


def _announce(
    session: Session,
    tender: Tender,
    *,
    kind: str,
    parties: set[int],
    to_parties: str,
    demands: list[Demand],
    to_boroughs: str,
) -> None:
    """Tell the bidders (and askers) ``to_parties``, then the boroughs whose demand was
    released ``to_boroughs``."""
    notifications.notify(session, parties, tender_id=tender.id, kind=kind, message=to_parties)
    events.demand_returned(
        session, tender, {d.borough_id for d in demands}, kind=kind, message=to_boroughs
    )


def _has_award(session: Session, tender_id: int) -> bool:
    query = select(Award.id).where(
        Award.tender_id == tender_id, Award.status == AwardStatus.STANDSTILL
    )
    return session.exec(query).first() is not None


def _mark_cancelled(session: Session, tender: Tender, reason: str) -> list[Lot]:
    """Cancel the tender (only from a cancellable state, in one statement) and its open lots;
    returns those lots."""
    now = clock.now()
    if not conditional_update(
        session,
        update(Tender)
        .where(col(Tender.id) == tender.id, col(Tender.status).in_(sorted(CANCELLABLE)))
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
    return lots


def cancel_tender(session: Session, actor: User, tender_id: int, *, reason: str) -> Tender:
    """Cancel a whole tender before any award; its demand returns to ``submitted``."""
    tender = get_tender_for_officer(session, actor, tender_id)
    reason = required_text(reason, field="reason", message="Give the reason for cancelling.")
    if not can_cancel(tender):
        raise Conflict(f"A tender that is {tender.status} cannot be cancelled.")
    if _has_award(session, pk(tender)):
        raise Conflict("A lot of this tender has been awarded: revoke the award first.")
    lots = _mark_cancelled(session, tender, reason)
    bidders = notifications.bidder_org_ids(session, pk(tender))
    demands = _release_demand(session, [pk(lot) for lot in lots])
    record_tender_event(
        session,
        actor,
        tender,
        "tender.cancelled",
        reason=reason,
        **_demand_details(session, demands),
    )
    # Nobody outside the partnership saw a tender never published: only boroughs are told.
    published = tender.published_at is not None
    _announce(
        session,
        tender,
        kind="cancelled",
        parties=bidders | notifications.asker_org_ids(session, pk(tender)) if published else set(),
        to_parties=f"{tender.reference} “{tender.title}” has been cancelled: {reason}",
        demands=demands,
        to_boroughs=f"{tender.reference} has been cancelled; {BACK_IN_THE_PIPELINE}",
    )
    return tender


def cancel_lot(session: Session, actor: User, tender_id: int, lot_id: int, *, reason: str) -> Lot:
    """Cancel one lot before its award; its demand returns to ``submitted``."""
    tender, lot = get_officer_lot(session, actor, tender_id, lot_id)
    reason = required_text(reason, field="reason", message="Give the reason for cancelling.")
    if not can_cancel(tender):
        raise Conflict(f"A lot of a tender that is {tender.status} cannot be cancelled.")
    if not move_open_lot(session, lot, LotStatus.CANCELLED, cancel_reason=reason):
        raise Conflict(f"Lot {lot.number} is {lot.status}: only an open lot can be cancelled.")
    bidders = notifications.bidder_org_ids(session, pk(tender), pk(lot))
    demands = _release_demand(session, [pk(lot)])
    record_lot_event(
        session,
        actor,
        lot,
        "lot.cancelled",
        number=lot.number,
        reason=reason,
        **_demand_details(session, demands),
    )
    where = f"Lot {lot.number} of {tender.reference}"
    _announce(
        session,
        tender,
        kind="lot_cancelled",
        parties=bidders,
        to_parties=f"{where} has been cancelled: {reason}",
        demands=demands,
        to_boroughs=f"{where} has been cancelled; {BACK_IN_THE_PIPELINE}",
    )
    settle_tender(session, tender)
    return lot
