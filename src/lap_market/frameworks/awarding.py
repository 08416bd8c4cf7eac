"""Awarding a framework lot to several ranked suppliers, and making the framework record.

The award itself is the tender's (standstill, revoke and notices work as for one supplier);
what a framework adds is that up to ``framework_max_suppliers`` bids win, in the evaluation's
rank order, and each winner becomes a member of the lot at its bid price.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock, london_date
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid
from lap_market.frameworks import notices
from lap_market.frameworks.models import Framework, FrameworkMember
from lap_market.modeling import conditional_update, pk
from lap_market.tenders.models import Award, AwardStatus, Bid, Lot, LotStatus, Tender
from lap_market.tenders.schemas import EvaluationRow
from lap_market.tenders.workdays import add_working_days


@dataclass(frozen=True)
class Winner:
    row: EvaluationRow
    bid: Bid


def choose(tender: Tender, rows: Sequence[EvaluationRow], bid_ids: Sequence[str],
           reason: str | None) -> list[EvaluationRow]:
    """The chosen bids in rank order; a reason is needed when a higher-ranked bid is left out."""
    if not bid_ids:
        raise Invalid("Choose at least one bid for the framework lot.", field="bid_ids")
    if len(set(bid_ids)) != len(bid_ids):
        raise Invalid("A bid is named twice.", field="bid_ids")
    if len(bid_ids) > tender.framework_max_suppliers:
        raise Invalid(f"This framework takes at most {tender.framework_max_suppliers} suppliers "
                      "per lot.", field="bid_ids")
    by_id = {r.bid_id: r for r in rows}
    unknown = [b for b in bid_ids if b not in by_id]
    if unknown:
        raise Invalid("That bid is not an active bid in this lot.", field="bid_ids")
    chosen = sorted((by_id[b] for b in bid_ids), key=lambda r: (r.rank or 0, r.bid_id))
    worst = max(r.rank or 0 for r in chosen)
    passed_over = [r for r in rows if r.bid_id not in bid_ids and (r.rank or 0) < worst]
    if passed_over and not reason:
        raise Invalid("Give a reason for leaving out a higher-ranked bid.", field="reason")
    return chosen


def claim_lot(session: Session, lot: Lot) -> None:
    """The lot's conditional move to awarded: of two officers awarding at once, one wins."""
    try:
        won = conditional_update(
            session,
            update(Lot).where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
            .values(status=LotStatus.AWARDED),
        )
    except OperationalError as exc:  # SQLite: the other writer holds the lock past our timeout
        raise Conflict("Another officer is awarding this lot right now.") from exc
    if not won:
        raise Conflict("This lot has just been awarded by someone else.")
    session.refresh(lot)


def award_from_rows(
    session: Session, actor: User, tender: Tender, lot: Lot, rows: Sequence[EvaluationRow],
    bid_ids: Sequence[str], reason: str | None, settings: Settings,
) -> list[Award]:
    """Check the choice against the evaluation, then award (see ``award_framework_lot``)."""
    chosen = choose(tender, rows, bid_ids, reason)
    bids = {b.public_id: b for b in session.exec(
        select(Bid).where(col(Bid.public_id).in_([r.bid_id for r in chosen]))).all()}
    winners = [Winner(row=r, bid=bids[r.bid_id]) for r in chosen]
    return award_framework_lot(session, actor, tender, lot, winners, reason, settings)


def award_framework_lot(
    session: Session, actor: User, tender: Tender, lot: Lot, winners: Sequence[Winner],
    reason: str | None, settings: Settings,
) -> list[Award]:
    """Awards to every winner (rank order) and their places on the framework."""
    claim_lot(session, lot)
    now = clock.now()
    ends = add_working_days(london_date(now), settings.standstill_working_days)
    framework = framework_for(session, tender, start=london_date(now))
    awards = []
    for rank, winner in enumerate(winners, start=1):
        award = Award(
            tender_id=pk(tender), lot_id=pk(lot), bid_id=pk(winner.bid),
            supplier_id=winner.bid.provider_id, unit_price_pence=winner.bid.unit_price_pence,
            reason=reason, status=AwardStatus.STANDSTILL, awarded_by_id=pk(actor),
            awarded_at=now, standstill_ends=ends,
        )
        session.add(award)
        session.flush()
        session.add(FrameworkMember(
            framework_id=pk(framework), lot_id=pk(lot), award_id=pk(award),
            supplier_id=winner.bid.provider_id, rank=rank,
            unit_price_pence=winner.bid.unit_price_pence,
            quality_score=winner.row.quality_score, total_score=winner.row.total_score,
        ))
        awards.append(award)
    session.flush()
    audit.record(
        session, actor, action="framework.lot_awarded", object_type="lot", object_id=lot.id,
        details={"tender_id": tender.id, "framework": framework.reference, "reason": reason,
                 "standstill_ends": ends,
                 "members": [{"rank": n, "bid_id": w.bid.public_id, "supplier": w.row.provider,
                              "unit_price": str(w.row.unit_price)}
                             for n, w in enumerate(winners, start=1)]},
    )
    notices.lot_awarded(session, tender, lot, awards)
    return awards


def framework_for(session: Session, tender: Tender, *, start: date) -> Framework:
    """The tender's framework, made with its first awarded lot (one per tender: unique key)."""
    existing = session.exec(select(Framework).where(Framework.tender_id == tender.id)).first()
    if existing is not None:
        return existing
    assert tender.framework_end is not None  # checked when the tender was shaped
    framework = Framework(reference=f"{tender.reference}-FW", tender_id=pk(tender),
                          start_date=start, end_date=tender.framework_end,
                          created_at=clock.now())
    session.add(framework)
    session.flush()
    return framework


def on_award_revoked(session: Session, award: Award, reason: str) -> None:
    """Revoking one award of a framework lot revokes the lot's others and empties its places:
    the lot is evaluated and awarded again as a whole."""
    members = session.exec(select(FrameworkMember).where(
        FrameworkMember.lot_id == award.lot_id)).all()
    if not members:
        return
    session.execute(
        update(Award).where(col(Award.lot_id) == award.lot_id, col(Award.id) != award.id,
                            col(Award.status) == AwardStatus.STANDSTILL)
        .values(status=AwardStatus.REVOKED, revoked_at=clock.now(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    for member in members:
        session.delete(member)
    session.flush()
