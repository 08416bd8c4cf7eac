"""A tender's call-off contracts in OCDS: signed, changed, paid and terminated.

Each contract event is its own release, a snapshot at its date (as the tender's are):

=====================================  ====================  ===============================
release id                             tag                   date
=====================================  ====================  ===============================
``{ocid}-contract-{id}``               contract              the contract was issued
``{ocid}-contract-{id}-change-{n}``    contractAmendment     change *n* took effect
``{ocid}-contract-{id}-payment-{inv}`` implementation        invoice *inv*'s payment recorded
``{ocid}-contract-{id}-terminated``    contractTermination   the termination was recorded
=====================================  ====================  ===============================

Payments appear as ``implementation.transactions`` (what was paid, including VAT, from the
borough to the supplier); changes as ``amendments`` with their coded reason as rationale.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from lap_market.accounts.models import Organisation
from lap_market.clock import as_utc
from lap_market.contract_management.models import ContractChange, Invoice
from lap_market.contracts.models import Contract
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.ocds import schemas as o


@dataclass
class ContractFacts:
    """One call-off contract with its changes in effect and its paid invoices."""

    contract: Contract
    changes: list[ContractChange] = field(default_factory=list)
    payments: list[Invoice] = field(default_factory=list)


@dataclass(frozen=True)
class ContractStage:
    suffix: str
    tag: str
    date: datetime
    contract_id: int


def contract_stages(contracts: list[ContractFacts]) -> list[ContractStage]:
    """Each contract's releases in order: issued, each change in effect, each payment
    recorded, its termination (the ones that have happened)."""
    found: list[ContractStage] = []
    for facts in contracts:
        contract = facts.contract
        cid = pk(contract)
        moments = [
            ("", "contract", contract.issued_at),
            *((f"-change-{c.number}", "contractAmendment", c.effective_at) for c in facts.changes),
            *((f"-payment-{i.id}", "implementation", i.paid_recorded_at) for i in facts.payments),
            ("-terminated", "contractTermination", contract.terminated_at),
        ]
        found.extend(
            ContractStage(f"contract-{cid}{suffix}", tag, as_utc(moment), cid)
            for suffix, tag, moment in moments
            if moment is not None
        )
    return found


def contract_release_part(
    facts: ContractFacts,
    organisations: dict[int, Organisation],
    ocid: str,
    at: datetime,
    reference: Callable[[Organisation], o.OrganizationReference],
) -> o.Contract:
    """The contract as it stood at ``at``."""
    contract = facts.contract
    changes = [c for c in facts.changes if c.effective_at and as_utc(c.effective_at) <= at]
    value = changes[-1].value_after_pence if changes else contract.value_pence
    end = changes[-1].end_date_after if changes else contract.end_date
    buyer, supplier = organisations[contract.buyer_id], organisations[contract.supplier_id]
    return o.Contract(
        id=f"contract-{contract.id}",
        award_id=f"award-{contract.award_id}",
        title=f"{contract.reference}: {contract.description}"[:300],
        status=_status(contract, at),
        period=o.Period(
            start_date=datetime.combine(contract.start_date, time(0), tzinfo=UTC),
            end_date=datetime.combine(end, time(23, 59, 59), tzinfo=UTC),
        ),
        value=o.Value(amount=from_pence(value)),
        date_signed=_signed(contract, at),
        amendments=[_amendment(ocid, contract, change) for change in changes] or None,
        implementation=_implementation(facts, at, reference(buyer), reference(supplier)),
    )


def _status(contract: Contract, at: datetime) -> str:
    if contract.terminated_at is not None and as_utc(contract.terminated_at) <= at:
        return "terminated"
    signed = _signed(contract, at)
    return "active" if signed is not None else "pending"


def _signed(contract: Contract, at: datetime) -> datetime | None:
    """When the second party accepted, if both had by ``at``."""
    times = [contract.buyer_accepted_at, contract.supplier_accepted_at]
    if any(t is None for t in times):
        return None
    signed = max(as_utc(t) for t in times if t is not None)
    return signed if signed <= at else None


def _amendment(ocid: str, contract: Contract, change: ContractChange) -> o.Amendment:
    notice = (
        f" Change notice {change.change_notice_reference}."
        if change.change_notice_reference
        else ""
    )
    return o.Amendment(
        id=f"change-{change.number}",
        # A change in effect always has effective_at; the column is optional for proposals.
        date=as_utc(change.effective_at),  # type: ignore[arg-type]
        rationale=f"{change.reason_code}: {change.explanation}",
        description=(
            f"Change of {change.kind}: value {from_pence(change.value_before_pence)} "
            f"to {from_pence(change.value_after_pence)} GBP, ends "
            f"{change.end_date_after.isoformat()}; cumulative "
            f"{change.cumulative_change_pct}% of the awarded value.{notice}"
        ),
        release_id=f"{ocid}-contract-{contract.id}-change-{change.number}",
    )


def _implementation(
    facts: ContractFacts,
    at: datetime,
    payer: o.OrganizationReference,
    payee: o.OrganizationReference,
) -> o.Implementation | None:
    paid = [
        i
        for i in facts.payments
        if i.paid_recorded_at is not None and as_utc(i.paid_recorded_at) <= at
    ]
    if not paid:
        return None
    return o.Implementation(
        transactions=[
            o.Transaction(
                id=f"invoice-{invoice.id}",
                # A paid invoice always has paid_on; the column is optional until then.
                date=datetime.combine(invoice.paid_on, time(12), tzinfo=UTC),  # type: ignore[arg-type]
                value=o.Value(amount=from_pence(invoice.amount_pence + invoice.vat_pence)),
                payer=payer,
                payee=payee,
            )
            for invoice in paid
        ]
    )
