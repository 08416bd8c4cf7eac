"""Sealed bids: a provider's one bid per lot, replaceable and withdrawable until the deadline.

Nothing about a bid — price, statement or bidder — is shown to anyone but its provider before
the submission deadline. That includes the audit trail: bid events record who did what (actor
and organisation) but are sealed to the tender, so every audit listing leaves them out until
the deadline has passed and then shows them in full. Outside the database a bid is known
only by its random public id, never by its sequential row id.
"""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.accounts.policy import require
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.modeling import pk
from lap_market.money import from_pence, to_pence
from lap_market.notifications import events
from lap_market.tenders.models import Bid, BidStatus, Lot, Tender, eager
from lap_market.tenders.policy import (
    bids_sealed,
    can_bid,
    is_provider,
    lot_takes_bids,
    oversees_bids,
    pools_own_demand,
    require_provider,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import BidIn, BidRead, LotBidCount, TenderBids
from lap_market.tenders.service import (
    bid_counts,
    get_lot,
    get_tender,
    required_text,
    tender_lots,
)


def _sealed_event(session: Session, actor: User, bid: Bid, event: str) -> None:
    # Sealed to the tender: unlisted until its deadline, see the module docstring.
    audit.record(
        session,
        actor,
        action=f"bid.{event}",
        object_type="bid",
        object_id=bid.public_id,
        details={"tender_id": bid.tender_id, "lot_id": bid.lot_id, "event": f"bid {event}"},
        sealed_tender_id=bid.tender_id,
    )


def _open_for_bids(
    session: Session, actor: User, tender_id: int, lot_id: int
) -> tuple[Tender, Lot]:
    require_provider(actor)
    tender = get_tender(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    if not can_bid(actor, tender):
        raise Conflict(f"Bids are not accepted: the tender is {effective_status(tender)}.")
    if not lot_takes_bids(lot):
        raise Conflict(f"Lot {lot.number} is {lot.status}: it takes no bids.")
    if pools_own_demand(session, actor, pk(lot)):
        raise Conflict(
            f"Lot {lot.number} ({lot.title}) pools your own borough's demand: "
            "you cannot bid for it.", field="lot_id",
        )
    return tender, lot


def _still_open(actor: User, tender: Tender) -> None:
    """Check the deadline again once the bid is written, so a bid that took until after the
    deadline to store is refused (and rolled back) rather than slipped in."""
    if not can_bid(actor, tender, clock.now()):
        raise Conflict("The submission deadline has passed.")


def submit_bid(
    session: Session, actor: User, tender_id: int, lot_id: int, *, data: BidIn
) -> tuple[Bid, bool]:
    """Create or replace the provider's bid for a lot. Returns the bid and whether it is new."""
    tender, lot = _open_for_bids(session, actor, tender_id, lot_id)
    if data.unit_price <= 0:
        raise Invalid("The unit price must be more than zero.", field="unit_price")
    statement = required_text(
        data.quality_statement, field="quality_statement", message="Enter your quality statement."
    )
    now = clock.now()
    bid = session.exec(
        select(Bid).where(Bid.lot_id == lot.id, Bid.provider_id == actor.organisation_id)
    ).first()
    created = bid is None or bid.status == BidStatus.WITHDRAWN
    if bid is None:
        bid = Bid(
            tender_id=pk(tender),
            lot_id=pk(lot),
            provider_id=actor.organisation_id,
            submitted_by_id=pk(actor),
            unit_price_pence=to_pence(data.unit_price),
            quality_statement=statement,
            submitted_at=now,
            updated_at=now,
        )
    elif created:
        bid.submitted_at = now
    # A replaced or resubmitted bid is a new offer: its old score no longer applies.
    bid.unit_price_pence = to_pence(data.unit_price)
    bid.quality_statement = statement
    bid.status = BidStatus.ACTIVE
    bid.submitted_by_id = pk(actor)
    bid.quality_score = None
    bid.scored_by_id = None
    bid.updated_at = now
    session.add(bid)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Your organisation's bid for this lot was changed at the same time."
        ) from exc
    _still_open(actor, tender)
    _sealed_event(session, actor, bid, "submitted" if created else "replaced")
    events.bid_received(session, tender, lot, provider_id=actor.organisation_id,
                        received_at=now, replaced=not created)
    return bid, created


def withdraw_bid(session: Session, actor: User, tender_id: int, lot_id: int) -> Bid:
    """Withdraw the provider's bid for a lot before the deadline."""
    tender, lot = _open_for_bids(session, actor, tender_id, lot_id)
    bid = session.exec(
        select(Bid).where(
            Bid.lot_id == lot.id,
            Bid.provider_id == actor.organisation_id,
            Bid.status == BidStatus.ACTIVE,
        )
    ).first()
    if bid is None:
        raise NotFound("Your organisation has no bid for this lot.")
    bid.status = BidStatus.WITHDRAWN
    bid.updated_at = clock.now()
    session.add(bid)
    session.flush()
    _still_open(actor, tender)
    _sealed_event(session, actor, bid, "withdrawn")
    return bid


def bid_read(bid: Bid) -> BidRead:
    """The API view of a bid; its provider is loaded on first use unless eagerly loaded."""
    return BidRead(
        id=bid.public_id,
        tender_id=bid.tender_id,
        lot_id=bid.lot_id,
        provider=bid.provider.name,
        unit_price=from_pence(bid.unit_price_pence),
        quality_statement=bid.quality_statement,
        status=bid.status,
        quality_score=bid.quality_score,
        submitted_at=as_utc(bid.submitted_at),
        updated_at=as_utc(bid.updated_at),
    )


def own_bids(session: Session, actor: User, tender: Tender) -> dict[int, Bid]:
    """The actor's organisation's bids in a tender, by lot (withdrawn ones included)."""
    rows = session.exec(
        select(Bid).where(Bid.tender_id == tender.id, Bid.provider_id == actor.organisation_id)
    ).all()
    return {b.lot_id: b for b in rows}


def tender_bids(session: Session, actor: User, tender_id: int) -> TenderBids:
    """What the actor may see of the bids: a provider its own; an officer the count per lot
    until the deadline, then every bid; a borough nothing."""
    tender = get_tender(session, actor, tender_id)
    sealed = bids_sealed(tender)
    if is_provider(actor):
        mine = sorted(own_bids(session, actor, tender).values(), key=lambda b: b.lot_id)
        return TenderBids(sealed=sealed, lots=[], bids=[bid_read(b) for b in mine])
    require(
        oversees_bids(actor), "Only officers and the bidding providers may see bids."
    )
    counts = bid_counts(session, tender)
    lots = [
        LotBidCount(lot_id=pk(lot), bid_count=counts.get(pk(lot), 0))
        for lot in tender_lots(session, tender)
    ]
    if sealed:
        return TenderBids(sealed=True, lots=lots, bids=[])
    every = session.exec(
        select(Bid)
        .where(Bid.tender_id == tender.id)
        .options(eager(Bid.provider))
        .order_by(col(Bid.lot_id), col(Bid.id))
    ).all()
    return TenderBids(sealed=False, lots=lots, bids=[bid_read(b) for b in every])
