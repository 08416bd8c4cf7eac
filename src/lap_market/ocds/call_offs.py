"""Framework call-offs in OCDS: each call-off is its own contracting process.

The framework tender's process (``tender.techniques.hasFrameworkAgreement``) awards a place
to each member; every call-off made under it gets an ocid of its own (the publisher prefix
and the contract reference) and points back with ``relatedProcesses`` (relationship
``framework``). Its releases are the contract's (issue, changes, payments, termination),
each carrying the call-off's tender (direct award: ``limited``; further competition:
``selective``), its award to the supplier, and the contract as it stood at that date.
"""

from datetime import datetime
from decimal import Decimal

from lap_market.accounts.models import Organisation
from lap_market.clock import as_utc
from lap_market.contracts.models import Contract
from lap_market.money import from_pence
from lap_market.ocds import schemas as o
from lap_market.ocds.builder import party_id
from lap_market.ocds.contracts import ContractFacts, contract_release_part, contract_stages

METHODS = {"direct_award": "limited", "further_competition": "selective"}
ROUTE_NAMES = {"direct_award": "direct award", "further_competition": "further competition"}


def call_off_ocid(prefix: str, contract: Contract) -> str:
    return f"{prefix}-{contract.reference}"


def call_off_releases(
    item: ContractFacts, *, prefix: str, framework_ocid: str, entity: Organisation,
    organisations: dict[int, Organisation], lot: o.Lot, lot_item: o.Item, now: datetime,
    since: datetime | None,
) -> list[o.Release]:
    """The call-off's releases up to ``now`` (those dated ``since`` or later, if given)."""
    contract = item.contract
    ocid = call_off_ocid(prefix, contract)
    found = [s for s in contract_stages([item]) if s.date <= now]
    return [
        _release(item, ocid, framework_ocid, entity, organisations, lot, lot_item, s.suffix,
                 s.tag, s.date)
        for s in sorted(found, key=lambda s: s.date)
        if since is None or s.date >= since
    ]


def _party(organisation: Organisation, roles: list[str]) -> o.Organization:
    return o.Organization(id=party_id(organisation), name=organisation.name, roles=roles)


def _reference(organisation: Organisation) -> o.OrganizationReference:
    return o.OrganizationReference(id=party_id(organisation), name=organisation.name)


def _release(
    item: ContractFacts, ocid: str, framework_ocid: str, entity: Organisation,
    organisations: dict[int, Organisation], lot: o.Lot, lot_item: o.Item, suffix: str,
    tag: str, at: datetime,
) -> o.Release:
    contract = item.contract
    buyer, supplier = organisations[contract.buyer_id], organisations[contract.supplier_id]
    route = contract.call_off_route or "direct_award"
    call_item = lot_item.model_copy(update={
        "quantity": Decimal(contract.quantity),
        "unit": o.Unit(name=lot_item.unit.name,
                       value=o.Value(amount=from_pence(contract.unit_price_pence)))})
    issued = as_utc(contract.issued_at)
    return o.Release(
        ocid=ocid, id=f"{ocid}-{suffix}", date=at,
        tag=["award", "contract"] if tag == "contract" else [tag],
        initiation_type="tender",
        parties=[_party(entity, ["procuringEntity"]), _party(buyer, ["buyer"]),
                 _party(supplier, ["supplier"])],
        tender=o.Tender(
            id=contract.reference, title=f"{contract.reference}: call-off by "
            f"{ROUTE_NAMES[route]} under {framework_ocid}", status="complete",
            procuring_entity=_reference(entity), items=[call_item],
            procurement_method=METHODS[route], lots=[lot.model_copy(update={"status": "complete"})],
        ),
        awards=[o.Award(
            id=f"award-{contract.award_id}", title=f"Call-off {contract.reference}",
            status="active", date=issued, value=o.Value(amount=from_pence(contract.value_pence)),
            suppliers=[_reference(supplier)], items=[call_item], related_lots=[lot.id],
        )],
        contracts=[contract_release_part(item, organisations, ocid, at, _reference)],
        related_processes=[o.RelatedProcess(
            id="framework", relationship=["framework"], title="The framework agreement",
            identifier=framework_ocid)],
    )
