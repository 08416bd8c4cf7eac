"""Contracts: who may see them, reading them, their stored PDFs, acceptance and summaries.

Who may see a contract: its buyer's and its supplier's people, and procurement officers.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from lap_market.accounts.models import Organisation, Role, User
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferVersion,
)
from lap_market.catalogue.pricing import line_value, load_rate_cards, term_days
from lap_market.clock import as_utc, clock
from lap_market.contracts.models import Contract, ContractDocument, ContractStatus
from lap_market.contracts.schemas import (
    AcceptanceRead,
    ContractRead,
    DocumentVersionRead,
    OfferSourceRead,
    PartyRead,
    TenderSourceRead,
)
from lap_market.errors import Forbidden, NotFound
from lap_market.money import from_pence, to_pence, vat_on
from lap_market.paging import paginate
from lap_market.tenders.models import Lot, Tender

PAYMENT_TERMS = "30 days from receipt of a valid invoice"
VAT_RATE_LABEL = "20%"

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


def require_officer(actor: User) -> None:
    if not is_officer(actor):
        raise Forbidden("Only procurement officers may issue call-off contracts.")


# --- reading -------------------------------------------------------------------------------


def preload_rows(session: Session, model: type[M], ids: Iterable[int | None]) -> list[M]:
    """Load rows by id in one query so later ``session.get`` calls hit the identity map.

    The identity map holds rows weakly: keep the returned list alive while reading.
    """
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(session.exec(select(model).where(col(model.id).in_(wanted))).all())  # type: ignore[attr-defined]


def get_row(session: Session, model: type[M], ident: int | None) -> M:
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"{model.__name__} {ident} not found.")
    return row


def visible_contracts(query: Any, actor: User) -> Any:
    """Filter a query on ``Contract`` to the actor's own (officers: all)."""
    if actor.role == Role.BOROUGH_MANAGER:
        return query.where(Contract.buyer_id == actor.organisation_id)
    if actor.role == Role.PROVIDER:
        return query.where(Contract.supplier_id == actor.organisation_id)
    if not is_officer(actor):
        raise Forbidden("Contracts are for boroughs, providers and procurement officers.")
    return query


def contracts_query(
    actor: User,
    *,
    status: str | None = None,
    kind: str | None = None,
    tender_id: int | None = None,
    lot_id: int | None = None,
) -> Any:
    """The contracts the actor may see, filtered, newest first (not yet executed)."""
    query = visible_contracts(select(Contract), actor)
    if status:
        query = query.where(Contract.status == status)
    if kind:
        query = query.where(Contract.kind == kind)
    if tender_id is not None:
        query = query.where(Contract.tender_id == tender_id)
    if lot_id is not None:
        query = query.where(Contract.lot_id == lot_id)
    return query.order_by(col(Contract.id).desc())


def list_contracts(
    session: Session,
    actor: User,
    *,
    status: str | None = None,
    kind: str | None = None,
    tender_id: int | None = None,
    lot_id: int | None = None,
) -> list[Contract]:
    """Every contract the actor may see with these filters, newest first (for bounded sets,
    such as one lot's call-offs; lists people browse use ``page_contracts``)."""
    query = contracts_query(actor, status=status, kind=kind, tender_id=tender_id, lot_id=lot_id)
    return list(session.exec(query).all())


def page_contracts(
    session: Session,
    actor: User,
    *,
    page: int,
    page_size: int,
    status: str | None = None,
    kind: str | None = None,
    tender_id: int | None = None,
    lot_id: int | None = None,
) -> tuple[list[Contract], int]:
    """One page of the contracts the actor may see, and how many there are in all."""
    query = contracts_query(actor, status=status, kind=kind, tender_id=tender_id, lot_id=lot_id)
    return paginate(session, query, page=page, page_size=page_size)


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
            "This contract has no such document version."
            if version
            else "This contract has no document.",
            field="version" if version else None,
        )
    return document


def document_versions(session: Session, contract_id: int) -> list[ContractDocument]:
    """Every stored version of a contract's PDF, oldest first (content not needed)."""
    return list(
        session.exec(
            select(ContractDocument)
            .where(ContractDocument.contract_id == contract_id)
            .order_by(col(ContractDocument.version))
        ).all()
    )


def _document_versions(
    session: Session, contract_ids: Sequence[int]
) -> dict[int, list[DocumentVersionRead]]:
    """Each contract's stored PDF versions, in one query that leaves the bytes unread."""
    if not contract_ids:
        return {}
    rows = session.execute(
        sa.select(
            col(ContractDocument.contract_id),
            col(ContractDocument.version),
            col(ContractDocument.reason),
            col(ContractDocument.sha256),
            col(ContractDocument.created_at),
        )
        .where(col(ContractDocument.contract_id).in_(contract_ids))
        .order_by(col(ContractDocument.contract_id), col(ContractDocument.version))
    ).all()
    versions: dict[int, list[DocumentVersionRead]] = {}
    for contract_id, version, reason, sha256, created_at in rows:
        versions.setdefault(contract_id, []).append(
            DocumentVersionRead(
                version=version,
                reason=reason,
                sha256=sha256,
                created_at=as_utc(created_at),
                url=f"/api/v1/contracts/{contract_id}/pdf?version={version}",
            )
        )
    return versions


