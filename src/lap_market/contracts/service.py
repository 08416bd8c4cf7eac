"""Contracts: who may see them, reading them, their stored PDFs, acceptance and summaries.

Who may see a contract: its buyer's and its supplier's people, and procurement officers.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict, TypeVar, Unpack

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.accounts.policy import is_selling_borough
from lap_market.audit import service as audit
from lap_market.catalogue.models import (
    CategoryUnit,
)
from lap_market.catalogue.pricing import RateCard, line_value, load_rate_cards, term_days
from lap_market.clock import as_utc, clock
from lap_market.contracts import policy
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
from lap_market.modeling import loaded_with, pk
from lap_market.money import from_pence, to_pence, vat_on
from lap_market.paging import paginate

PAYMENT_TERMS = "30 days from receipt of a valid invoice"
VAT_RATE_LABEL = "20%"

M = TypeVar("M", bound=SQLModel)
Q = TypeVar("Q", bound=policy.Filterable)


# --- reading -------------------------------------------------------------------------------


def record_issued(session: Session, actor: User, contract: Contract, **details: object) -> None:
    """Audit a newly issued contract (call-off or direct) with what is particular to it."""
    audit.record(
        session, actor, action="contract.issued", object_type="contract",
        object_id=contract.id,
        details={
            "reference": contract.reference, "kind": contract.kind, **details,
            "pdf_sha256": contract.pdf_sha256,
        },
    )


def organisations(session: Session, ids: Iterable[int]) -> dict[int, Organisation]:
    """Organisations by id, in one query."""
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(set(ids)))).all()
    return {pk(o): o for o in rows}


def get_row(session: Session, model: type[M], ident: int | None) -> M:
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"{model.__name__} {ident} not found.")
    return row


def visible_contracts(query: Q, actor: User) -> Q:
    """Filter a query on ``Contract`` to the actor's own (officers: all)."""
    return policy.scoped(
        query, actor, buyer=Contract.buyer_id, supplier=Contract.supplier_id,
        refusal="Contracts are for boroughs, providers and procurement officers.",
    )


class ContractFilters(TypedDict, total=False):
    """What a contract list narrows by (absent or empty: no filter)."""

    status: str | None
    kind: str | None
    tender_id: int | None
    lot_id: int | None


def contracts_query(actor: User, **filters: Unpack[ContractFilters]) -> Any:
    """The contracts the actor may see, filtered, newest first (not yet executed)."""
    query = visible_contracts(select(Contract), actor)
    if status := filters.get("status"):
        query = query.where(Contract.status == status)
    if kind := filters.get("kind"):
        query = query.where(Contract.kind == kind)
    if (tender_id := filters.get("tender_id")) is not None:
        query = query.where(Contract.tender_id == tender_id)
    if (lot_id := filters.get("lot_id")) is not None:
        query = query.where(Contract.lot_id == lot_id)
    return query.order_by(col(Contract.id).desc())


def list_contracts(
    session: Session, actor: User, **filters: Unpack[ContractFilters]
) -> list[Contract]:
    """Every contract the actor may see with these filters, newest first (for bounded sets,
    such as one lot's call-offs; lists people browse use ``page_contracts``)."""
    return list(session.exec(contracts_query(actor, **filters)).all())


def page_contracts(
    session: Session, actor: User, *, page: int, page_size: int,
    **filters: Unpack[ContractFilters],
) -> tuple[list[Contract], int]:
    """One page of the contracts the actor may see, and how many there are in all."""
    return paginate(session, contracts_query(actor, **filters), page=page, page_size=page_size)


