"""Call-off contracts from an awarded lot, once its standstill is over: one per demand."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.catalogue.models import (
    CategoryUnit,
)
from lap_market.catalogue.pricing import load_rate_cards, term_days
from lap_market.clock import clock
from lap_market.contracts import pdf, policy
from lap_market.contracts.documents import document_context, store_document
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.service import (
    PAYMENT_TERMS,
    get_row,
    organisations,
    price,
    record_issued,
    standalone_value,
)
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.money import from_pence
from lap_market.notifications import events
from lap_market.tenders.models import Award, AwardStatus, Lot, LotStatus, Tender, TenderStatus
from lap_market.tenders.workdays import standstill_over

# A lot whose call-offs may still be issued is in none of these states.
LOT_CLOSED_STATES = (LotStatus.CONTRACTED, LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL)

Progress = Callable[[int, int], None]


# --- call-offs -------------------------------------------------------------------------------


@dataclass
class CallOffResult:
    tender: Tender
    lot: Lot
    issued: list[Contract]
    contracts: list[Contract]


def current_award(session: Session, lot_id: int) -> Award | None:
    """The lot's award in force (in or past standstill), if any."""
    return session.exec(
        select(Award)
        .where(Award.lot_id == lot_id, Award.status == AwardStatus.STANDSTILL)
        .order_by(col(Award.id))  # a framework lot: its top-ranked member
    ).first()


def load_lot(session: Session, *, tender_id: int, lot_id: int) -> tuple[Tender, Lot]:
    """A tender's lot (404 if the lot is not in that tender)."""
    tender = session.get(Tender, tender_id)
    lot = session.get(Lot, lot_id)
    if tender is None or lot is None or lot.tender_id != tender.id:
        raise NotFound("No such lot in this tender.")
    return tender, lot


def check_call_offs(
    session: Session, actor: User, *, tender_id: int, lot_id: int
) -> tuple[Tender, Lot, Award]:
    """Whether call-offs may be issued for a lot now: officer, awarded, standstill over.

    A lot already contracted passes (issuing again issues nothing new).
    """
    policy.require_officer(actor)
    tender, lot = load_lot(session, tender_id=tender_id, lot_id=lot_id)
    award = current_award(session, pk(lot))
    if award is None:
        raise Conflict(
            "This lot has not been awarded, so there is nothing to call off.",
            field="lot_id",
            lot_status=lot.status,
        )
    if lot.status in (LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL):
        raise Conflict(f"This lot is {lot.status}.", field="lot_id", lot_status=lot.status)
    if not standstill_over(award.standstill_ends, clock.now(), awarded_at=award.awarded_at):
        raise Conflict(
            f"The standstill period ends on {award.standstill_ends.isoformat()}: call-offs can "
            "be issued from the day after.",
            field="lot_id",
            standstill_ends=award.standstill_ends.isoformat(),
        )
    return tender, lot, award


def _lot_demands(session: Session, lot_id: int) -> list[Demand]:
    return list(
        session.exec(
            select(Demand)
            .where(Demand.lot_id == lot_id, Demand.status != DemandStatus.WITHDRAWN)
            .order_by(col(Demand.id))
        ).all()
    )


def _lot_contracts(session: Session, lot_id: int) -> list[Contract]:
    return list(
        session.exec(
            select(Contract).where(Contract.lot_id == lot_id).order_by(col(Contract.reference))
        ).all()
    )


def pending_counts(session: Session, lot_ids: Iterable[int]) -> dict[int, int]:
    """How many of each lot's demands still have no contract, in one query."""
    wanted = sorted(set(lot_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Demand.lot_id, func.count())
        .outerjoin(Contract, col(Contract.demand_id) == Demand.id)
        .where(
            col(Demand.lot_id).in_(wanted),
            Demand.status != DemandStatus.WITHDRAWN,
            col(Contract.id).is_(None),
        )
        .group_by(col(Demand.lot_id))
    ).all()
    counts = {int(lot_id): int(n) for lot_id, n in rows if lot_id is not None}
    return {lot_id: counts.get(lot_id, 0) for lot_id in wanted}


def pending_call_offs(session: Session, lot_id: int) -> int:
    """How many of a lot's demands still have no contract."""
    return pending_counts(session, [lot_id])[lot_id]


