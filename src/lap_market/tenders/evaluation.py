"""Evaluation and award: scoring, ranking, award with standstill, revoke, unsuccessful lots.

The maths (documented once, here):
  price_score = lowest unit price ÷ this unit price × 100, rounded half-up to 2 places;
  total_score = (price_weight × price_score + quality_weight × quality_score) ÷ 100, computed
  from the *rounded* price score (the one people see, so they can redo the sum by hand) and
  rounded half-up to 2 places. Bids with equal totals share a rank (1, 1, 3); unscored bids
  have no total and no rank.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.clock import clock, format_london
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.frameworks.awarding import award_from_rows, on_award_revoked
from lap_market.frameworks.policy import is_framework
from lap_market.money import from_pence
from lap_market.notifications import events
from lap_market.tenders import notifications
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.policy import require_officer
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import AwardIn, EvaluationRow
from lap_market.tenders.service import (
    conditional_update,
    get_lot,
    get_tender,
    get_tender_for_officer,
    persist_closed,
    settle_tender,
)
from lap_market.tenders.workdays import add_working_days, london_date, standstill_over

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")


# --- pure maths ---------------------------------------------------------------------------


def round2(value: Decimal) -> Decimal:
    """Half-up to two places."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def price_score(lowest_pence: int, this_pence: int) -> Decimal:
    """Lowest unit price ÷ this unit price × 100, to 2 places."""
    return round2(Decimal(lowest_pence) * HUNDRED / Decimal(this_pence))


def total_score(
    price_weight: int, quality_weight: int, price: Decimal, quality: Decimal
) -> Decimal:
    """(price weight × price score + quality weight × quality score) ÷ 100, to 2 places."""
    return round2((Decimal(price_weight) * price + Decimal(quality_weight) * quality) / HUNDRED)


@dataclass(frozen=True)
class Scored:
    bid_id: int
    unit_price_pence: int
    quality_score: Decimal | None


@dataclass(frozen=True)
class Ranked:
    bid_id: int
    unit_price_pence: int
    price_score: Decimal
    quality_score: Decimal | None
    total_score: Decimal | None
    rank: int | None


def rank_bids(bids: list[Scored], price_weight: int, quality_weight: int) -> list[Ranked]:
    """Scores and standard competition ranks (ties share a rank), best first; unscored last."""
    if not bids:
        return []
    lowest = min(b.unit_price_pence for b in bids)
    rows = []
    for b in bids:
        ps = price_score(lowest, b.unit_price_pence)
        total = (
            total_score(price_weight, quality_weight, ps, b.quality_score)
            if b.quality_score is not None
            else None
        )
        rows.append((b, ps, total))
    rows.sort(key=lambda r: (r[2] is None, -(r[2] or 0), r[0].unit_price_pence, r[0].bid_id))
    ranked: list[Ranked] = []
    previous: Decimal | None = None
    rank = 0
    for position, (b, ps, total) in enumerate(rows, start=1):
        if total is not None and total != previous:
            rank = position
            previous = total
        ranked.append(
            Ranked(
                bid_id=b.bid_id,
                unit_price_pence=b.unit_price_pence,
                price_score=ps,
                quality_score=b.quality_score,
                total_score=total,
                rank=rank if total is not None else None,
            )
        )
    return ranked


# --- services ------------------------------------------------------------------------------


def _after_close(session: Session, tender: Tender) -> None:
    status = effective_status(tender)
    if status in (TenderStatus.DRAFT, TenderStatus.PUBLISHED):
        raise Conflict("Bids are sealed until the submission deadline has passed.")
    if status == TenderStatus.CANCELLED:
        raise Conflict("This tender has been cancelled.")
    persist_closed(session, tender)


def active_bids(session: Session, lot: Lot) -> list[Bid]:
    return list(
        session.exec(
            select(Bid)
            .where(Bid.lot_id == lot.id, Bid.status == BidStatus.ACTIVE)
            .order_by(col(Bid.id))
        ).all()
    )


def bid_by_public_id(session: Session, public_id: str) -> Bid | None:
    """The bid a public id names (the row id never leaves the database)."""
    return session.exec(select(Bid).where(Bid.public_id == public_id)).first()


