"""“Needs your action”: the top of each dashboard lists what is waiting on the signed-in
person, each item linking to where it is done. A fixed number of queries per role, however
many tenders, questions, bids or contracts there are."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.catalogue.models import Offer, OfferStatus
from lap_market.clock import as_utc, clock
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.notifications import policy
from lap_market.notifications.messages import london_time
from lap_market.rounds.models import DemandRound, ReturnStatus, RoundReturn, RoundStatus
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Lot,
    LotStatus,
    Question,
    Tender,
    TenderStatus,
)
from lap_market.tenders.workdays import london_date

MAX_ITEMS = 8  # per group: the list is a prompt, the linked pages hold the rest
CLOSING_SOON = timedelta(days=7)
# A tender past its deadline may still read "published" until the scheduled job stores
# "closed", so both count as closed once the deadline has passed.
OPEN_OR_CLOSED = (TenderStatus.PUBLISHED, TenderStatus.CLOSED)


@dataclass(frozen=True)
class ActionItem:
    label: str
    href: str
    detail: str = ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _unanswered_questions(session: Session) -> list[ActionItem]:
    rows = session.exec(
        select(Tender.id, Tender.reference, func.count(col(Question.id)))
        .join(Question, col(Question.tender_id) == Tender.id)
        .where(col(Question.answer).is_(None), col(Tender.status).in_(OPEN_OR_CLOSED))
        .group_by(col(Tender.id), col(Tender.reference))
        .order_by(col(Tender.reference))
        .limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Answer {_plural(n, 'question')} on {ref}", f"/tenders/{tid}#questions")
            for tid, ref, n in rows]


def _bids_to_score(session: Session) -> list[ActionItem]:
    rows = session.exec(
        select(Tender.id, Tender.reference, func.count(col(Bid.id)))
        .join(Bid, col(Bid.tender_id) == Tender.id)
        .join(Lot, col(Lot.id) == Bid.lot_id)
        .where(col(Tender.status).in_(OPEN_OR_CLOSED),
               col(Tender.submission_deadline) <= clock.now(),
               Bid.status == BidStatus.ACTIVE, col(Bid.quality_score).is_(None),
               Lot.status == LotStatus.OPEN)
        .group_by(col(Tender.id), col(Tender.reference))
        .order_by(col(Tender.reference))
        .limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Score {_plural(n, 'bid')} on {ref}", f"/tenders/{tid}#evaluation",
                       "The submission deadline has passed.") for tid, ref, n in rows]


def _call_offs_ready(session: Session) -> list[ActionItem]:
    # A standstill is over from midnight London time after its last day (workdays rule).
    rows = session.execute(
        sa.select(col(Tender.id), col(Tender.reference), col(Lot.id), col(Lot.number),
                  col(Award.standstill_ends))
        .join(Lot, col(Lot.id) == Award.lot_id)
        .join(Tender, col(Tender.id) == Award.tender_id)
        .where(col(Award.status) == AwardStatus.STANDSTILL, col(Lot.status) == LotStatus.AWARDED,
               col(Award.standstill_ends) < london_date(clock.now()))
        .order_by(col(Award.standstill_ends), col(Lot.id))
        .limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Issue the call-offs for {ref} lot {number}",
                       f"/tenders/{tid}/lots/{lot_id}/call-offs",
                       f"Standstill ended {ends:%-d %b %Y}.")
            for tid, ref, lot_id, number, ends in rows]


def _contracts_waiting(session: Session) -> list[ActionItem]:
    waiting_buyer = func.sum(sa.case((col(Contract.buyer_accepted_at).is_(None), 1), else_=0))
    waiting_supplier = func.sum(
        sa.case((col(Contract.supplier_accepted_at).is_(None), 1), else_=0))
    total, buyers, suppliers = session.exec(
        select(func.count(), waiting_buyer, waiting_supplier)
        .where(Contract.status == ContractStatus.ISSUED)
    ).one()
    if not total:
        return []
    return [ActionItem(f"{_plural(int(total), 'contract')} waiting on a party's acceptance",
                       "/contracts?status=issued",
                       f"{int(buyers or 0)} on the borough, "
                       f"{int(suppliers or 0)} on the supplier.")]


def _contracts_to_accept(session: Session, user: User) -> list[ActionItem]:
    buyer = policy.accepts_as_buyer(user)
    party = col(Contract.buyer_id if buyer else Contract.supplier_id)
    accepted = col(Contract.buyer_accepted_at if buyer else Contract.supplier_accepted_at)
    rows = session.exec(
        select(Contract.id, Contract.reference, Contract.issued_at)
        .where(party == user.organisation_id, Contract.status == ContractStatus.ISSUED,
               accepted.is_(None))
        .order_by(col(Contract.issued_at), col(Contract.id))
        .limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Accept contract {ref}", f"/contracts/{cid}",
                       f"Issued {london_time(as_utc(issued))}.") for cid, ref, issued in rows]


def _closing_soon(session: Session, user: User) -> list[ActionItem]:
    now = clock.now()
    offered = select(Offer.category_id).where(Offer.provider_id == user.organisation_id,
                                              Offer.status == OfferStatus.PUBLISHED)
    bid_on = select(Bid.tender_id).where(Bid.provider_id == user.organisation_id,
                                         Bid.status == BidStatus.ACTIVE)
    rows = session.exec(
        select(Tender.id, Tender.reference, Tender.title, Tender.submission_deadline)
        .where(Tender.status == TenderStatus.PUBLISHED,
               col(Tender.submission_deadline) > now,
               col(Tender.submission_deadline) <= now + CLOSING_SOON,
               col(Tender.id).in_(select(Lot.tender_id).where(col(Lot.category_id).in_(offered))),
               col(Tender.id).not_in(bid_on))
        .order_by(col(Tender.submission_deadline))
        .limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Bid for {ref}: {title}", f"/opportunities/{tid}",
                       f"Closes {london_time(as_utc(deadline))}." if deadline else "")
            for tid, ref, title, deadline in rows]


def _round_returns_due(session: Session, user: User) -> list[ActionItem]:
    """Open demand rounds still waiting for the borough's confirmed (or nil) return."""
    rows = session.exec(
        select(DemandRound.id, DemandRound.reference, DemandRound.title, DemandRound.closes_at)
        .join(RoundReturn, col(RoundReturn.round_id) == DemandRound.id)
        .where(RoundReturn.borough_id == user.organisation_id,
               col(RoundReturn.status).in_([ReturnStatus.NOT_RESPONDED, ReturnStatus.IN_PROGRESS]),
               DemandRound.status == RoundStatus.OPEN, col(DemandRound.closes_at) > clock.now())
        .order_by(col(DemandRound.closes_at)).limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Confirm your return to {ref}: {title}", f"/rounds/{rid}#return",
                       f"Closes {london_time(as_utc(closes))}.")
            for rid, ref, title, closes in rows]


def _rounds_to_pool(session: Session) -> list[ActionItem]:
    """Demand rounds past their close and not yet pooled into a tender."""
    rows = session.exec(
        select(DemandRound.id, DemandRound.reference)
        .where(col(DemandRound.status).in_([RoundStatus.OPEN, RoundStatus.CLOSED]),
               col(DemandRound.closes_at) <= clock.now())
        .order_by(col(DemandRound.closes_at)).limit(MAX_ITEMS)
    ).all()
    return [ActionItem(f"Pool demand round {ref} into a tender", f"/rounds/{rid}#pool")
            for rid, ref in rows]


def needs_action(session: Session, user: User) -> list[ActionItem]:
    """What is waiting on ``user``, most pressing kinds first."""
    if policy.sees_partnership_work(user):
        return (_bids_to_score(session) + _call_offs_ready(session)
                + _unanswered_questions(session) + _rounds_to_pool(session)
                + _contracts_waiting(session))
    if policy.sees_buyer_work(user):
        return _round_returns_due(session, user) + _contracts_to_accept(session, user)
    if policy.sees_supplier_work(user):
        return _contracts_to_accept(session, user) + _closing_soon(session, user)
    return []
