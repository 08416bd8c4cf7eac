"""Evaluation: scoring bids, ranking them, the evaluation sheet. Awarding a lot (with
standstill), revoking an award and marking a lot unsuccessful are ``tenders.awards``.

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
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import format_london
from lap_market.csv_cells import safe_cell
from lap_market.errors import Conflict, Invalid, InvalidFields, NotFound
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.tenders import declarations
from lap_market.tenders.models import (
    Bid,
    BidStatus,
    Lot,
    Tender,
    eager,
)
from lap_market.tenders.policy import (
    bids_sealed,
    can_award,
    can_evaluate,
    can_score,
    require_officer,
)
from lap_market.tenders.schemas import EvaluationRow
from lap_market.tenders.service import (
    get_lot,
    get_officer_lot,
    get_tender,
    persist_closed,
    record_lot_event,
)

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
    """Refuse while the bids are sealed or once the tender is cancelled; store ``closed``."""
    if bids_sealed(tender):
        raise Conflict("Bids are sealed until the submission deadline has passed.")
    if not can_evaluate(tender):
        raise Conflict("This tender has been cancelled.")
    persist_closed(session, tender)


def closed_lot(session: Session, actor: User, tender_id: int, lot_id: int) -> tuple[Tender, Lot]:
    """The tender and lot for an officer's evaluation step, once bids are unsealed."""
    tender, lot = get_officer_lot(session, actor, tender_id, lot_id)
    _after_close(session, tender)
    return tender, lot


def active_bids(session: Session, lot: Lot) -> list[Bid]:
    """The lot's active bids, oldest first, with their providers."""
    return list(
        session.exec(
            select(Bid)
            .where(Bid.lot_id == lot.id, Bid.status == BidStatus.ACTIVE)
            .options(eager(Bid.provider))
            .order_by(col(Bid.id))
        ).all()
    )


def bid_by_public_id(session: Session, public_id: str) -> Bid | None:
    """The bid a public id names (the row id never leaves the database)."""
    return session.exec(select(Bid).where(Bid.public_id == public_id)).first()


def _check_quality_score(quality_score: Decimal) -> None:
    if not (Decimal(0) <= quality_score <= HUNDRED) or round2(quality_score) != quality_score:
        raise Invalid(
            "The quality score must be from 0 to 100, to at most 2 decimal places.",
            field="quality_score",
        )


def score_bid(session: Session, actor: User, bid_id: str, *, quality_score: Decimal) -> Bid:
    """Record a bid's quality score (0–100, 2 places) after the tender has closed."""
    require_officer(actor)
    bid = bid_by_public_id(session, bid_id)
    if bid is None:
        raise NotFound("No such bid.", field="bid_id")
    tender = get_tender(session, actor, bid.tender_id)
    _after_close(session, tender)
    declarations.require_clear_to_score(session, actor, tender)
    lot = get_lot(session, tender, bid.lot_id)
    if not can_score(bid, lot):
        raise Conflict(
            "This bid was withdrawn."
            if bid.status != BidStatus.ACTIVE
            else f"Lot {lot.number} is {lot.status}: its scores are final."
        )
    _check_quality_score(quality_score)
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


def score_lot(
    session: Session, actor: User, tender_id: int, lot_id: int, *, scores: dict[str, str]
) -> int:
    """Record the quality scores typed for a lot's bids (by bid public id) all at once: every
    score is checked first and any problem refuses them all, each named by the bidder's
    organisation. Returns how many bids were scored."""
    tender, lot = closed_lot(session, actor, tender_id, lot_id)
    declarations.require_clear_to_score(session, actor, tender)
    if not can_award(lot):
        raise Conflict(f"Lot {lot.number} is {lot.status}: its scores are final.")
    bids = {b.public_id: b for b in active_bids(session, lot)}
    parsed: dict[str, Decimal] = {}
    problems: dict[str, str] = {}
    for bid_id, typed in scores.items():
        bid = bids.get(bid_id)
        if bid is None:
            problems["form"] = (
                f"A bid in lot {lot.number} was withdrawn or changed; reload the page and "
                "score again."
            )
            continue
        value = _typed_score(typed)
        if value is None:
            problems[f"quality_{bid_id}"] = (
                f"The bid from {bid.provider.name}: enter a quality score from 0 to 100, "
                f"to at most 2 decimal places (not “{typed.strip()[:20]}”)."
            )
        else:
            parsed[bid_id] = value
    if problems:
        raise InvalidFields(problems)
    for bid_id, value in parsed.items():
        score_bid(session, actor, bid_id, quality_score=value)
    return len(parsed)


