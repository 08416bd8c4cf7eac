"""Factories for tenders, lots, demand in lots, bids and awards.

They build rows directly (no aggregation or pricing involved), so any domain's tests can
start from a tender in the state they need. Signatures are kept stable for other teams.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.money import to_pence
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Declaration,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.workdays import add_working_days, london_date

DEFAULT_TERM = (date(2027, 4, 1), date(2028, 3, 31))
DEFAULT_LOTS: list[dict[str, Any]] = [
    {
        "category": "storage",
        "unit": "linear_metre_year",
        "demands": [
            ("E09000007", Decimal("120"), *DEFAULT_TERM),
            ("E09000012", Decimal("80"), *DEFAULT_TERM),
        ],
    }
]


def next_reference(session: Session, year: int) -> tuple[int, str]:
    """The next free sequence number and reference (``LAP-2026-0007``) for ``year``."""
    last = session.exec(select(func.max(Tender.sequence)).where(Tender.year == year)).one()
    sequence = int(last or 0) + 1
    return sequence, f"LAP-{year}-{sequence:04d}"


def _category_unit(session: Session, category: str, unit: str) -> tuple[Category, CategoryUnit]:
    cat = session.exec(select(Category).where(Category.code == category)).one()
    unit_row = session.exec(
        select(CategoryUnit).where(CategoryUnit.category_id == cat.id, CategoryUnit.code == unit)
    ).one()
    return cat, unit_row


def draft_tender(
    session: Session,
    officer: User,
    *,
    lots: list[dict[str, Any]] | None = None,
    title: str = "Joint archive storage 2027",
    description: str = "Storage of archive collections for several boroughs.",
    price_weight: int = 60,
    quality_weight: int = 40,
) -> Tender:
    """A draft tender with lots holding borough demand (status ``in_tender``).

    Each lot is ``{"category", "unit", "demands": [(gss_code, quantity, start, end), ...]}``
    with optional ``title``, ``estimated_value`` and ``standalone_value`` (Decimal pounds).
    """
    now = clock.now()
    sequence, reference = next_reference(session, now.year)
    tender = Tender(
        reference=reference,
        year=now.year,
        sequence=sequence,
        title=title,
        description=description,
        price_weight=price_weight,
        quality_weight=quality_weight,
        created_by_id=officer.id,  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
    )
    session.add(tender)
    session.flush()
    for number, spec in enumerate(DEFAULT_LOTS if lots is None else lots, start=1):
        cat, unit = _category_unit(session, spec["category"], spec["unit"])
        demands = spec.get("demands", [])
        total = sum((Decimal(d[1]) for d in demands), Decimal("0"))
        estimated = spec.get("estimated_value")
        standalone = spec.get("standalone_value")
        lot = Lot(
            tender_id=tender.id,  # type: ignore[arg-type]
            number=number,
            title=spec.get("title", f"Lot {number}: {cat.name}"),
            category_id=cat.id,  # type: ignore[arg-type]
            unit_id=unit.id,  # type: ignore[arg-type]
            total_quantity=total,
            estimated_value_pence=to_pence(Decimal(estimated)) if estimated is not None else None,
            standalone_value_pence=to_pence(Decimal(standalone))
            if standalone is not None
            else None,
        )
        session.add(lot)
        session.flush()
        for gss_code, quantity, start, end in demands:
            borough = session.exec(
                select(Organisation).where(Organisation.gss_code == gss_code)
            ).one()
            session.add(
                Demand(
                    borough_id=borough.id,  # type: ignore[arg-type]
                    created_by_id=officer.id,  # type: ignore[arg-type]
                    category_id=cat.id,  # type: ignore[arg-type]
                    unit_id=unit.id,  # type: ignore[arg-type]
                    quantity=Decimal(quantity),
                    start_date=start,
                    end_date=end,
                    specification=f"{cat.name} for {borough.name}",
                    status=DemandStatus.IN_TENDER,
                    tender_id=tender.id,
                    lot_id=lot.id,
                    created_at=now,
                    updated_at=now,
                )
            )
    session.flush()
    return tender


def published_tender(
    session: Session,
    officer: User,
    *,
    lots: list[dict[str, Any]] | None = None,
    clarification_deadline: datetime | None = None,
    submission_deadline: datetime | None = None,
    **kwargs: Any,
) -> Tender:
    """A published tender; deadlines default to 7 and 14 days from the clock's now."""
    tender = draft_tender(session, officer, lots=lots, **kwargs)
    now = clock.now()
    tender.clarification_deadline = clarification_deadline or now + timedelta(days=7)
    tender.submission_deadline = submission_deadline or now + timedelta(days=14)
    tender.status = TenderStatus.PUBLISHED
    tender.published_at = now
    tender.updated_at = now
    session.add(tender)
    session.flush()
    return tender