def get_contract(session: Session, actor: User, contract_id: int) -> Contract:
    """One contract, if the actor may see it (404 if none, 403 if not theirs)."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No contract with this id.")
    if not policy.can_see(actor, contract):
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


# What an API view of a contract reads beyond its own row, loaded one query per table.
READ_RELATIONS = (
    "buyer", "supplier", "tender", "lot", "offer", "offer_version", "category", "unit",
    "buyer_accepted_by", "supplier_accepted_by",
)


def with_related(session: Session, contracts: Sequence[Contract]) -> list[Contract]:
    """The contracts again, each with every row its view reads (``READ_RELATIONS``)."""
    return loaded_with(session, Contract, contracts, READ_RELATIONS)


def _party(org: Organisation) -> PartyRead:
    return PartyRead(id=pk(org), name=org.name, kind=org.kind, gss_code=org.gss_code)


def _acceptance(by: User | None, at: datetime | None) -> AcceptanceRead | None:
    if by is None or at is None:
        return None
    return AcceptanceRead(by_id=pk(by), by_name=by.name, at=as_utc(at))


def _tender_source(c: Contract) -> TenderSourceRead | None:
    if c.tender is None or c.lot is None:
        return None
    return TenderSourceRead(
        tender_id=pk(c.tender), tender_reference=c.tender.reference,
        lot_id=pk(c.lot), lot_number=c.lot.number, award_id=c.award_id,
    )


def _offer_source(c: Contract) -> OfferSourceRead | None:
    if c.offer is None:
        return None
    return OfferSourceRead(
        offer_id=pk(c.offer), offer_title=c.offer.title,
        offer_version_id=c.offer_version_id,
        offer_version_number=c.offer_version.number if c.offer_version else None,
    )


def _contract_view(c: Contract, documents: list[DocumentVersionRead]) -> ContractRead:
    """The API view of one contract whose related rows are loaded."""
    return ContractRead(
        id=pk(c), reference=c.reference, kind=c.kind, status=c.status,
        buyer=_party(c.buyer), supplier=_party(c.supplier),
        tender=_tender_source(c), offer=_offer_source(c), demand_id=c.demand_id,
        service=c.description,
        category=c.category.code, category_name=c.category.name,
        cpv_code=c.category.cpv_code, unit=c.unit.code, unit_name=c.unit.name,
        quantity=Decimal(c.quantity), unit_price=from_pence(c.unit_price_pence),
        value=from_pence(c.value_pence), vat=from_pence(c.vat_pence),
        total=from_pence(c.total_pence),
        start_date=c.start_date, end_date=c.end_date,
        term_days=term_days(c.start_date, c.end_date), payment_terms=c.payment_terms,
        issued_at=as_utc(c.issued_at),
        buyer_acceptance=_acceptance(c.buyer_accepted_by, c.buyer_accepted_at),
        supplier_acceptance=_acceptance(c.supplier_accepted_by, c.supplier_accepted_at),
        pdf_sha256=c.pdf_sha256, documents=documents, pdf_url=f"/api/v1/contracts/{c.id}/pdf",
        po_number=c.po_number,
    )


def contract_reads(session: Session, contracts: Sequence[Contract]) -> list[ContractRead]:
    """API views of contracts, reading their related rows and PDF versions in bulk."""
    loaded = with_related(session, contracts)
    versions = _document_versions(session, [pk(c) for c in loaded])
    return [_contract_view(c, versions.get(pk(c), [])) for c in loaded]


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
    key = (category_id, pk(unit))
    card = load_rate_cards(session, keys=[key], on=clock.today())[key]
    return standalone_value(card, unit, quantity, days)


def standalone_value(
    card: RateCard, unit: CategoryUnit, quantity: Decimal, days: int
) -> int | None:
    """A quantity's value at the best rate on ``card`` (pence; None when none has capacity)."""
    rate = card.best(quantity)
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
    if is_selling_borough(actor):  # waiting for it as buyer or as supplier
        org = actor.organisation_id
        return sa.and_(col(Contract.status) == ContractStatus.ISSUED, sa.or_(
            sa.and_(col(Contract.buyer_id) == org, col(Contract.buyer_accepted_at).is_(None)),
            sa.and_(col(Contract.supplier_id) == org,
                    col(Contract.supplier_accepted_at).is_(None)),
        ))
    side = policy.waiting_side(actor)
    if side is None:
        return None
    waiting = col(Contract.buyer_accepted_at if side == "buyer" else Contract.supplier_accepted_at)
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
