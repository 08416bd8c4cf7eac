"""The contract document: its template context, rendering, and stored versions."""

from decimal import Decimal
from typing import Any

from sqlmodel import Session, func, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferVersion,
)
from lap_market.catalogue.pricing import term_days
from lap_market.clock import as_utc, clock
from lap_market.contracts import pdf
from lap_market.contracts.models import Contract, ContractDocument, ContractKind
from lap_market.contracts.service import VAT_RATE_LABEL, get_row
from lap_market.demand.models import Demand
from lap_market.frameworks.models import CallOffRequest, Framework, FrameworkMember
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.tenders.models import Award, Lot, Tender

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
    buyer = get_row(session, Organisation, contract.buyer_id)
    supplier = get_row(session, Organisation, contract.supplier_id)
    if contract.framework_id is not None:
        derivation, found = framework_derivation(session, contract)
    elif contract.kind == ContractKind.CALL_OFF:
        derivation, found = _tender_derivation(session, contract)
    else:
        derivation, found = _offer_derivation(session, contract)
    return {
        "reference": contract.reference,
        "kind": contract.kind,
        "kind_label": KIND_LABELS[ContractKind(contract.kind)],
        "issued_at": as_utc(contract.issued_at),
        "status": contract.status,
        "po_number": contract.po_number,
        "buyer": _party(buyer),
        "supplier": _party(supplier),
        "derivation": derivation,
        "service": contract.description,
        "specification": (specification if specification is not None else found) or "",
        **_service_terms(session, contract),
        "acceptances": _acceptances(session, contract, buyer, supplier),
    }


def _party(organisation: Organisation) -> dict[str, Any]:
    """A party as the contract names it: legal name, address, numbers and contact."""
    kind = OrgKind(organisation.kind)
    return {
        "name": organisation.display_legal_name,
        "short_name": organisation.name,
        "gss_code": organisation.gss_code,
        "description": ORG_DESCRIPTIONS.get(kind, "Service provider"),
        "address_lines": (organisation.address or "").splitlines(),
        "vat_number": organisation.vat_number,
        "company_number": organisation.company_number,
        "contact": {
            "name": organisation.contact_name,
            "email": organisation.contact_email,
            "phone": organisation.contact_phone,
        },
    }


def _tender_derivation(session: Session, contract: Contract) -> tuple[dict[str, Any], str]:
    """Where a call-off comes from (tender, lot, award) and its demand's specification."""
    tender = get_row(session, Tender, contract.tender_id)
    lot = get_row(session, Lot, contract.lot_id)
    award = get_row(session, Award, contract.award_id)
    demand = session.get(Demand, contract.demand_id) if contract.demand_id is not None else None
    return {
        "type": "tender",
        "tender_reference": tender.reference,
        "tender_title": tender.title,
        "lot_number": lot.number,
        "lot_title": lot.title,
        "award_id": award.id,
        "awarded_at": award.awarded_at,
        "standstill_ends": award.standstill_ends,
    }, demand.specification if demand else ""


def _offer_derivation(session: Session, contract: Contract) -> tuple[dict[str, Any], str]:
    """Which catalogue offer (and rate version) a direct contract commissions."""
    offer = get_row(session, Offer, contract.offer_id)
    version = (
        session.get(OfferVersion, contract.offer_version_id) if contract.offer_version_id else None
    )
    return {
        "type": "offer",
        "offer_title": offer.title,
        "offer_id": offer.id,
        "version_number": version.number if version else offer.current_version,
    }, offer.description


def _service_terms(session: Session, contract: Contract) -> dict[str, Any]:
    """What is bought, for how long, and what it costs."""
    category = get_row(session, Category, contract.category_id)
    unit = get_row(session, CategoryUnit, contract.unit_id)
    return {
        "category": {
            "name": category.name,
            "code": category.code,
            "cpv_code": category.cpv_code,
            "cpv_description": category.cpv_description,
        },
        "unit": {"name": unit.name, "per_year": unit.per_year},
        "lines": [
            {
                "description": contract.description,
                "quantity": Decimal(contract.quantity),
                "unit": unit.name,
                "unit_price": from_pence(contract.unit_price_pence),
                "value": from_pence(contract.value_pence),
            }
        ],
        "value": from_pence(contract.value_pence),
        "vat": from_pence(contract.vat_pence),
        "total": from_pence(contract.total_pence),
        "vat_rate": VAT_RATE_LABEL,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "term_days": term_days(contract.start_date, contract.end_date),
        "payment_terms": contract.payment_terms,
    }


def framework_derivation(session: Session, contract: Contract) -> tuple[dict[str, Any], str]:
    """A framework call-off's origin (the framework, the lot, the route and the member's rank)
    and the specification the borough gave when calling off."""
    framework = get_row(session, Framework, contract.framework_id)
    tender = get_row(session, Tender, framework.tender_id)
    lot = get_row(session, Lot, contract.lot_id)
    member = session.exec(select(FrameworkMember).where(
        FrameworkMember.lot_id == contract.lot_id,
        FrameworkMember.supplier_id == contract.supplier_id)).first()
    request = session.exec(select(CallOffRequest).where(
        CallOffRequest.contract_id == contract.id)).first()
    return {"type": "framework", "framework_reference": framework.reference,
            "framework_end": framework.end_date, "tender_title": tender.title,
            "lot_number": lot.number, "lot_title": lot.title, "route": contract.call_off_route,
            "rank": member.rank if member else None}, request.specification if request else ""


def _acceptances(
    session: Session, contract: Contract, buyer: Organisation, supplier: Organisation
) -> list[dict[str, Any]]:
    """Each party's signatory: name, job title and the moment of acceptance."""
    acceptances = []
    for role, party, by_id, at in (
        ("buyer", buyer, contract.buyer_accepted_by_id, contract.buyer_accepted_at),
        ("supplier", supplier, contract.supplier_accepted_by_id, contract.supplier_accepted_at),
    ):
        user = session.get(User, by_id) if by_id is not None else None
        acceptances.append(
            {
                "role": role,
                "party": party.display_legal_name,
                "by": user.name if user else None,
                "job_title": user.job_title if user else None,
                "at": as_utc(at) if at else None,
            }
        )
    return acceptances


def render_document(session: Session, contract: Contract) -> bytes:
    """Render a contract's PDF as its record stands now."""
    return pdf.render_contract_pdf(document_context(session, contract))


def store_document(
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
        contract_id=pk(contract),
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