def score_bid(session: Session, actor: User, bid_id: str, *, quality_score: Decimal) -> Bid:
    """Record a bid's quality score (0–100, 2 places) after the tender has closed."""
    require_officer(actor)
    bid = bid_by_public_id(session, bid_id)
    if bid is None:
        raise NotFound("No such bid.", field="bid_id")
    tender = get_tender(session, actor, bid.tender_id)
    _after_close(session, tender)
    if bid.status != BidStatus.ACTIVE:
        raise Conflict("This bid was withdrawn.")
    lot = get_lot(session, tender, bid.lot_id)
    if lot.status != LotStatus.OPEN:
        raise Conflict(f"Lot {lot.number} is {lot.status}: its scores are final.")
    if not (Decimal(0) <= quality_score <= HUNDRED) or round2(quality_score) != quality_score:
        raise Invalid(
            "The quality score must be from 0 to 100, to at most 2 decimal places.",
            field="quality_score",
        )
    previous = bid.quality_score
    bid.quality_score = quality_score
    bid.scored_by_id = actor.id
    session.add(bid)
    audit.record(
        session,
        actor,
        action="bid.scored",
        object_type="bid",
        object_id=bid.public_id,
        details={
            "tender_id": tender.id,
            "lot_id": lot.id,
            "quality_score": quality_score,
            "previous": previous,
        },
    )
    return bid


def evaluate_lot(session: Session, actor: User, tender_id: int, lot_id: int) -> list[EvaluationRow]:
    """The lot's active bids ranked by total score (officers, after close)."""
    tender = get_tender_for_officer(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    _after_close(session, tender)
    return evaluation_rows(session, tender, lot)


def evaluation_rows(session: Session, tender: Tender, lot: Lot) -> list[EvaluationRow]:
    bids = active_bids(session, lot)
    names = _org_names(session, {b.provider_id for b in bids})
    ranked = rank_bids(
        [Scored(b.id, b.unit_price_pence, b.quality_score) for b in bids],  # type: ignore[arg-type]
        tender.price_weight,
        tender.quality_weight,
    )
    by_id = {b.id: b for b in bids}
    return [
        EvaluationRow(
            bid_id=by_id[r.bid_id].public_id,
            provider=names[by_id[r.bid_id].provider_id],
            unit_price=from_pence(r.unit_price_pence),
            price_score=r.price_score,
            quality_score=r.quality_score,
            total_score=r.total_score,
            rank=r.rank,
        )
        for r in ranked
    ]


def _org_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        o.id: o.name  # type: ignore[misc]
        for o in session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    }


