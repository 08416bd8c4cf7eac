"""Contracts: call-offs from awarded lots, direct commissioning, acceptance, the PDFs.

Who may see a contract: its buyer's and its supplier's people, and procurement officers.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, or_, select

from lap_market.accounts.models import Organisation, OrgKind, Role, User
from lap_market.audit import service as audit
from lap_market.catalogue import quotes as catalogue_quotes
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.pricing import line_value, load_rate_cards, term_days
from lap_market.clock import as_utc, clock
from lap_market.config import Settings, get_settings
from lap_market.contracts import pdf
from lap_market.contracts.models import Contract, ContractDocument, ContractKind, ContractStatus
from lap_market.contracts.schemas import (
    AcceptanceRead,
    ContractRead,
    DirectCommissionCreate,
    DocumentVersionRead,
    OfferSourceRead,
    PartyRead,
    TenderSourceRead,
)
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.money import from_pence, round_pennies, to_pence, vat_on
from lap_market.tenders.models import Award, AwardStatus, Lot, LotStatus, Tender, TenderStatus
from lap_market.tenders.workdays import standstill_over

PAYMENT_TERMS = "30 days from receipt of a valid invoice"
VAT_RATE_LABEL = "20%"
# A lot whose call-offs may still be issued is in none of these states.
LOT_CLOSED_STATES = (LotStatus.CONTRACTED, LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL)
LOT_DONE_STATES = (LotStatus.CONTRACTED, LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL)

Progress = Callable[[int, int], None]
M = TypeVar("M", bound=SQLModel)


# --- policy ------------------------------------------------------------------------------


def is_officer(actor: User) -> bool:
    return actor.role == Role.PROCUREMENT_OFFICER


def can_see(actor: User, contract: Contract) -> bool:
    """Officers see every contract; otherwise only the buyer's and supplier's people."""
    if is_officer(actor):
        return True
    if actor.role == Role.BOROUGH_MANAGER:
        return actor.organisation_id == contract.buyer_id
    if actor.role == Role.PROVIDER:
        return actor.organisation_id == contract.supplier_id
    return False


def acceptance_side(actor: User, contract: Contract) -> str | None:
    """Which party ``actor`` may accept for: "buyer", "supplier", or None."""
    if actor.role == Role.BOROUGH_MANAGER and actor.organisation_id == contract.buyer_id:
        return "buyer"
    if actor.role == Role.PROVIDER and actor.organisation_id == contract.supplier_id:
        return "supplier"
    return None


def _require_officer(actor: User) -> None:
    if not is_officer(actor):
        raise Forbidden("Only procurement officers may issue call-off contracts.")


# --- reading -------------------------------------------------------------------------------


def _preload(session: Session, model: type[M], ids: Iterable[int | None]) -> list[M]:
    """Load rows by id in one query so later ``session.get`` calls hit the identity map.

    The identity map holds rows weakly: keep the returned list alive while reading.
    """
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(session.exec(select(model).where(col(model.id).in_(wanted))).all())  # type: ignore[attr-defined]


def _get(session: Session, model: type[M], ident: int | None) -> M:
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"{model.__name__} {ident} not found.")
    return row


def list_contracts(
    session: Session, actor: User, *, status: str | None = None, kind: str | None = None,
    tender_id: int | None = None, lot_id: int | None = None, limit: int = 1000,
) -> list[Contract]:
    """Contracts the actor may see (own organisation's; officers all), newest first."""
    query = select(Contract)
    if actor.role == Role.BOROUGH_MANAGER:
        query = query.where(Contract.buyer_id == actor.organisation_id)
    elif actor.role == Role.PROVIDER:
        query = query.where(Contract.supplier_id == actor.organisation_id)
    elif not is_officer(actor):
        raise Forbidden("Contracts are for boroughs, providers and procurement officers.")
    if status:
        query = query.where(Contract.status == status)
    if kind:
        query = query.where(Contract.kind == kind)
    if tender_id is not None:
        query = query.where(Contract.tender_id == tender_id)
    if lot_id is not None:
        query = query.where(Contract.lot_id == lot_id)
    return list(session.exec(query.order_by(col(Contract.id).desc()).limit(limit)).all())


def get_contract(session: Session, actor: User, contract_id: int) -> Contract:
    """One contract, if the actor may see it (404 if none, 403 if not theirs)."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No contract with this id.")
    if not can_see(actor, contract):
        raise Forbidden("This contract belongs to other organisations.")
    return contract


def get_document(
    session: Session, actor: User, contract_id: int, *, version: int | None = None
) -> ContractDocument:
    """A stored PDF of a contract (the latest unless ``version`` is given), for its parties
    and officers only."""
    contract = get_contract(session, actor, contract_id)
    query = select(ContractDocument).where(ContractDocument.contract_id == contract.id)
    if version is not None:
        query = query.where(ContractDocument.version == version)
    document = session.exec(query.order_by(col(ContractDocument.version).desc())).first()
    if document is None:
        raise NotFound(
            "This contract has no such document version." if version else
            "This contract has no document.",
            field="version" if version else None,
        )
    return document


def document_versions(session: Session, contract_id: int) -> list[ContractDocument]:
    """Every stored version of a contract's PDF, oldest first (content not needed)."""
    return list(session.exec(
        select(ContractDocument)
        .where(ContractDocument.contract_id == contract_id)
        .order_by(col(ContractDocument.version))
    ).all())


def _document_versions(
    session: Session, contract_ids: Sequence[int]
) -> dict[int, list[DocumentVersionRead]]:
    """Each contract's stored PDF versions, in one query that leaves the bytes unread."""
    if not contract_ids:
        return {}
    rows = session.execute(
        sa.select(
            col(ContractDocument.contract_id), col(ContractDocument.version),
            col(ContractDocument.reason), col(ContractDocument.sha256),
            col(ContractDocument.created_at),
        )
        .where(col(ContractDocument.contract_id).in_(contract_ids))
        .order_by(col(ContractDocument.contract_id), col(ContractDocument.version))
    ).all()
    versions: dict[int, list[DocumentVersionRead]] = {}
    for contract_id, version, reason, sha256, created_at in rows:
        versions.setdefault(contract_id, []).append(DocumentVersionRead(
            version=version, reason=reason, sha256=sha256, created_at=as_utc(created_at),
            url=f"/api/v1/contracts/{contract_id}/pdf?version={version}",
        ))
    return versions


def _preload_related(session: Session, contracts: Sequence[Contract]) -> list[list[Any]]:
    """Every row the contracts refer to, in one query per table (keep the result alive)."""
    return [
        _preload(session, Organisation,
                 [o for c in contracts for o in (c.buyer_id, c.supplier_id)]),
        _preload(session, User, [
            u for c in contracts for u in (c.buyer_accepted_by_id, c.supplier_accepted_by_id)
        ]),
        _preload(session, Tender, [c.tender_id for c in contracts]),
        _preload(session, Lot, [c.lot_id for c in contracts]),
        _preload(session, Offer, [c.offer_id for c in contracts]),
        _preload(session, OfferVersion, [c.offer_version_id for c in contracts]),
        _preload(session, Category, [c.category_id for c in contracts]),
        _preload(session, CategoryUnit, [c.unit_id for c in contracts]),
    ]


def _party(org: Organisation) -> PartyRead:
    return PartyRead(id=org.id, name=org.name, kind=org.kind, gss_code=org.gss_code)  # type: ignore[arg-type]


def _acceptance(session: Session, by_id: int | None, at: datetime | None) -> AcceptanceRead | None:
    if by_id is None or at is None:
        return None
    user = _get(session, User, by_id)
    return AcceptanceRead(by_id=by_id, by_name=user.name, at=as_utc(at))


def contract_reads(session: Session, contracts: Sequence[Contract]) -> list[ContractRead]:
    """API views of contracts, loading their related rows in bulk."""
    loaded = _preload_related(session, contracts)  # noqa: F841 - held so the identity map keeps them
    versions = _document_versions(session, [c.id for c in contracts if c.id is not None])
    reads = []
    for c in contracts:
        category = _get(session, Category, c.category_id)
        unit = _get(session, CategoryUnit, c.unit_id)
        tender_source = None
        if c.tender_id is not None and c.lot_id is not None:
            tender = _get(session, Tender, c.tender_id)
            lot = _get(session, Lot, c.lot_id)
            tender_source = TenderSourceRead(
                tender_id=c.tender_id, tender_reference=tender.reference, lot_id=c.lot_id,
                lot_number=lot.number, award_id=c.award_id,
            )
        offer_source = None
        if c.offer_id is not None:
            offer = _get(session, Offer, c.offer_id)
            version = session.get(OfferVersion, c.offer_version_id) if c.offer_version_id else None
            offer_source = OfferSourceRead(
                offer_id=c.offer_id, offer_title=offer.title, offer_version_id=c.offer_version_id,
                offer_version_number=version.number if version else None,
            )
        reads.append(ContractRead(
            id=c.id,  # type: ignore[arg-type]
            reference=c.reference,
            kind=c.kind,
            status=c.status,
            buyer=_party(_get(session, Organisation, c.buyer_id)),
            supplier=_party(_get(session, Organisation, c.supplier_id)),
            tender=tender_source,
            offer=offer_source,
            demand_id=c.demand_id,
            service=c.description,
            category=category.code,
            category_name=category.name,
            cpv_code=category.cpv_code,
            unit=unit.code,
            unit_name=unit.name,
            quantity=Decimal(c.quantity),
            unit_price=from_pence(c.unit_price_pence),
            value=from_pence(c.value_pence),
            vat=from_pence(c.vat_pence),
            total=from_pence(c.total_pence),
            start_date=c.start_date,
            end_date=c.end_date,
            term_days=term_days(c.start_date, c.end_date),
            payment_terms=c.payment_terms,
            issued_at=as_utc(c.issued_at),
            buyer_acceptance=_acceptance(session, c.buyer_accepted_by_id, c.buyer_accepted_at),
            supplier_acceptance=_acceptance(
                session, c.supplier_accepted_by_id, c.supplier_accepted_at
            ),
            pdf_sha256=c.pdf_sha256,
            documents=versions.get(c.id, []),  # type: ignore[arg-type]
            pdf_url=f"/api/v1/contracts/{c.id}/pdf",
        ))
    return reads


def contract_read(session: Session, contract: Contract) -> ContractRead:
    """The API view of one contract."""
    return contract_reads(session, [contract])[0]


# --- the document ----------------------------------------------------------------------------


KIND_LABELS = {
    ContractKind.CALL_OFF: "Call-off contract",
    ContractKind.DIRECT: "Direct commissioning contract",
}
ORG_DESCRIPTIONS = {
    OrgKind.LMA: "London Metropolitan Archives, run by the City of London Corporation",
    OrgKind.CONTRACTOR: "Contractor on the LAP Market supplier list",
    OrgKind.BOROUGH: "London local authority archive service",
}


def document_context(
    session: Session, contract: Contract, *, specification: str | None = None
) -> dict[str, Any]:
    """The plain-dict context the PDF template renders (all user text escaped there)."""
    buyer = _get(session, Organisation, contract.buyer_id)
    supplier = _get(session, Organisation, contract.supplier_id)
    category = _get(session, Category, contract.category_id)
    unit = _get(session, CategoryUnit, contract.unit_id)
    derivation: dict[str, Any]
    if contract.kind == ContractKind.CALL_OFF:
        tender = _get(session, Tender, contract.tender_id)
        lot = _get(session, Lot, contract.lot_id)
        award = _get(session, Award, contract.award_id)
        derivation = {
            "type": "tender", "tender_reference": tender.reference, "tender_title": tender.title,
            "lot_number": lot.number, "lot_title": lot.title, "award_id": award.id,
            "awarded_at": award.awarded_at, "standstill_ends": award.standstill_ends,
        }
        if specification is None and contract.demand_id is not None:
            demand = session.get(Demand, contract.demand_id)
            specification = demand.specification if demand else ""
    else:
        offer = _get(session, Offer, contract.offer_id)
        version = (
            session.get(OfferVersion, contract.offer_version_id)
            if contract.offer_version_id else None
        )
        derivation = {
            "type": "offer", "offer_title": offer.title, "offer_id": offer.id,
            "version_number": version.number if version else offer.current_version,
        }
        if specification is None:
            specification = offer.description
    acceptances = []
    for role, party, by_id, at in (
        ("buyer", buyer, contract.buyer_accepted_by_id, contract.buyer_accepted_at),
        ("supplier", supplier, contract.supplier_accepted_by_id, contract.supplier_accepted_at),
    ):
        user = session.get(User, by_id) if by_id is not None else None
        acceptances.append({
            "role": role, "party": party.name, "by": user.name if user else None,
            "at": as_utc(at) if at else None,
        })
    quantity = Decimal(contract.quantity)
    unit_price = from_pence(contract.unit_price_pence)
    return {
        "reference": contract.reference,
        "kind": contract.kind,
        "kind_label": KIND_LABELS[ContractKind(contract.kind)],
        "issued_at": as_utc(contract.issued_at),
        "status": contract.status,
        "buyer": {"name": buyer.name, "gss_code": buyer.gss_code},
        "supplier": {"name": supplier.name, "description": ORG_DESCRIPTIONS.get(
            OrgKind(supplier.kind), "Service provider")},
        "derivation": derivation,
        "service": contract.description,
        "specification": specification or "",
        "category": {"name": category.name, "code": category.code, "cpv_code": category.cpv_code,
                     "cpv_description": category.cpv_description},
        "unit": {"name": unit.name, "per_year": unit.per_year},
        "lines": [{
            "description": contract.description, "quantity": quantity, "unit": unit.name,
            "unit_price": unit_price, "value": from_pence(contract.value_pence),
        }],
        "value": from_pence(contract.value_pence),
        "vat": from_pence(contract.vat_pence),
        "total": from_pence(contract.total_pence),
        "vat_rate": VAT_RATE_LABEL,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "term_days": term_days(contract.start_date, contract.end_date),
        "payment_terms": contract.payment_terms,
        "acceptances": acceptances,
    }


def render_document(session: Session, contract: Contract) -> bytes:
    """Render a contract's PDF as its record stands now."""
    return pdf.render_contract_pdf(document_context(session, contract))


def _store_document(
    session: Session, contract: Contract, content: bytes, *, reason: str = "issued"
) -> ContractDocument:
    """Keep the bytes as the contract's next document version and put their SHA-256 on the
    record, in the caller's transaction. Earlier versions are never changed."""
    digest = pdf.sha256_hex(content)
    latest = session.exec(
        select(func.max(ContractDocument.version)).where(
            ContractDocument.contract_id == contract.id
        )
    ).one()
    document = ContractDocument(
        contract_id=contract.id,  # type: ignore[arg-type]
        version=(latest or 0) + 1,
        reason=reason,
        content=content,
        sha256=digest,
        created_at=clock.now(),
    )
    session.add(document)
    contract.pdf_sha256 = digest
    session.add(contract)
    return document


# --- pricing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Priced:
    unit_price_pence: int
    value_pence: int
    vat_pence: int
    total_pence: int


def price(quantity: Decimal, unit_price_pence: int, *, per_year: bool, days: int) -> Priced:
    """Value = quantity × unit price (× days ÷ 365 for per-year units), rounded once;
    VAT 20% rounded half-up; total = value + VAT."""
    value = line_value(quantity, from_pence(unit_price_pence), per_year=per_year, days=days)
    vat = vat_on(value)
    return Priced(unit_price_pence, to_pence(value), to_pence(vat), to_pence(value + vat))


def _standalone_pence(
    session: Session, *, category_id: int, unit: CategoryUnit, quantity: Decimal, days: int
) -> int | None:
    """What this buyer would pay alone at the catalogue's best rate for its own quantity."""
    cards = load_rate_cards(session, keys=[(category_id, unit.id)], on=clock.today())  # type: ignore[list-item]
    rate = cards[(category_id, unit.id)].best(quantity)  # type: ignore[index]
    if rate is None:
        return None
    return to_pence(line_value(quantity, rate.unit_price, per_year=unit.per_year, days=days))


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
        .order_by(col(Award.id).desc())
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
    _require_officer(actor)
    tender, lot = load_lot(session, tender_id=tender_id, lot_id=lot_id)
    award = current_award(session, lot.id)  # type: ignore[arg-type]
    if award is None:
        raise Conflict("This lot has not been awarded, so there is nothing to call off.",
                       field="lot_id", lot_status=lot.status)
    if lot.status in (LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL):
        raise Conflict(f"This lot is {lot.status}.", field="lot_id", lot_status=lot.status)
    if not standstill_over(award.standstill_ends, clock.now()):
        raise Conflict(
            f"The standstill period ends on {award.standstill_ends.isoformat()}: call-offs can "
            "be issued from the day after.",
            field="lot_id", standstill_ends=award.standstill_ends.isoformat(),
        )
    return tender, lot, award


def _lot_demands(session: Session, lot_id: int) -> list[Demand]:
    return list(session.exec(
        select(Demand)
        .where(Demand.lot_id == lot_id, Demand.status != DemandStatus.WITHDRAWN)
        .order_by(col(Demand.id))
    ).all())


def _lot_contracts(session: Session, lot_id: int) -> list[Contract]:
    return list(session.exec(
        select(Contract).where(Contract.lot_id == lot_id).order_by(col(Contract.reference))
    ).all())


def pending_counts(session: Session, lot_ids: Iterable[int]) -> dict[int, int]:
    """How many of each lot's demands still have no contract, in one query."""
    wanted = sorted(set(lot_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Demand.lot_id, func.count())
        .outerjoin(Contract, col(Contract.demand_id) == Demand.id)
        .where(col(Demand.lot_id).in_(wanted), Demand.status != DemandStatus.WITHDRAWN,
               col(Contract.id).is_(None))
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


def direct_reference(year: int, sequence: int) -> str:
    """``LAP-DC-2026-0012``: per-year sequence of direct commissions."""
    return f"LAP-DC-{year}-{sequence:04d}"


def issue_call_offs(
    session: Session, actor: User, *, tender_id: int, lot_id: int, progress: Progress | None = None,
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
    unit = _get(session, CategoryUnit, lot.unit_id)
    parties = _preload(session, Organisation, [d.borough_id for d in todo] + [award.supplier_id])  # noqa: F841
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
            if rate is not None else None
        )
        contract = Contract(
            reference=call_off_reference(tender.reference, lot.number, len(existing) + offset),
            kind=ContractKind.CALL_OFF,
            buyer_id=demand.borough_id,
            supplier_id=award.supplier_id,
            tender_id=tender.id, lot_id=lot.id, award_id=award.id, demand_id=demand.id,
            category_id=lot.category_id, unit_id=lot.unit_id,
            description=lot.title,  # e.g. "Storage – linear metre per year (Apr 2027 – Mar 2030)"
            quantity=quantity,
            unit_price_pence=priced.unit_price_pence, value_pence=priced.value_pence,
            vat_pence=priced.vat_pence, total_pence=priced.total_pence,
            standalone_value_pence=standalone,
            start_date=demand.start_date, end_date=demand.end_date,
            payment_terms=PAYMENT_TERMS, status=ContractStatus.ISSUED,
            issued_at=now, issued_by_id=actor.id,  # type: ignore[arg-type]
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
        _store_document(session, contract, content)
        issued.append(contract)
        audit.record(
            session, actor, action="contract.issued", object_type="contract", object_id=contract.id,
            details={"reference": contract.reference, "kind": contract.kind,
                     "buyer_id": contract.buyer_id, "supplier_id": contract.supplier_id,
                     "lot_id": lot.id, "demand_id": contract.demand_id,
                     "value": from_pence(contract.value_pence), "pdf_sha256": contract.pdf_sha256},
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
                session, actor, action="demand.contracted", object_type="demand",
                object_id=demand.id,
                details={"lot_id": lot.id, "contract_id": contract_of.get(demand.id)},
            )
    audit.record(
        session, actor, action="lot.contracted", object_type="lot", object_id=lot.id,
        details={"tender_id": tender.id, "issued": len(issued), "demand_ids": demand_ids},
    )
    _maybe_contract_tender(session, actor, tender)
    return CallOffResult(tender, lot, issued, existing + issued)


def _maybe_contract_tender(session: Session, actor: User, tender: Tender) -> None:
    """A tender is contracted once every awarded lot is (the rest unsuccessful or cancelled)."""
    lots = session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    statuses = [lot.status for lot in lots]
    if not statuses or any(s not in LOT_DONE_STATES for s in statuses):
        return
    if LotStatus.CONTRACTED not in statuses:
        return
    changed = session.execute(
        sa.update(Tender)
        .where(col(Tender.id) == tender.id,
               col(Tender.status).not_in([TenderStatus.CONTRACTED, TenderStatus.CANCELLED]))
        .values(status=TenderStatus.CONTRACTED, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(tender)
    if changed.rowcount:  # type: ignore[attr-defined]
        audit.record(session, actor, action="tender.contracted", object_type="tender",
                     object_id=tender.id, details={"reference": tender.reference})


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
    suppliers = _preload(session, Organisation, [award.supplier_id for _l, _t, award in rows])  # noqa: F841
    pending = pending_counts(session, [lot.id for lot, _t, _a in rows])  # type: ignore[misc]
    now = clock.now()
    return [
        ReadyLot(tender=tender, lot=lot, award=award,
                 supplier=_get(session, Organisation, award.supplier_id),
                 pending=pending[lot.id],  # type: ignore[index]
                 ready=standstill_over(award.standstill_ends, now))
        for lot, tender, award in rows
    ]


# --- direct commissioning ----------------------------------------------------------------------


@dataclass
class DirectQuote:
    offer: Offer
    version: OfferVersion
    unit: CategoryUnit
    category: Category
    quantity: Decimal
    tier_min_quantity: Decimal
    days: int
    priced: Priced
    limit: Decimal

    @property
    def value(self) -> Decimal:
        return from_pence(self.priced.value_pence)

    @property
    def vat(self) -> Decimal:
        return from_pence(self.priced.vat_pence)

    @property
    def total(self) -> Decimal:
        return from_pence(self.priced.total_pence)

    @property
    def unit_price(self) -> Decimal:
        return from_pence(self.priced.unit_price_pence)


def _available(offer: Offer) -> Decimal | None:
    if offer.capacity is None:
        return None
    return Decimal(offer.capacity) - Decimal(offer.capacity_used)


@dataclass
class CommissionableOffer:
    """A published offer as the "Commission this service" page shows it."""

    offer: Offer
    provider: Organisation
    category: Category
    unit: CategoryUnit
    tiers: list[tuple[Decimal, Decimal]]  # (from quantity, unit price ex VAT)
    available: Decimal | None  # capacity left, None when unlimited
    limit: Decimal  # the direct-award limit, ex VAT


def commissionable_offer(
    session: Session, actor: User, offer_id: int, *, settings: Settings | None = None
) -> CommissionableOffer:
    """A published offer's current rates and capacity left, for a borough manager (404 if
    the offer is not published)."""
    if actor.role != Role.BOROUGH_MANAGER:
        raise Forbidden("Only borough managers may commission services directly.")
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise NotFound("No published offer has this id.")
    version = session.exec(
        select(OfferVersion).where(OfferVersion.offer_id == offer.id,
                                   OfferVersion.number == offer.current_version)
    ).first()
    tiers = session.exec(
        select(OfferTier).where(OfferTier.version_id == (version.id if version else -1))
        .order_by(col(OfferTier.min_quantity))
    ).all() if version else []
    return CommissionableOffer(
        offer=offer, provider=_get(session, Organisation, offer.provider_id),
        category=_get(session, Category, offer.category_id),
        unit=_get(session, CategoryUnit, version.unit_id if version else offer.unit_id),
        tiers=[(Decimal(t.min_quantity), from_pence(t.unit_price_pence)) for t in tiers],
        available=_available(offer),
        limit=round_pennies((settings or get_settings()).direct_award_limit),
    )


def quote_direct(
    session: Session, actor: User, *, data: DirectCommissionCreate, settings: Settings | None = None
) -> DirectQuote:
    """Price a direct commission and check every rule, writing nothing.

    422 with ``reason`` (``offer``, ``quantity``, ``dates``, ``validity``,
    ``direct_award_limit`` or ``capacity``) when it cannot be commissioned directly.
    """
    if actor.role != Role.BOROUGH_MANAGER:
        raise Forbidden("Only borough managers may commission services directly.")
    offer = session.get(Offer, data.offer_id)
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise Invalid("No published offer has this id.", field="offer_id", reason="offer")
    version = session.exec(
        select(OfferVersion).where(
            OfferVersion.offer_id == offer.id, OfferVersion.number == offer.current_version
        )
    ).first()
    if version is None:
        raise Invalid("This offer has no published rates.", field="offer_id", reason="offer")
    unit = _get(session, CategoryUnit, version.unit_id)
    category = _get(session, Category, offer.category_id)
    quantity = data.quantity
    if unit.whole and quantity != quantity.to_integral_value():
        raise Invalid(f"Quantity must be a whole number of {unit.name}s.", field="quantity",
                      reason="quantity")
    if data.start_date < clock.today():
        raise Invalid("The start date must not be in the past.", field="start_date", reason="dates")
    if data.start_date < offer.valid_from:
        raise Invalid(
            f"The start date is before the offer is valid (from {offer.valid_from.isoformat()}).",
            field="start_date", reason="validity", valid_from=offer.valid_from.isoformat(),
        )
    if offer.valid_until is not None and data.end_date > offer.valid_until:
        raise Invalid(
            f"The end date is after the offer's validity ends ({offer.valid_until.isoformat()}).",
            field="end_date", reason="validity", valid_until=offer.valid_until.isoformat(),
        )
    available = _available(offer)
    if available is not None and quantity > available:
        raise Invalid(
            f"The offer has capacity for only {available.normalize():f} more {unit.name}s.",
            field="quantity", reason="capacity", available=f"{available:.2f}",
        )
    # The catalogue prices it, so a quote and the contract made from it always agree.
    quoted = catalogue_quotes.quote_offer(
        session, offer_id=data.offer_id, quantity=quantity, start_date=data.start_date,
        end_date=data.end_date,
    )
    if quoted.offer_version_id != version.id:
        raise Conflict("The offer's rates have just changed; please check the price again.",
                       field="offer_id")
    days = quoted.term_days
    priced = Priced(to_pence(quoted.unit_price), to_pence(quoted.value), to_pence(quoted.vat),
                    to_pence(quoted.total))
    limit = round_pennies((settings or get_settings()).direct_award_limit)
    quote = DirectQuote(offer=offer, version=version, unit=unit, category=category,
                        quantity=quantity, tier_min_quantity=quoted.tier_min_quantity, days=days,
                        priced=priced, limit=limit)
    if quote.value > limit:
        raise Invalid(
            f"The value of £{quote.value:,.2f} ex VAT is over the direct-award limit of "
            f"£{limit:,.2f}: raise it as demand for a joint tender instead.",
            field="quantity", reason="direct_award_limit", value=f"{quote.value:.2f}",
            limit=f"{limit:.2f}",
        )
    return quote


def _take_capacity(session: Session, offer_id: int, quantity: Decimal) -> bool:
    """Take capacity with one conditional UPDATE, so two buyers cannot share the last unit.

    The 0.004 slack absorbs SQLite's binary NUMERIC on two-decimal quantities; on exact
    numerics it changes nothing, as every quantity is a multiple of 0.01.
    """
    slack = Decimal("0.004")
    result = session.execute(
        sa.update(Offer)
        .where(
            col(Offer.id) == offer_id,
            col(Offer.status) == OfferStatus.PUBLISHED,
            or_(col(Offer.capacity).is_(None),
                col(Offer.capacity_used) + quantity <= col(Offer.capacity) + slack),
        )
        .values(capacity_used=col(Offer.capacity_used) + quantity)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _next_direct_sequence(session: Session, year: int) -> int:
    prefix = f"LAP-DC-{year}-"
    last = session.exec(
        select(func.max(Contract.reference)).where(col(Contract.reference).startswith(prefix))
    ).one()
    return int(str(last).rsplit("-", 1)[1]) + 1 if last else 1


def commission_offer(
    session: Session, actor: User, *, data: DirectCommissionCreate, settings: Settings | None = None
) -> Contract:
    """Make a direct-commissioning contract at the offer's tier price (422 saying why not)."""
    quote = quote_direct(session, actor, data=data, settings=settings)
    offer, unit = quote.offer, quote.unit
    standalone = _standalone_pence(
        session, category_id=offer.category_id, unit=unit, quantity=quote.quantity, days=quote.days
    )
    if not _take_capacity(session, offer.id, quote.quantity):  # type: ignore[arg-type]
        session.refresh(offer)
        available = _available(offer) or Decimal(0)
        raise Invalid(
            f"Another buyer has just taken this capacity: the offer has capacity for only "
            f"{available.normalize():f} more {unit.name}s.",
            field="quantity", reason="capacity", available=f"{available:.2f}",
        )
    session.refresh(offer)
    now = clock.now()
    contract = Contract(
        reference="",
        kind=ContractKind.DIRECT,
        buyer_id=actor.organisation_id, supplier_id=offer.provider_id,
        offer_id=offer.id, offer_version_id=quote.version.id,
        category_id=offer.category_id, unit_id=unit.id,  # type: ignore[arg-type]
        description=offer.title,
        quantity=quote.quantity,
        unit_price_pence=quote.priced.unit_price_pence, value_pence=quote.priced.value_pence,
        vat_pence=quote.priced.vat_pence, total_pence=quote.priced.total_pence,
        standalone_value_pence=standalone,
        start_date=data.start_date, end_date=data.end_date,
        payment_terms=PAYMENT_TERMS, status=ContractStatus.ISSUED,
        issued_at=now, issued_by_id=actor.id,  # type: ignore[arg-type]
    )
    for _attempt in range(10):
        contract.reference = direct_reference(now.year, _next_direct_sequence(session, now.year))
        content = render_document(session, contract)
        try:
            with session.begin_nested():
                session.add(contract)
                session.flush()
        except IntegrityError:
            continue  # another commission took this reference: take the next one
        break
    else:
        raise Conflict("Could not allocate a contract reference; please try again.")
    _store_document(session, contract, content)
    audit.record(
        session, actor, action="contract.issued", object_type="contract", object_id=contract.id,
        details={"reference": contract.reference, "kind": contract.kind, "offer_id": offer.id,
                 "offer_version_id": quote.version.id, "quantity": quote.quantity,
                 "value": quote.value, "supplier_id": offer.provider_id,
                 "pdf_sha256": contract.pdf_sha256},
    )
    audit.record(
        session, actor, action="offer.capacity_taken", object_type="offer", object_id=offer.id,
        details={"quantity": quote.quantity, "contract_id": contract.id,
                 "capacity_used": offer.capacity_used},
    )
    return contract


# --- acceptance --------------------------------------------------------------------------------


def accept_contract(session: Session, actor: User, contract_id: int) -> Contract:
    """Record the actor's party's acceptance (who and when); active once both have accepted.

    The PDF is rendered again with the acceptance blocks filled in and stored as a new
    version; the record's SHA-256 names it. The issued version and every earlier one stay
    stored unchanged.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No contract with this id.")
    side = acceptance_side(actor, contract)
    if side is None:
        raise Forbidden(
            "Only the buyer's borough manager or the supplier may accept this contract."
        )
    buyer = side == "buyer"
    by_column = Contract.buyer_accepted_by_id if buyer else Contract.supplier_accepted_by_id
    at_column = Contract.buyer_accepted_at if buyer else Contract.supplier_accepted_at
    now = clock.now()
    result = session.execute(
        sa.update(Contract)
        .where(col(Contract.id) == contract_id, col(at_column).is_(None))
        .values({by_column: actor.id, at_column: now})
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise Conflict(f"The {side} has already accepted this contract.", field="contract_id")
    activated = session.execute(
        sa.update(Contract)
        .where(col(Contract.id) == contract_id, col(Contract.status) == ContractStatus.ISSUED,
               col(Contract.buyer_accepted_at).is_not(None),
               col(Contract.supplier_accepted_at).is_not(None))
        .values(status=ContractStatus.ACTIVE)
        .execution_options(synchronize_session=False)
    )
    session.refresh(contract)
    previous_sha256 = contract.pdf_sha256
    document = _store_document(
        session, contract, render_document(session, contract), reason=f"accepted by the {side}"
    )
    audit.record(
        session, actor, action="contract.accepted", object_type="contract", object_id=contract.id,
        details={"reference": contract.reference, "side": side,
                 "previous_pdf_sha256": previous_sha256, "pdf_sha256": contract.pdf_sha256,
                 "pdf_version": document.version},
    )
    if activated.rowcount:  # type: ignore[attr-defined]
        audit.record(
            session, actor, action="contract.activated", object_type="contract",
            object_id=contract.id, details={"reference": contract.reference},
        )
    return contract


# --- summaries -----------------------------------------------------------------------------------


@dataclass
class ContractSummary:
    awaiting_acceptance: int
    awaiting_us: int
    active: int
    total_value: Decimal
    count: int
    to_accept: list[Contract]


def summarise(session: Session, actor: User) -> ContractSummary:
    """Counts and value of the contracts the actor may see."""
    contracts = list_contracts(session, actor)
    side_column = None
    if actor.role == Role.BOROUGH_MANAGER:
        side_column = "buyer_accepted_at"
    elif actor.role == Role.PROVIDER:
        side_column = "supplier_accepted_at"
    to_accept = [
        c for c in contracts if c.status == ContractStatus.ISSUED
        and side_column is not None and getattr(c, side_column) is None
    ]
    return ContractSummary(
        awaiting_acceptance=sum(1 for c in contracts if c.status == ContractStatus.ISSUED),
        awaiting_us=len(to_accept),
        to_accept=to_accept,
        active=sum(1 for c in contracts if c.status == ContractStatus.ACTIVE),
        total_value=from_pence(sum(c.value_pence for c in contracts)),
        count=len(contracts),
    )