def call_off_reference(tender_reference: str, lot_number: int, sequence: int) -> str:
    """``LAP-2026-0007-L2-C03``: tender, lot number, sequence within the lot."""
    return f"{tender_reference}-L{lot_number}-C{sequence:02d}"


def issue_call_offs(
    session: Session,
    actor: User,
    *,
    tender_id: int,
    lot_id: int,
    progress: Progress | None = None,
) -> CallOffResult:
    """Issue one call-off per demand in an awarded lot whose standstill has ended.

    Every PDF is rendered before anything is written, so a failure leaves no half-issued
    lot; ``progress(done, total)`` is called as each renders. Issuing again issues
    nothing new: a conditional update on the lot's status lets exactly one issuer win.
    """
    tender, lot, award = check_call_offs(session, actor, tender_id=tender_id, lot_id=lot_id)
    existing = _lot_contracts(session, pk(lot))
    if lot.status == LotStatus.CONTRACTED:
        return CallOffResult(tender, lot, [], existing)
    done_demands = {c.demand_id for c in existing}
    todo = [d for d in _lot_demands(session, pk(lot)) if d.id not in done_demands]
    if not todo and not existing:
        raise Conflict("This lot has no demand to call off.", field="lot_id")
    if progress:
        progress(0, len(todo))
    drafts = _drafts(session, actor, Awarded(tender, lot, award), todo, first=len(existing) + 1)
    documents = pdf.render_many(
        [document_context(session, c, specification=d.specification)
         for c, d in zip(drafts, todo, strict=True)],
        progress,
    )
    if not _claim_lot(session, lot):
        # Another issuer got there first: what it issued stands, and nothing new is issued.
        return CallOffResult(tender, lot, [], _lot_contracts(session, pk(lot)))
    issued = _store(session, actor, lot, zip(drafts, documents, strict=True))
    _mark_contracted(session, actor, tender, lot, todo, issued)
    events.call_offs_issued(session, issued)
    return CallOffResult(tender, lot, issued, existing + issued)


@dataclass(frozen=True)
class Awarded:
    """The lot being called off, its tender and its award in force."""

    tender: Tender
    lot: Lot
    award: Award


def _drafts(
    session: Session, actor: User, awarded: Awarded, todo: list[Demand], *, first: int
) -> list[Contract]:
    """One unsaved contract per demand at the awarded price, numbered from ``first``.

    Each draft carries its parties, so rendering its document reads them without a query.
    """
    tender, lot, award = awarded.tender, awarded.lot, awarded.award
    unit = get_row(session, CategoryUnit, lot.unit_id)
    card = load_rate_cards(session, keys=[(lot.category_id, lot.unit_id)], on=clock.today())[
        (lot.category_id, lot.unit_id)
    ]
    parties = organisations(session, [d.borough_id for d in todo] + [award.supplier_id])
    now = clock.now()
    drafts = []
    for offset, demand in enumerate(todo):
        quantity = Decimal(demand.quantity)
        days = term_days(demand.start_date, demand.end_date)
        priced = price(quantity, award.unit_price_pence, per_year=unit.per_year, days=days)
        drafts.append(Contract(
            reference=call_off_reference(tender.reference, lot.number, first + offset),
            kind=ContractKind.CALL_OFF,
            buyer=parties[demand.borough_id], supplier=parties[award.supplier_id],
            buyer_id=demand.borough_id, supplier_id=award.supplier_id,
            tender_id=tender.id, lot_id=lot.id, award_id=award.id, demand_id=demand.id,
            category_id=lot.category_id, unit_id=lot.unit_id,
            description=lot.title,  # e.g. "Storage – linear metre per year (Apr 2027 – Mar 2030)"
            quantity=quantity,
            unit_price_pence=priced.unit_price_pence, value_pence=priced.value_pence,
            vat_pence=priced.vat_pence, total_pence=priced.total_pence,
            standalone_value_pence=standalone_value(card, unit, quantity, days),
            start_date=demand.start_date, end_date=demand.end_date,
            payment_terms=PAYMENT_TERMS, status=ContractStatus.ISSUED,
            issued_at=now, issued_by_id=pk(actor),
        ))
    return drafts


