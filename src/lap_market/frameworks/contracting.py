"""The call-off contract a framework call-off ends in: made exactly as a tender's call-offs
are (price for the term, VAT, the standalone value for savings, a PDF kept with its hash),
naming the framework, the lot and the route."""

from decimal import Decimal

from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.catalogue.models import CategoryUnit
from lap_market.catalogue.pricing import line_value, load_rate_cards, term_days
from lap_market.clock import clock
from lap_market.contracts import pdf
from lap_market.contracts.documents import document_context, store_document
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.service import PAYMENT_TERMS, get_row, price
from lap_market.frameworks.models import CallOffRequest, Framework, FrameworkMember
from lap_market.modeling import pk
from lap_market.money import from_pence, to_pence
from lap_market.notifications import events
from lap_market.tenders.models import Lot


def _reference(session: Session, framework: Framework) -> str:
    """``LAP-2026-0007-FW-C003``: the framework, then the call-off's sequence under it."""
    made = session.exec(
        select(func.count()).select_from(Contract).where(
            col(Contract.framework_id) == framework.id)
    ).one()
    return f"{framework.reference}-C{made + 1:03d}"


def _standalone(session: Session, lot: Lot, quantity: Decimal, days: int,
                per_year: bool) -> int | None:
    """What the borough would have paid alone at the catalogue's best rate (for savings)."""
    card = load_rate_cards(session, keys=[(lot.category_id, lot.unit_id)],
                           on=clock.today())[(lot.category_id, lot.unit_id)]
    rate = card.best(quantity)
    if rate is None:
        return None
    return to_pence(line_value(quantity, rate.unit_price, per_year=per_year, days=days))


def issue(session: Session, actor: User | None, framework: Framework, request: CallOffRequest,
          member: FrameworkMember, unit_price_pence: int) -> Contract:
    """Issue the call-off contract to ``member`` at ``unit_price_pence`` (caller's transaction)."""
    lot = get_row(session, Lot, request.lot_id)
    unit = get_row(session, CategoryUnit, lot.unit_id)
    quantity = Decimal(request.quantity)
    days = term_days(request.start_date, request.end_date)
    priced = price(quantity, unit_price_pence, per_year=unit.per_year, days=days)
    contract = Contract(
        reference=_reference(session, framework), kind=ContractKind.CALL_OFF,
        buyer_id=request.borough_id, supplier_id=member.supplier_id,
        tender_id=framework.tender_id, lot_id=lot.id, award_id=member.award_id,
        category_id=lot.category_id, unit_id=lot.unit_id, description=lot.title,
        quantity=quantity, unit_price_pence=priced.unit_price_pence,
        value_pence=priced.value_pence, vat_pence=priced.vat_pence,
        total_pence=priced.total_pence,
        standalone_value_pence=_standalone(session, lot, quantity, days, unit.per_year),
        start_date=request.start_date, end_date=request.end_date, payment_terms=PAYMENT_TERMS,
        status=ContractStatus.ISSUED, issued_at=clock.now(),
        issued_by_id=request.requested_by_id, framework_id=framework.id,
        call_off_route=request.route,
    )
    session.add(contract)
    session.flush()
    context = document_context(session, contract, specification=request.specification)
    store_document(session, contract, pdf.render_contract_pdf(context))
    request.contract_id = pk(contract)
    session.add(request)
    audit.record(
        session, actor, action="contract.issued", object_type="contract", object_id=contract.id,
        organisation_id=None if actor else request.borough_id,
        details={"reference": contract.reference, "kind": contract.kind,
                 "framework": framework.reference, "route": request.route,
                 "call_off_request_id": request.id, "buyer_id": contract.buyer_id,
                 "supplier_id": contract.supplier_id, "lot_id": lot.id,
                 "value": from_pence(contract.value_pence), "pdf_sha256": contract.pdf_sha256},
    )
    events.call_offs_issued(session, [contract])
    return contract
