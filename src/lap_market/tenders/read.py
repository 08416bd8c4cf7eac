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
from lap_market.money import VAT_RATE, from_pence, round_pennies
from lap_market.tenders.models import Amendment, Lot, Tender, TenderStatus
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


def lot_reads(session: Session, lots: list[Lot]) -> list[LotRead]:
    """API views of lots, loading their demand, boroughs, categories and units in bulk."""
    if not lots:
        return []
    lot_ids = [lot.id for lot in lots]
    demands = session.exec(
        select(Demand).where(col(Demand.lot_id).in_(lot_ids)).order_by(col(Demand.id))
    ).all()
    borough_ids = {d.borough_id for d in demands}
    names = (
        {
            o.id: o.name
            for o in session.exec(
                select(Organisation).where(col(Organisation.id).in_(borough_ids))
            ).all()
        }
        if borough_ids
        else {}
    )
    by_lot: dict[int, list[Demand]] = defaultdict(list)
    for demand in demands:
        by_lot[demand.lot_id].append(demand)  # type: ignore[index]
    categories = {c.id: c.code for c in session.exec(select(Category)).all()}
    units = {u.id: u.code for u in session.exec(select(CategoryUnit)).all()}
    reads = []
    for lot in sorted(lots, key=lambda x: x.number):
        lot_demands = by_lot.get(lot.id, [])  # type: ignore[arg-type]
        estimated = lot.estimated_value_pence
        standalone = lot.standalone_value_pence
        reads.append(
            LotRead(
                id=lot.id,  # type: ignore[arg-type]
                number=lot.number,
                title=lot.title,
                status=lot.status,
                category=categories[lot.category_id],
                unit=units[lot.unit_id],
                total_quantity=lot.total_quantity,
                boroughs=sorted({names[d.borough_id] for d in lot_demands}),
                demand_ids=[d.id for d in lot_demands],  # type: ignore[misc]
                estimated_value=from_pence(estimated) if estimated is not None else None,
                standalone_value=from_pence(standalone) if standalone is not None else None,
                estimated_saving=(
                    from_pence(standalone - estimated)
                    if estimated is not None and standalone is not None
                    else None
                ),
                no_reference_rate=estimated is None,
            )
        )
    return reads


def tender_read(session: Session, tender: Tender, settings: Settings) -> TenderRead:
    """The API view of a tender with its lots and amendment history."""
    return tender_reads(session, [tender], settings)[0]


def tender_reads(session: Session, tenders: list[Tender], settings: Settings) -> list[TenderRead]:
    """API views of many tenders in a fixed number of queries (no query per tender)."""
    if not tenders:
        return []
    ids = [t.id for t in tenders]
    lots_by_tender: dict[int, list[Lot]] = defaultdict(list)
    all_lots = list(session.exec(select(Lot).where(col(Lot.tender_id).in_(ids))).all())
    for lot in all_lots:
        lots_by_tender[lot.tender_id].append(lot)
    amendments_by_tender: dict[int, list[Amendment]] = defaultdict(list)
    for amendment in session.exec(
        select(Amendment)
        .where(col(Amendment.tender_id).in_(ids))
        .order_by(col(Amendment.tender_id), col(Amendment.number))
    ).all():
        amendments_by_tender[amendment.tender_id].append(amendment)
    lot_views = {read.id: read for read in lot_reads(session, all_lots)}
    now = clock.now()
    reads = []
    for tender in tenders:
        lots = sorted(lots_by_tender.get(tender.id, []), key=lambda x: x.number)  # type: ignore[arg-type]
        amendments = [
            AmendmentRead(
                number=a.number,
                reason=a.reason,
                changes=a.changes,
                created_at=as_utc(a.created_at),
            )
            for a in amendments_by_tender.get(tender.id, [])  # type: ignore[arg-type]
        ]
        lot_list = [lot_views[lot.id] for lot in lots]  # type: ignore[index]
        reads.append(tender_view(tender, lot_list, amendments, settings, now))
    return reads


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
        id=tender.id,  # type: ignore[arg-type]
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
