"""Awards: awarding a lot with its standstill, revoking an award, marking a lot
unsuccessful, and reading a tender's awards. Scoring and ranking are ``tenders.evaluation``."""

from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.frameworks.awarding import award_from_rows, on_award_revoked
from lap_market.frameworks.policy import is_framework
from lap_market.modeling import conditional_update, pk
from lap_market.notifications import events
from lap_market.tenders import declarations, notifications
from lap_market.tenders.cancellation import release_lot_demand
from lap_market.tenders.evaluation import active_bids, closed_lot, ranked_rows
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Bid,
    Lot,
    LotStatus,
    Tender,
    eager,
)
from lap_market.tenders.policy import can_award, can_revoke, require_officer
from lap_market.tenders.schemas import AwardIn, EvaluationRow
from lap_market.tenders.service import (
    get_tender,
    move_open_lot,
    record_lot_event,
    required_text,
    settle_tender,
)
from lap_market.tenders.workdays import add_working_days, london_date


def _require_scored(rows: list[EvaluationRow]) -> None:
    if not rows:
        raise Conflict("This lot has no bids: mark it unsuccessful instead.")
    if any(r.quality_score is None for r in rows):
        raise Conflict("Score every bid in the lot before awarding it.")


def _chosen(rows: list[EvaluationRow], data: AwardIn) -> tuple[EvaluationRow, str | None]:
    """The bid to award and the reason, checked: every bid scored, the bid active in the lot,
    a reason unless it is ranked first."""
    _require_scored(rows)
    if data.bid_id is None and data.bid_ids and len(data.bid_ids) == 1:
        data = data.model_copy(update={"bid_id": data.bid_ids[0]})
    chosen = next((r for r in rows if r.bid_id == data.bid_id), None)
    if chosen is None:
        raise Invalid("That bid is not an active bid in this lot.", field="bid_id")
    reason = (data.reason or "").strip() or None
    if chosen.rank != 1 and reason is None:
        raise Invalid(
            "Give a reason for awarding to a bid that is not ranked first.", field="reason"
        )
    return chosen, reason


def _claim_for_award(session: Session, lot: Lot) -> None:
    """Move the lot from open to awarded in one statement: of two officers awarding it at
    once, exactly one wins."""
    try:
        won = move_open_lot(session, lot, LotStatus.AWARDED)
    except OperationalError as exc:  # SQLite: the other writer holds the lock past our timeout
        raise Conflict("Another officer is awarding this lot right now.") from exc
    if not won:
        raise Conflict("This lot has just been awarded by someone else.")


def _new_award(
    session: Session, actor: User, lot: Lot, bid: Bid, reason: str | None, settings: Settings
) -> Award:
    now = clock.now()
    award = Award(
        tender_id=lot.tender_id,
        lot_id=pk(lot),
        bid_id=pk(bid),
        supplier_id=bid.provider_id,
        unit_price_pence=bid.unit_price_pence,
        reason=reason,
        status=AwardStatus.STANDSTILL,
        awarded_by_id=pk(actor),
        awarded_at=now,
        standstill_ends=add_working_days(london_date(now), settings.standstill_working_days),
    )
    session.add(award)
    session.flush()
    return award


def award_lot(
    session: Session, actor: User, tender_id: int, lot_id: int, *, data: AwardIn, settings: Settings
) -> Award:
    """Award a fully scored lot; anything but a top-ranked bid needs a reason. Exactly one of
    two officers awarding the same lot at once succeeds (a conditional UPDATE on the lot)."""
    tender, lot = closed_lot(session, actor, tender_id, lot_id)
    declarations.require_clear_to_award(session, actor, tender)
    if not can_award(lot):
        raise Conflict(f"Lot {lot.number} is already {lot.status}.")
    bids = active_bids(session, lot)
    rows = ranked_rows(tender, bids)
    if is_framework(tender):  # several ranked suppliers (lap_market.frameworks)
        _require_scored(rows)
        return award_from_rows(session, actor, tender, lot, rows, data.chosen(),
                               (data.reason or "").strip() or None, settings)[0]
    chosen, reason = _chosen(rows, data)
    _claim_for_award(session, lot)
    bid = next(b for b in bids if b.public_id == chosen.bid_id)
    award = _new_award(session, actor, lot, bid, reason, settings)
    record_lot_event(
        session,
        actor,
        lot,
        "lot.awarded",
        award_id=award.id,
        bid_id=bid.public_id,
        supplier=chosen.provider,
        unit_price=chosen.unit_price,
        rank=chosen.rank,
        reason=reason,
        standstill_ends=award.standstill_ends,
    )
    events.lot_awarded(session, tender, lot, award, {b.provider_id for b in bids})
    settle_tender(session, tender)
    return award