def _preload_related(session: Session, contracts: Sequence[Contract]) -> list[list[Any]]:
    """Every row the contracts refer to, in one query per table (keep the result alive)."""
    return [
        preload_rows(
            session, Organisation, [o for c in contracts for o in (c.buyer_id, c.supplier_id)]
        ),
        preload_rows(
            session,
            User,
            [u for c in contracts for u in (c.buyer_accepted_by_id, c.supplier_accepted_by_id)],
        ),
        preload_rows(session, Tender, [c.tender_id for c in contracts]),
        preload_rows(session, Lot, [c.lot_id for c in contracts]),
        preload_rows(session, Offer, [c.offer_id for c in contracts]),
        preload_rows(session, OfferVersion, [c.offer_version_id for c in contracts]),
        preload_rows(session, Category, [c.category_id for c in contracts]),
        preload_rows(session, CategoryUnit, [c.unit_id for c in contracts]),
    ]


def _party(org: Organisation) -> PartyRead:
    return PartyRead(id=org.id, name=org.name, kind=org.kind, gss_code=org.gss_code)  # type: ignore[arg-type]


def _acceptance(session: Session, by_id: int | None, at: datetime | None) -> AcceptanceRead | None:
    if by_id is None or at is None:
        return None
    user = get_row(session, User, by_id)
    return AcceptanceRead(by_id=by_id, by_name=user.name, at=as_utc(at))


def contract_reads(session: Session, contracts: Sequence[Contract]) -> list[ContractRead]:
    """API views of contracts, loading their related rows in bulk."""
    loaded = _preload_related(session, contracts)  # noqa: F841 - held so the identity map keeps them
    versions = _document_versions(session, [c.id for c in contracts if c.id is not None])
    reads = []
    for c in contracts:
        category = get_row(session, Category, c.category_id)
        unit = get_row(session, CategoryUnit, c.unit_id)
        tender_source = None
        if c.tender_id is not None and c.lot_id is not None:
            tender = get_row(session, Tender, c.tender_id)
            lot = get_row(session, Lot, c.lot_id)
            tender_source = TenderSourceRead(
                tender_id=c.tender_id,
                tender_reference=tender.reference,
                lot_id=c.lot_id,
                lot_number=lot.number,
                award_id=c.award_id,
            )
        offer_source = None
        if c.offer_id is not None:
            offer = get_row(session, Offer, c.offer_id)
            version = session.get(OfferVersion, c.offer_version_id) if c.offer_version_id else None
            offer_source = OfferSourceRead(
                offer_id=c.offer_id,
                offer_title=offer.title,
                offer_version_id=c.offer_version_id,
                offer_version_number=version.number if version else None,
            )
        reads.append(
            ContractRead(
                id=c.id,  # type: ignore[arg-type]
                reference=c.reference,
                kind=c.kind,
                status=c.status,
                buyer=_party(get_row(session, Organisation, c.buyer_id)),
                supplier=_party(get_row(session, Organisation, c.supplier_id)),
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
                po_number=c.po_number,
            )
        )
    return reads


def contract_read(session: Session, contract: Contract) -> ContractRead:
    """The API view of one contract."""
    return contract_reads(session, [contract])[0]


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


def standalone_pence(
    session: Session, *, category_id: int, unit: CategoryUnit, quantity: Decimal, days: int
) -> int | None:
    """What this buyer would pay alone at the catalogue's best rate for its own quantity."""
    cards = load_rate_cards(session, keys=[(category_id, unit.id)], on=clock.today())  # type: ignore[list-item]
    rate = cards[(category_id, unit.id)].best(quantity)  # type: ignore[index]
    if rate is None:
        return None
    return to_pence(line_value(quantity, rate.unit_price, per_year=unit.per_year, days=days))


# --- summaries -----------------------------------------------------------------------------------


@dataclass
class ContractSummary:
    awaiting_acceptance: int
    awaiting_us: int
    active: int
    total_value: Decimal
    count: int
    to_accept: list[Contract]


def _awaiting_us(actor: User) -> Any:
    """Issued contracts still waiting for the actor's side to accept (None for officers)."""
    if actor.role == Role.BOROUGH_MANAGER:
        waiting = col(Contract.buyer_accepted_at)
    elif actor.role == Role.PROVIDER:
        waiting = col(Contract.supplier_accepted_at)
    else:
        return None
    return sa.and_(col(Contract.status) == ContractStatus.ISSUED, waiting.is_(None))


def summarise(session: Session, actor: User, *, listed: int = 5) -> ContractSummary:
    """Counts and value of every contract the actor may see, summed by the database; and the
    newest ``listed`` of those awaiting the actor's acceptance."""
    awaiting_us = _awaiting_us(actor)

    def count_where(condition: Any) -> Any:
        return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)

    totals = sa.select(
        func.count(),
        count_where(col(Contract.status) == ContractStatus.ISSUED),
        count_where(col(Contract.status) == ContractStatus.ACTIVE),
        count_where(awaiting_us if awaiting_us is not None else sa.false()),
        func.coalesce(func.sum(col(Contract.value_pence)), 0),
    ).select_from(Contract)
    count, issued, active, mine, value = session.execute(
        visible_contracts(totals, actor)
    ).one()
    to_accept: list[Contract] = []
    if awaiting_us is not None:
        query = contracts_query(actor).where(awaiting_us).limit(listed)
        to_accept = list(session.exec(query).all())
    return ContractSummary(
        awaiting_acceptance=int(issued),
        awaiting_us=int(mine),
        to_accept=to_accept,
        active=int(active),
        total_value=from_pence(int(value)),
        count=int(count),
    )
