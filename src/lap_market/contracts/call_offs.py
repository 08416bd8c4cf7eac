"""Call-off contracts from an awarded lot, once its standstill is over: one per demand."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.catalogue.models import (
    CategoryUnit,
)
from lap_market.catalogue.pricing import line_value, load_rate_cards, term_days
from lap_market.clock import clock
from lap_market.contracts import pdf
from lap_market.contracts.documents import document_context, store_document
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.service import (
    PAYMENT_TERMS,
    get_row,
    is_officer,
    preload_rows,
    price,
    require_officer,
)
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict, NotFound
from lap_market.money import from_pence, to_pence
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
    require_officer(actor)
    tender, lot = load_lot(session, tender_id=tender_id, lot_id=lot_id)
    award = current_award(session, lot.id)  # type: ignore[arg-type]
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
    existing = _lot_contracts(session, lot.id)  # type: ignore[arg-type]
    if lot.status == LotStatus.CONTRACTED:
        return CallOffResult(tender, lot, [], existing)
    done_demands = {c.demand_id for c in existing}
    todo = [d for d in _lot_demands(session, lot.id) if d.id not in done_demands]  # type: ignore[arg-type]
    if not todo and not existing:
        raise Conflict("This lot has no demand to call off.", field="lot_id")
    unit = get_row(session, CategoryUnit, lot.unit_id)
    # Held, not used: the session's identity map keeps only weak references.
    parties = preload_rows(  # noqa: F841
        session, Organisation, [d.borough_id for d in todo] + [award.supplier_id]
    )
    cards = load_rate_cards(session, keys=[(lot.category_id, lot.unit_id)], on=clock.today())
    card = cards[(lot.category_id, lot.unit_id)]
    now = clock.now()
    contracts: list[Contract] = []
    contexts: list[dict[str, Any]] = []
    total = len(todo)
    if progress:
        progress(0, total)
    for offset, demand in enumerate(todo, start=1):
        quantity = Decimal(demand.quantity)
        days = term_days(demand.start_date, demand.end_date)
        priced = price(quantity, award.unit_price_pence, per_year=unit.per_year, days=days)
        rate = card.best(quantity)
        standalone = (
            to_pence(line_value(quantity, rate.unit_price, per_year=unit.per_year, days=days))
            if rate is not None
            else None
        )
        contract = Contract(
            reference=call_off_reference(tender.reference, lot.number, len(existing) + offset),
            kind=ContractKind.CALL_OFF,
            buyer_id=demand.borough_id,
            supplier_id=award.supplier_id,
            tender_id=tender.id,
            lot_id=lot.id,
            award_id=award.id,
            demand_id=demand.id,
            category_id=lot.category_id,
            unit_id=lot.unit_id,
            description=lot.title,  # e.g. "Storage – linear metre per year (Apr 2027 – Mar 2030)"
            quantity=quantity,
            unit_price_pence=priced.unit_price_pence,
            value_pence=priced.value_pence,
            vat_pence=priced.vat_pence,
            total_pence=priced.total_pence,
            standalone_value_pence=standalone,
            start_date=demand.start_date,
            end_date=demand.end_date,
            payment_terms=PAYMENT_TERMS,
            status=ContractStatus.ISSUED,
            issued_at=now,
            issued_by_id=actor.id,  # type: ignore[arg-type]
        )
        contracts.append(contract)
        contexts.append(document_context(session, contract, specification=demand.specification))
    documents = pdf.render_many(contexts, progress)
    drafts = list(zip(contracts, documents, strict=True))

    claimed = session.execute(
        sa.update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status).not_in([s.value for s in LOT_CLOSED_STATES]))
        .values(status=LotStatus.CONTRACTED)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        # Another issuer got there first: what it issued stands, and nothing new is issued.
        session.refresh(lot)
        return CallOffResult(tender, lot, [], _lot_contracts(session, lot.id))  # type: ignore[arg-type]
    session.refresh(lot)
    issued: list[Contract] = []
    for contract, content in drafts:
        session.add(contract)
        session.flush()
        store_document(session, contract, content)
        issued.append(contract)
        audit.record(
            session,
            actor,
            action="contract.issued",
            object_type="contract",
            object_id=contract.id,
            details={
                "reference": contract.reference,
                "kind": contract.kind,
                "buyer_id": contract.buyer_id,
                "supplier_id": contract.supplier_id,
                "lot_id": lot.id,
                "demand_id": contract.demand_id,
                "value": from_pence(contract.value_pence),
                "pdf_sha256": contract.pdf_sha256,
            },
        )
    demand_ids = [c.demand_id for c in issued]
    if demand_ids:
        session.execute(
            sa.update(Demand)
            .where(col(Demand.id).in_(demand_ids))
            .values(status=DemandStatus.CONTRACTED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        contract_of = {c.demand_id: c.id for c in issued}
        for demand in todo:
            session.refresh(demand)
            audit.record(
                session,
                actor,
                action="demand.contracted",
                object_type="demand",
                object_id=demand.id,
                details={"lot_id": lot.id, "contract_id": contract_of.get(demand.id)},
            )
    audit.record(
        session,
        actor,
        action="lot.contracted",
        object_type="lot",
        object_id=lot.id,
        details={"tender_id": tender.id, "issued": len(issued), "demand_ids": demand_ids},
    )
    _maybe_contract_tender(session, actor, tender)
    events.call_offs_issued(session, issued)
    return CallOffResult(tender, lot, issued, existing + issued)


def _maybe_contract_tender(session: Session, actor: User, tender: Tender) -> None:
    """A tender is contracted once every awarded lot is (the rest unsuccessful or cancelled)."""
    lots = session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    statuses = [lot.status for lot in lots]
    if not statuses or any(s not in LOT_CLOSED_STATES for s in statuses):
        return
    if LotStatus.CONTRACTED not in statuses:
        return
    changed = session.execute(
        sa.update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status).not_in([TenderStatus.CONTRACTED, TenderStatus.CANCELLED]),
        )
        .values(status=TenderStatus.CONTRACTED, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(tender)
    if changed.rowcount:  # type: ignore[attr-defined]
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
    if not is_officer(actor):
        return []
    rows = session.exec(
        select(Lot, Tender, Award)
        .join(Tender, col(Tender.id) == Lot.tender_id)
        .join(Award, (col(Award.lot_id) == Lot.id) & (col(Award.status) == AwardStatus.STANDSTILL))
        .where(col(Lot.status).not_in([s.value for s in LOT_CLOSED_STATES]))
        .order_by(col(Tender.reference), col(Lot.number))
    ).all()
    suppliers = preload_rows(session, Organisation, [award.supplier_id for _l, _t, award in rows])  # noqa: F841
    pending = pending_counts(session, [lot.id for lot, _t, _a in rows])  # type: ignore[misc]
    now = clock.now()
    return [
        ReadyLot(
            tender=tender,
            lot=lot,
            award=award,
            supplier=get_row(session, Organisation, award.supplier_id),
            pending=pending[lot.id],  # type: ignore[index]
            ready=standstill_over(award.standstill_ends, now, awarded_at=award.awarded_at),
        )
        for lot, tender, award in rows
    ]