def get_award(session: Session, actor: User, award_id: int) -> Award:
    """The award, if ``actor`` may see its tender."""
    award = session.get(Award, award_id)
    if award is None:
        raise NotFound("No such award.")
    get_tender(session, actor, award.tender_id)
    return award


def _reopen(session: Session, award: Award, reason: str) -> None:
    """Revoke the award and reopen its lot, both only from the states they should be in."""
    if not conditional_update(
        session,
        update(Award)
        .where(col(Award.id) == award.id, col(Award.status) == AwardStatus.STANDSTILL)
        .values(status=AwardStatus.REVOKED, revoked_at=clock.now(), revoke_reason=reason),
    ) or not conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == award.lot_id, col(Lot.status) == LotStatus.AWARDED)
        .values(status=LotStatus.OPEN),
    ):
        raise Conflict("The award or its lot changed meanwhile (call-offs may have been issued).")
    session.refresh(award)
    on_award_revoked(session, award, reason)


def revoke_award(session: Session, actor: User, award_id: int, *, reason: str) -> Award:
    """Revoke an award during its standstill; the lot's evaluation reopens, scores kept."""
    require_officer(actor)
    award = get_award(session, actor, award_id)
    reason = required_text(
        reason, field="reason", message="Give the reason for revoking the award."
    )
    if award.status != AwardStatus.STANDSTILL:
        raise Conflict(f"This award is {award.status}.")
    if not can_revoke(award):
        raise Conflict("The standstill period has ended: the award can no longer be revoked.")
    _reopen(session, award, reason)
    audit.record(
        session,
        actor,
        action="award.revoked",
        object_type="award",
        object_id=award.id,
        details={"tender_id": award.tender_id, "lot_id": award.lot_id, "reason": reason},
    )
    tender, lot = session.get_one(Tender, award.tender_id), session.get_one(Lot, award.lot_id)
    session.refresh(lot)
    notifications.notify(
        session,
        notifications.bidder_org_ids(session, pk(tender), pk(lot)),
        tender_id=tender.id,
        kind="award_revoked",
        message=f"The award of lot {lot.number} of {tender.reference} has been revoked: {reason}",
    )
    settle_tender(session, tender)
    return award


def mark_unsuccessful(
    session: Session, actor: User, tender_id: int, lot_id: int, *, reason: str
) -> Lot:
    """Close a lot that drew no bids as unsuccessful."""
    tender, lot = closed_lot(session, actor, tender_id, lot_id)
    reason = required_text(reason, field="reason", message="Give the reason.")
    if active_bids(session, lot):
        raise Conflict("This lot has bids: evaluate and award it, or cancel it.")
    if not move_open_lot(session, lot, LotStatus.UNSUCCESSFUL, unsuccessful_reason=reason):
        raise Conflict(f"Lot {lot.number} is already {lot.status}.")
    record_lot_event(session, actor, lot, "lot.unsuccessful", reason=reason)
    # Tell the boroughs before their needs leave the lot (the recipients are found through it).
    events.lot_unsuccessful(session, tender, lot, reason)
    returned = release_lot_demand(session, lot)
    record_lot_event(
        session, actor, lot, "lot.demand_returned", demand_ids=[d.id for d in returned]
    )
    settle_tender(session, tender)
    return lot


def lot_awards(session: Session, tender: Tender) -> dict[int, Award]:
    """The current (not revoked) award of each awarded lot, with its supplier."""
    rows = session.exec(
        select(Award)
        .where(Award.tender_id == tender.id, Award.status != AwardStatus.REVOKED)
        .options(eager(Award.supplier))
        # Newest id first, so a framework lot keeps its first (top-ranked) award.
        .order_by(col(Award.id).desc())
    ).all()
    return {a.lot_id: a for a in rows}


def standing_award_ids(session: Session, lot_id: int) -> list[int]:
    """The lot's awards in force, first (top-ranked, for a framework) first."""
    return [a for a in session.exec(
        select(Award.id).where(Award.lot_id == lot_id, Award.status == AwardStatus.STANDSTILL)
        .order_by(col(Award.id))).all() if a is not None]


def standstill_end_if_awarded_today(settings: Settings) -> date:
    """When a standstill starting today would end (shown before the officer confirms)."""
    return add_working_days(clock.today(), settings.standstill_working_days)