def _typed_score(typed: str) -> Decimal | None:
    """A typed quality score if it is a number from 0 to 100 with at most 2 places."""
    try:
        value = Decimal(typed.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not (Decimal(0) <= value <= HUNDRED) or round2(value) != value:
        return None
    return value


def evaluate_lot(session: Session, actor: User, tender_id: int, lot_id: int) -> list[EvaluationRow]:
    """The lot's active bids ranked by total score (officers, after close)."""
    tender, lot = closed_lot(session, actor, tender_id, lot_id)
    return evaluation_rows(session, tender, lot)


def evaluation_rows(session: Session, tender: Tender, lot: Lot) -> list[EvaluationRow]:
    """The lot's active bids ranked by total score, best first."""
    return ranked_rows(tender, active_bids(session, lot))


def ranked_rows(tender: Tender, bids: list[Bid]) -> list[EvaluationRow]:
    """``bids`` (with their providers loaded) scored and ranked, best first."""
    ranked = rank_bids(
        [Scored(pk(b), b.unit_price_pence, b.quality_score) for b in bids],
        tender.price_weight,
        tender.quality_weight,
    )
    by_id = {pk(b): b for b in bids}
    return [
        EvaluationRow(
            bid_id=by_id[r.bid_id].public_id,
            provider=by_id[r.bid_id].provider.name,
            unit_price=from_pence(r.unit_price_pence),
            price_score=r.price_score,
            quality_score=r.quality_score,
            total_score=r.total_score,
            rank=r.rank,
        )
        for r in ranked
    ]


def quality_statements(
    session: Session, evaluations: dict[int, list[EvaluationRow]]
) -> dict[str, str]:
    """The quality statements of the bids in these evaluations, by bid public id, so the
    officer reads each beside its score box (only ever called after the deadline)."""
    ids = [row.bid_id for rows in evaluations.values() for row in rows]
    if not ids:
        return {}
    rows = session.exec(
        select(Bid.public_id, Bid.quality_statement).where(col(Bid.public_id).in_(ids))
    ).all()
    return {public_id: statement for public_id, statement in rows}


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


def _csv_row(lot: Lot, bid: Bid, row: EvaluationRow | None) -> list[str]:
    """One bid as a CSV row; a withdrawn bid (``row`` None) has no scores or rank."""
    return [
        safe_cell(v)
        for v in (
            bid.public_id,
            lot.number,
            bid.provider.name,
            bid.status,
            f"{from_pence(bid.unit_price_pence):.2f}",
            bid.quality_statement,
            row.price_score if row else None,
            bid.quality_score,
            row.total_score if row else None,
            row.rank if row else None,
            format_london(bid.submitted_at),
        )
    ]


def evaluation_csv(session: Session, actor: User, tender_id: int, lot_id: int) -> str:
    """Every bid of the lot (withdrawn ones too) with its scores, for the record: ranked bids
    first in rank order, then the rest in the order they came."""
    tender, lot = closed_lot(session, actor, tender_id, lot_id)
    bids = list(
        session.exec(
            select(Bid)
            .where(Bid.lot_id == lot.id)
            .options(eager(Bid.provider))
            .order_by(col(Bid.id))
        ).all()
    )
    active = [b for b in bids if b.status == BidStatus.ACTIVE]
    rows = {r.bid_id: r for r in ranked_rows(tender, active)}
    position = {bid_id: i for i, bid_id in enumerate(rows)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for b in sorted(bids, key=lambda b: (position.get(b.public_id, len(position)), pk(b))):
        writer.writerow(_csv_row(lot, b, rows.get(b.public_id)))
    record_lot_event(session, actor, lot, "evaluation.exported", bids=len(bids))
    return out.getvalue()