def lots_of(session: Session, tender: Tender) -> list[Lot]:
    """The tender's lots in number order."""
    return list(
        session.exec(select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number))).all()
    )


def bid(
    session: Session,
    provider: User,
    lot: Lot,
    *,
    unit_price: Decimal | str = Decimal("10.00"),
    quality_statement: str = "We store collections at BS EN 16893 conditions.",
    quality_score: Decimal | str | None = None,
    status: str = BidStatus.ACTIVE,
) -> Bid:
    """A bid by ``provider``'s organisation for ``lot`` (written directly, deadline unchecked)."""
    now = clock.now()
    row = Bid(
        tender_id=lot.tender_id,
        lot_id=lot.id,  # type: ignore[arg-type]
        provider_id=provider.organisation_id,
        submitted_by_id=provider.id,  # type: ignore[arg-type]
        unit_price_pence=to_pence(Decimal(unit_price)),
        quality_statement=quality_statement,
        status=status,
        quality_score=Decimal(quality_score) if quality_score is not None else None,
        submitted_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def award(
    session: Session,
    officer: User,
    winning_bid: Bid,
    *,
    awarded_at: datetime | None = None,
    standstill_days: int = 8,
    reason: str | None = None,
) -> Award:
    """An award of ``winning_bid``'s lot in standstill; marks the lot awarded and, when every
    other lot is settled, the tender awarded."""
    when = awarded_at or clock.now()
    row = Award(
        tender_id=winning_bid.tender_id,
        lot_id=winning_bid.lot_id,
        bid_id=winning_bid.id,  # type: ignore[arg-type]
        supplier_id=winning_bid.provider_id,
        unit_price_pence=winning_bid.unit_price_pence,
        reason=reason,
        status=AwardStatus.STANDSTILL,
        awarded_by_id=officer.id,  # type: ignore[arg-type]
        awarded_at=when,
        standstill_ends=add_working_days(london_date(when), standstill_days),
    )
    session.add(row)
    lot = session.get(Lot, winning_bid.lot_id)
    assert lot is not None
    lot.status = LotStatus.AWARDED
    session.add(lot)
    session.flush()
    tender = session.get(Tender, winning_bid.tender_id)
    assert tender is not None
    open_lots = [x for x in lots_of(session, tender) if x.status == LotStatus.OPEN]
    if not open_lots:
        tender.status = TenderStatus.AWARDED
        session.add(tender)
    session.flush()
    return row


def declaration(
    session: Session, officer: User, tender: Tender, *, conflict: bool = False,
    details: str | None = None, bidder_ids: list[int] | None = None,
) -> Declaration:
    """An officer's conflict-of-interest declaration for ``tender`` (written directly, the
    deadline unchecked): "no conflict" unless ``conflict``."""
    row = Declaration(
        tender_id=tender.id,  # type: ignore[arg-type]
        officer_id=officer.id,  # type: ignore[arg-type]
        conflict=conflict, details=details, conflict_bidder_ids=bidder_ids or [],
        declared_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row
