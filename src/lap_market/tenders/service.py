"""Tenders: loading, state and closing helpers that every tender module shares, and listing
and viewing tenders. Drafting, publishing and amending are ``tenders.drafting``; cancelling,
bids, questions and awards live in their own modules."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.errors import Invalid, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.paging import paginate
from lap_market.tenders.models import (
    Bid,
    BidStatus,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.policy import (
    can_see_tender,
    oversees_bids,
    require_officer,
    visible_tenders,
)
from lap_market.tenders.read import effective_status, effective_status_column, tender_reads
from lap_market.tenders.schemas import TenderRead

SETTLED_LOT_STATUSES = frozenset({LotStatus.AWARDED, LotStatus.UNSUCCESSFUL, LotStatus.CONTRACTED})
DEADLINES = ("clarification_deadline", "submission_deadline")


# --- shared helpers ----------------------------------------------------------------------


def required_text(value: str | None, *, field: str, message: str) -> str:
    """``value`` without surrounding blanks, refused with ``message`` beside ``field`` if that
    leaves nothing (a reason, a question, an answer, a quality statement)."""
    text = (value or "").strip()
    if not text:
        raise Invalid(message, field=field)
    return text


def record_tender_event(
    session: Session, actor: User | None, tender: Tender, action: str, **details: Any
) -> None:
    """Audit ``action`` on ``tender``, its reference first among the details."""
    audit.record(
        session,
        actor,
        action=action,
        object_type="tender",
        object_id=tender.id,
        details={"reference": tender.reference, **details},
    )


def record_lot_event(
    session: Session, actor: User, lot: Lot, action: str, **details: Any
) -> None:
    """Audit ``action`` on ``lot``, its tender's id first among the details."""
    audit.record(
        session,
        actor,
        action=action,
        object_type="lot",
        object_id=lot.id,
        details={"tender_id": lot.tender_id, **details},
    )


def get_tender(session: Session, actor: User, tender_id: int) -> Tender:
    """The tender, if ``actor`` may see it (404 otherwise, so drafts stay invisible)."""
    tender = session.get(Tender, tender_id)
    if tender is None or not can_see_tender(session, actor, tender):
        raise NotFound("No such tender.")
    return tender


def get_tender_for_officer(session: Session, actor: User, tender_id: int) -> Tender:
    """The tender for an officer's action. Visibility is checked first, so a tender the actor
    may not see (a draft, for a provider) answers 404 on every verb, never 403."""
    tender = get_tender(session, actor, tender_id)
    require_officer(actor)
    return tender


def get_lot(session: Session, tender: Tender, lot_id: int) -> Lot:
    """A lot of this tender (404 for a lot of another tender)."""
    lot = session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        raise NotFound("No such lot in this tender.", field="lot_id")
    return lot


def get_officer_lot(
    session: Session, actor: User, tender_id: int, lot_id: int
) -> tuple[Tender, Lot]:
    """The tender and one of its lots, for an officer's action on the lot."""
    tender = get_tender_for_officer(session, actor, tender_id)
    return tender, get_lot(session, tender, lot_id)


def tender_lots(session: Session, tender: Tender) -> list[Lot]:
    """The tender's lots in number order, read afresh (services change lots by UPDATE)."""
    return list(
        session.exec(select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number))).all()
    )


def move_open_lot(session: Session, lot: Lot, status: LotStatus, **values: Any) -> bool:
    """Move an open lot to ``status`` (setting ``values``) in one conditional statement, so
    of two officers acting on it at once exactly one wins; False if it was no longer open.
    The lot is refreshed when it moved."""
    moved = conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
        .values(status=status, **values),
    )
    if moved:
        session.refresh(lot)
    return bool(moved)


def persist_closed(session: Session, tender: Tender) -> None:
    """Store ``closed`` once the deadline has passed (reads already derive it from the clock)."""
    now = clock.now()
    if effective_status(tender, now) != TenderStatus.CLOSED or tender.status == TenderStatus.CLOSED:
        return
    changed = conditional_update(
        session,
        update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status) == TenderStatus.PUBLISHED,
            col(Tender.submission_deadline) <= now,
        )
        .values(status=TenderStatus.CLOSED, updated_at=now),
    )
    session.refresh(tender)
    if changed:
        record_tender_event(
            session, None, tender, "tender.closed", submission_deadline=tender.submission_deadline
        )


