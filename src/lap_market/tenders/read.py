"""Reading tenders: the status the clock implies, and the API view with lots."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.clock import as_utc, clock
from lap_market.config import Settings
from lap_market.demand.models import Demand
from lap_market.modeling import pk
from lap_market.money import VAT_RATE, from_pence, round_pennies
from lap_market.tenders.models import Amendment, Lot, Tender, TenderStatus, eager
from lap_market.tenders.schemas import AmendmentRead, LotRead, TenderRead


def effective_status(tender: Tender, now: datetime | None = None) -> str:
    """A published tender is closed as soon as its submission deadline has passed."""
    now = now or clock.now()
    if (
        tender.status == TenderStatus.PUBLISHED
        and tender.submission_deadline is not None
        and as_utc(tender.submission_deadline) <= now
    ):
        return TenderStatus.CLOSED
    return tender.status


def effective_status_column(now: datetime | None = None) -> Any:
    """``effective_status`` as SQL, so lists filter and count by it in the database."""
    return sa.case(
        (
            sa.and_(
                col(Tender.status) == TenderStatus.PUBLISHED,
                col(Tender.submission_deadline).is_not(None),
                col(Tender.submission_deadline) <= (now or clock.now()),
            ),
            sa.literal(TenderStatus.CLOSED.value),
        ),
        else_=col(Tender.status),
    )


def _lot_demands(session: Session, lots: list[Lot]) -> dict[int, list[tuple[Demand, str]]]:
    """Each lot's demand lines, oldest first, with the borough's name."""
    rows = session.exec(
        select(Demand, Organisation.name)
        .join(Organisation, col(Organisation.id) == Demand.borough_id)
        .where(col(Demand.lot_id).in_([pk(lot) for lot in lots]))
        .order_by(col(Demand.id))
    ).all()
    by_lot: dict[int, list[tuple[Demand, str]]] = defaultdict(list)
    for demand, borough in rows:
        if demand.lot_id is not None:
            by_lot[demand.lot_id].append((demand, borough))
    return by_lot


def _lot_read(
    lot: Lot, demands: list[tuple[Demand, str]], category: str, unit: str
) -> LotRead:
    estimated = lot.estimated_value_pence
    standalone = lot.standalone_value_pence
    return LotRead(
        id=pk(lot),
        number=lot.number,
        title=lot.title,
        status=lot.status,
        category=category,
        unit=unit,
        total_quantity=lot.total_quantity,
        boroughs=sorted({borough for _, borough in demands}),
        demand_ids=[pk(d) for d, _ in demands],
        estimated_value=from_pence(estimated) if estimated is not None else None,
        standalone_value=from_pence(standalone) if standalone is not None else None,
        estimated_saving=(
            from_pence(standalone - estimated)
            if estimated is not None and standalone is not None
            else None
        ),
        no_reference_rate=estimated is None,
    )


def lot_reads(session: Session, lots: list[Lot]) -> list[LotRead]:
    """API views of lots in number order, loading their demand, boroughs, categories and
    units in bulk."""
    if not lots:
        return []
    demands = _lot_demands(session, lots)
    categories = {c.id: c.code for c in session.exec(select(Category)).all()}
    units = {u.id: u.code for u in session.exec(select(CategoryUnit)).all()}
    return [
        _lot_read(lot, demands.get(pk(lot), []), categories[lot.category_id], units[lot.unit_id])
        for lot in sorted(lots, key=lambda x: x.number)
    ]


def lot_read(session: Session, lot: Lot) -> LotRead:
    """The API view of one lot."""
    return lot_reads(session, [lot])[0]


def tender_read(session: Session, tender: Tender, settings: Settings) -> TenderRead:
    """The API view of a tender with its lots and amendment history."""
    return tender_reads(session, [tender], settings)[0]


def tender_reads(session: Session, tenders: list[Tender], settings: Settings) -> list[TenderRead]:
    """API views of many tenders in a fixed number of queries (no query per tender)."""
    if not tenders:
        return []
    # Read afresh: a service may have changed lots by UPDATE in this session, and a
    # collection loaded earlier would not show it.
    session.exec(
        select(Tender)
        .where(col(Tender.id).in_([pk(t) for t in tenders]))
        .options(eager(Tender.lots), eager(Tender.amendments))
        .execution_options(populate_existing=True)
    ).all()
    lot_views = {read.id: read for read in lot_reads(session, [x for t in tenders for x in t.lots])}
    now = clock.now()
    return [
        tender_view(
            tender,
            [lot_views[pk(lot)] for lot in tender.lots],
            [amendment_read(a) for a in tender.amendments],
            settings,
            now,
        )
        for tender in tenders
    ]


def amendment_read(amendment: Amendment) -> AmendmentRead:
    return AmendmentRead(
        number=amendment.number,
        reason=amendment.reason,
        changes=amendment.changes,
        created_at=as_utc(amendment.created_at),
    )


def tender_view(
    tender: Tender,
    lots: list[LotRead],
    amendments: list[AmendmentRead],
    settings: Settings,
    now: datetime,
) -> TenderRead:
    """The API view of one tender from the views of its lots (by number) and amendments,
    so a caller that has just computed the lots need not read them back."""
    priced = [lot.estimated_value for lot in lots if lot.estimated_value is not None]
    estimated = sum(priced, Decimal("0.00")) if priced else None
    incl_vat = round_pennies(estimated * (1 + VAT_RATE)) if estimated is not None else None
    return TenderRead(
        id=pk(tender),
        reference=tender.reference,
        title=tender.title,
        description=tender.description,
        status=effective_status(tender, now),
        price_weight=tender.price_weight,
        quality_weight=tender.quality_weight,
        clarification_deadline=as_utc(tender.clarification_deadline)
        if tender.clarification_deadline
        else None,
        submission_deadline=as_utc(tender.submission_deadline)
        if tender.submission_deadline
        else None,
        estimated_value=estimated,
        estimated_value_incl_vat=incl_vat,
        above_threshold=incl_vat is not None and incl_vat >= settings.procurement_threshold,
        lots=lots,
        amendments=amendments,
        created_at=as_utc(tender.created_at),
        published_at=as_utc(tender.published_at) if tender.published_at else None,
        procedure=tender.procedure,
        framework_max_suppliers=tender.framework_max_suppliers,
        framework_end=tender.framework_end,
        framework_weight_range=tender.framework_weight_range,
    )