def _claim_lot(session: Session, lot: Lot) -> bool:
    """Mark the lot contracted unless it already is (or is closed): one issuer wins."""
    claimed = conditional_update(
        session,
        sa.update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status).not_in([s.value for s in LOT_CLOSED_STATES]))
        .values(status=LotStatus.CONTRACTED),
    )
    session.refresh(lot)
    return claimed == 1


def _store(
    session: Session, actor: User, lot: Lot, drafts: Iterable[tuple[Contract, bytes]]
) -> list[Contract]:
    """Write each contract with its rendered PDF, audited."""
    issued: list[Contract] = []
    for contract, content in drafts:
        session.add(contract)
        session.flush()
        store_document(session, contract, content)
        issued.append(contract)
        record_issued(
            session, actor, contract,
            buyer_id=contract.buyer_id, supplier_id=contract.supplier_id, lot_id=lot.id,
            demand_id=contract.demand_id, value=from_pence(contract.value_pence),
        )
    return issued


def _mark_contracted(
    session: Session, actor: User, tender: Tender, lot: Lot, todo: list[Demand],
    issued: list[Contract],
) -> None:
    """The demands called off are contracted, and so is the lot (and the tender once every
    lot is), each audited."""
    demand_ids = [c.demand_id for c in issued]
    if demand_ids:
        session.execute(
            sa.update(Demand)
            .where(col(Demand.id).in_(demand_ids))
            .values(status=DemandStatus.CONTRACTED, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        contract_of = {c.demand_id: c.id for c in issued}
        for demand in todo:
            session.refresh(demand)
            audit.record(
                session, actor, action="demand.contracted", object_type="demand",
                object_id=demand.id,
                details={"lot_id": lot.id, "contract_id": contract_of.get(demand.id)},
            )
    audit.record(
        session, actor, action="lot.contracted", object_type="lot", object_id=lot.id,
        details={"tender_id": tender.id, "issued": len(issued), "demand_ids": demand_ids},
    )
    _maybe_contract_tender(session, actor, tender)


def _maybe_contract_tender(session: Session, actor: User, tender: Tender) -> None:
    """A tender is contracted once every awarded lot is (the rest unsuccessful or cancelled)."""
    lots = session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    statuses = [lot.status for lot in lots]
    if not statuses or any(s not in LOT_CLOSED_STATES for s in statuses):
        return
    if LotStatus.CONTRACTED not in statuses:
        return
    changed = conditional_update(
        session,
        sa.update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status).not_in([TenderStatus.CONTRACTED, TenderStatus.CANCELLED]),
        )
        .values(status=TenderStatus.CONTRACTED, updated_at=clock.now()),
    )
    session.refresh(tender)
    if changed:
        audit.record(
            session,
            actor,
            action="tender.contracted",
            object_type="tender",
            object_id=tender.id,
            details={"reference": tender.reference},
        )


@dataclass
class ReadyLot:
    tender: Tender
    lot: Lot
    award: Award
    supplier: Organisation
    pending: int
    ready: bool  # standstill over


def lots_awaiting_call_offs(session: Session, actor: User) -> list[ReadyLot]:
    """Awarded lots whose call-offs have not been issued yet, for officers."""
    if not policy.can_issue_call_offs(actor):
        return []
    rows = session.exec(
        select(Lot, Tender, Award, Organisation)
        .join(Tender, col(Tender.id) == Lot.tender_id)
        .join(Award, (col(Award.lot_id) == Lot.id) & (col(Award.status) == AwardStatus.STANDSTILL))
        .join(Organisation, col(Organisation.id) == Award.supplier_id)
        .where(col(Lot.status).not_in([s.value for s in LOT_CLOSED_STATES]))
        .order_by(col(Tender.reference), col(Lot.number))
    ).all()
    pending = pending_counts(session, [pk(lot) for lot, _t, _a, _s in rows])
    now = clock.now()
    return [
        ReadyLot(
            tender=tender,
            lot=lot,
            award=award,
            supplier=supplier,
            pending=pending[pk(lot)],
            ready=standstill_over(award.standstill_ends, now, awarded_at=award.awarded_at),
        )
        for lot, tender, award, supplier in rows
    ]