def bid_counts_by_lot(session: Session, tender_ids: list[int]) -> dict[int, int]:
    """Active bids per lot of these tenders: the only thing about bids anyone sees before the
    deadline."""
    if not tender_ids:
        return {}
    rows = session.exec(
        select(Bid.lot_id, func.count())
        .where(col(Bid.tender_id).in_(tender_ids), Bid.status == BidStatus.ACTIVE)
        .group_by(col(Bid.lot_id))
    ).all()
    return {lot_id: int(count) for lot_id, count in rows}


def bid_counts(session: Session, tender: Tender) -> dict[int, int]:
    """Active bids per lot of one tender."""
    return bid_counts_by_lot(session, [pk(tender)])


def _settled_status(tender: Tender, lots: list[Lot]) -> str:
    """The status the live lots imply: cancelled when none is left, awarded when each is
    settled, closed again when an award was revoked; otherwise the tender's own."""
    if not lots:
        return TenderStatus.CANCELLED
    if all(lot.status in SETTLED_LOT_STATUSES for lot in lots):
        if tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED):
            return TenderStatus.AWARDED
        return tender.status
    if tender.status == TenderStatus.AWARDED:
        return TenderStatus.CLOSED
    return tender.status


def settle_tender(session: Session, tender: Tender) -> None:
    """A tender is awarded once every live lot is awarded or unsuccessful; an award revoked
    sends it back to closed; a tender whose every lot is cancelled is cancelled."""
    lots = [lot for lot in tender_lots(session, tender) if lot.status != LotStatus.CANCELLED]
    status = _settled_status(tender, lots)
    if status == tender.status:
        return
    now = clock.now()
    tender.status = status
    if status == TenderStatus.CANCELLED:
        tender.cancelled_at = now
        tender.cancel_reason = tender.cancel_reason or "Every lot was cancelled."
        record_tender_event(session, None, tender, "tender.cancelled", reason=tender.cancel_reason)
    elif status == TenderStatus.AWARDED:
        record_tender_event(session, None, tender, "tender.awarded")
    else:
        record_tender_event(session, None, tender, "tender.reopened", status=TenderStatus.CLOSED)
    tender.updated_at = now
    session.add(tender)


# --- reading -------------------------------------------------------------------------------


def tenders_query(
    actor: User, *, status: str | None = None, not_status: str | None = None
) -> Any:
    """Tenders ``actor`` may see, newest first, optionally of one (effective) status or of
    any status but one."""
    query = visible_tenders(select(Tender), actor)
    if status:
        query = query.where(effective_status_column() == status)
    if not_status:
        query = query.where(effective_status_column() != not_status)
    return query.order_by(col(Tender.id).desc())


def list_tenders(
    session: Session, actor: User, *, status: str | None = None, limit: int | None = None
) -> list[Tender]:
    """Tenders ``actor`` may see, newest first, optionally of one (effective) status."""
    return list(session.exec(tenders_query(actor, status=status).limit(limit)).all())


def page_tenders(
    session: Session,
    actor: User,
    *,
    page: int,
    page_size: int,
    status: str | None = None,
    not_status: str | None = None,
) -> tuple[list[Tender], int]:
    """One page of the tenders ``actor`` may see, and how many there are in all."""
    query = tenders_query(actor, status=status, not_status=not_status)
    return paginate(session, query, page=page, page_size=page_size)


def count_tenders(session: Session, actor: User) -> dict[str, int]:
    """How many tenders ``actor`` may see in each effective status, counted by the database."""
    status = effective_status_column()
    query = visible_tenders(select(status, func.count()).select_from(Tender), actor).group_by(
        status
    )
    return {str(s): int(n) for s, n in session.exec(query).all()}


def view_tender(session: Session, actor: User, tender: Tender, settings: Settings) -> TenderRead:
    """The API view of a tender; officers also get the number of bids per lot."""
    return view_tenders(session, actor, [tender], settings)[0]


def view_tenders(
    session: Session, actor: User, tenders: list[Tender], settings: Settings
) -> list[TenderRead]:
    """API views of many tenders in a fixed number of queries (bid counts for officers)."""
    reads = tender_reads(session, tenders, settings)
    if oversees_bids(actor):
        counts = bid_counts_by_lot(session, [pk(t) for t in tenders])
        for read in reads:
            for lot in read.lots:
                lot.bid_count = counts.get(lot.id, 0)
    return reads