CSV_COLUMNS = [
    "bid_id",
    "lot",
    "provider",
    "status",
    "unit_price",
    "quality_statement",
    "price_score",
    "quality_score",
    "total_score",
    "rank",
    "submitted_at",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must never start with a formula character.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def evaluation_csv(session: Session, actor: User, tender_id: int, lot_id: int) -> str:
    """Every bid of the lot (withdrawn ones too) with its scores, for the record."""
    tender = get_tender_for_officer(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    _after_close(session, tender)
    rows = {r.bid_id: r for r in evaluation_rows(session, tender, lot)}
    bids = list(session.exec(select(Bid).where(Bid.lot_id == lot.id).order_by(col(Bid.id))).all())
    names = _org_names(session, {b.provider_id for b in bids})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    position = {bid_id: i for i, bid_id in enumerate(rows)}
    ordered = sorted(bids, key=lambda b: (position.get(b.public_id, len(position)), b.id))  # type: ignore[arg-type]
    for b in ordered:
        r = rows.get(b.public_id)
        writer.writerow(
            [
                _cell(v)
                for v in (
                    b.public_id,
                    lot.number,
                    names[b.provider_id],
                    b.status,
                    f"{from_pence(b.unit_price_pence):.2f}",
                    b.quality_statement,
                    r.price_score if r else None,
                    b.quality_score,
                    r.total_score if r else None,
                    r.rank if r else None,
                    format_london(b.submitted_at),
                )
            ]
        )
    audit.record(
        session,
        actor,
        action="evaluation.exported",
        object_type="lot",
        object_id=lot.id,
        details={"tender_id": tender.id, "bids": len(bids)},
    )
    return out.getvalue()


def award_lot(
    session: Session, actor: User, tender_id: int, lot_id: int, *, data: AwardIn, settings: Settings
) -> Award:
    """Award a fully scored lot; anything but a top-ranked bid needs a reason. Exactly one of
    two officers awarding the same lot at once succeeds (a conditional UPDATE on the lot)."""
    tender = get_tender_for_officer(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    _after_close(session, tender)
    if lot.status != LotStatus.OPEN:
        raise Conflict(f"Lot {lot.number} is already {lot.status}.")
    rows = evaluation_rows(session, tender, lot)
    if not rows:
        raise Conflict("This lot has no bids: mark it unsuccessful instead.")
    if any(r.quality_score is None for r in rows):
        raise Conflict("Score every bid in the lot before awarding it.")
    if is_framework(tender):
        return award_from_rows(session, actor, tender, lot, rows, data.chosen(),
                               (data.reason or "").strip() or None, settings)[0]
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
    try:
        won = conditional_update(
            session,
            update(Lot)
            .where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
            .values(status=LotStatus.AWARDED),
        )
    except OperationalError as exc:  # SQLite: the other writer holds the lock past our timeout
        raise Conflict("Another officer is awarding this lot right now.") from exc
    if not won:
        raise Conflict("This lot has just been awarded by someone else.")
    session.refresh(lot)
    bid = bid_by_public_id(session, chosen.bid_id)
    assert bid is not None
    now = clock.now()
    award = Award(
        tender_id=tender.id,  # type: ignore[arg-type]
        lot_id=lot.id,  # type: ignore[arg-type]
        bid_id=bid.id,  # type: ignore[arg-type]
        supplier_id=bid.provider_id,
        unit_price_pence=bid.unit_price_pence,
        reason=reason,
        status=AwardStatus.STANDSTILL,
        awarded_by_id=actor.id,  # type: ignore[arg-type]
        awarded_at=now,
        standstill_ends=add_working_days(london_date(now), settings.standstill_working_days),
    )
    session.add(award)
    session.flush()
    audit.record(
        session,
        actor,
        action="lot.awarded",
        object_type="lot",
        object_id=lot.id,
        details={
            "tender_id": tender.id,
            "award_id": award.id,
            "bid_id": bid.public_id,
            "supplier": chosen.provider,
            "unit_price": chosen.unit_price,
            "rank": chosen.rank,
            "reason": reason,
            "standstill_ends": award.standstill_ends,
        },
    )
    events.lot_awarded(session, tender, lot, award,
                       {r_bid.provider_id for r_bid in active_bids(session, lot)})
    settle_tender(session, tender)
    return award


def get_award(session: Session, actor: User, award_id: int) -> Award:
    award = session.get(Award, award_id)
    if award is None:
        raise NotFound("No such award.")
    get_tender(session, actor, award.tender_id)
    return award


def revoke_award(session: Session, actor: User, award_id: int, *, reason: str) -> Award:
    """Revoke an award during its standstill; the lot's evaluation reopens, scores kept."""
    require_officer(actor)
    award = get_award(session, actor, award_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("Give the reason for revoking the award.", field="reason")
    if award.status != AwardStatus.STANDSTILL:
        raise Conflict(f"This award is {award.status}.")
    if standstill_over(award.standstill_ends, clock.now(), awarded_at=award.awarded_at):
        raise Conflict("The standstill period has ended: the award can no longer be revoked.")
    now = clock.now()
    if not conditional_update(
        session,
        update(Award)
        .where(col(Award.id) == award.id, col(Award.status) == AwardStatus.STANDSTILL)
        .values(status=AwardStatus.REVOKED, revoked_at=now, revoke_reason=reason),
    ) or not conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == award.lot_id, col(Lot.status) == LotStatus.AWARDED)
        .values(status=LotStatus.OPEN),
    ):
        raise Conflict("The award or its lot changed meanwhile (call-offs may have been issued).")
    session.refresh(award)
    on_award_revoked(session, award, reason)
    tender = session.get(Tender, award.tender_id)
    assert tender is not None
    audit.record(
        session,
        actor,
        action="award.revoked",
        object_type="award",
        object_id=award.id,
        details={"tender_id": award.tender_id, "lot_id": award.lot_id, "reason": reason},
    )
    lot = session.get(Lot, award.lot_id)
    assert lot is not None
    session.refresh(lot)
    notifications.notify(
        session,
        notifications.bidder_org_ids(session, tender.id, lot.id),  # type: ignore[arg-type]
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
    tender = get_tender_for_officer(session, actor, tender_id)
    lot = get_lot(session, tender, lot_id)
    _after_close(session, tender)
    reason = reason.strip()
    if not reason:
        raise Invalid("Give the reason.", field="reason")
    if active_bids(session, lot):
        raise Conflict("This lot has bids: evaluate and award it, or cancel it.")
    if not conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
        .values(status=LotStatus.UNSUCCESSFUL, unsuccessful_reason=reason),
    ):
        raise Conflict(f"Lot {lot.number} is already {lot.status}.")
    session.refresh(lot)
    audit.record(
        session,
        actor,
        action="lot.unsuccessful",
        object_type="lot",
        object_id=lot.id,
        details={"tender_id": tender.id, "reason": reason},
    )
    events.lot_unsuccessful(session, tender, lot, reason)
    settle_tender(session, tender)
    return lot


def lot_awards(session: Session, tender: Tender) -> dict[int, Award]:
    """The current (not revoked) award of each awarded lot."""
    rows = session.exec(
        select(Award).where(Award.tender_id == tender.id, Award.status != AwardStatus.REVOKED)
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
