"""Who may do what to a contract after signature, and the rules every figure follows."""

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from lap_market.accounts.models import User
from lap_market.accounts.policy import acts_for, is_provider
from lap_market.accounts.policy import is_officer as is_officer  # read through this module too
from lap_market.contract_management.models import (
    ChangeStatus,
    ContractChange,
    Invoice,
    InvoiceStatus,
)
from lap_market.contracts import policy as contract_policy
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.contracts.policy import acceptance_side
from lap_market.contracts.policy import can_see as can_see
from lap_market.contracts.policy import is_buyer as is_buyer
from lap_market.contracts.policy import is_supplier as is_supplier

Q = TypeVar("Q", bound=contract_policy.Filterable)

PAYMENT_DAYS = 30
# Procurement Act 2023 s.74: a change of more than 10 % of a services contract's value is
# substantial and needs a change notice.
SUBSTANTIAL_PCT = Decimal("10")
SPEND_WARNINGS = (80, 100)  # percent of the value at which the borough and officers are told
RENEWAL_NOTICE_DAYS = (90, 30)
# Never stored: a contract past its (current) end date reads as expired.
EXPIRED = "expired"
# Invoices that still count against the contract's value (a withdrawn one no longer does).
COUNTED = (
    InvoiceStatus.SUBMITTED,
    InvoiceStatus.APPROVED,
    InvoiceStatus.DISPUTED,
    InvoiceStatus.PAID,
)
# Invoices that are owed until paid (a disputed one waits for the dispute to end).
OWED = (InvoiceStatus.SUBMITTED, InvoiceStatus.APPROVED)


def can_invoice(actor: User, contract: Contract) -> bool:
    return is_supplier(actor, contract)


def can_invoice_now(actor: User, contract: Contract) -> bool:
    """The supplier invoices while the contract is active."""
    return can_invoice(actor, contract) and contract.status == ContractStatus.ACTIVE


def can_settle(actor: User, contract: Contract) -> bool:
    """Approve, dispute and record payment of invoices: the buyer's people."""
    return is_buyer(actor, contract)


def can_withdraw(actor: User, invoice: Invoice) -> bool:
    return is_provider(actor) and acts_for(actor, invoice.supplier_id)


# The states each step on an invoice moves it from (the services' conditional updates use
# these too, so the buttons shown and the steps allowed never disagree).
APPROVABLE = (InvoiceStatus.SUBMITTED, InvoiceStatus.DISPUTED)
DISPUTABLE = (InvoiceStatus.SUBMITTED, InvoiceStatus.APPROVED)
PAYABLE = (InvoiceStatus.APPROVED,)
WITHDRAWABLE = (InvoiceStatus.SUBMITTED, InvoiceStatus.DISPUTED)


def can_approve(actor: User, contract: Contract, invoice: Invoice) -> bool:
    return can_settle(actor, contract) and invoice.status in APPROVABLE


def can_dispute(actor: User, contract: Contract, invoice: Invoice) -> bool:
    return can_settle(actor, contract) and invoice.status in DISPUTABLE


def can_record_payment(actor: User, contract: Contract, invoice: Invoice) -> bool:
    return can_settle(actor, contract) and invoice.status in PAYABLE


def can_withdraw_now(actor: User, invoice: Invoice) -> bool:
    return can_withdraw(actor, invoice) and invoice.status in WITHDRAWABLE


def can_propose_change(actor: User, contract: Contract) -> bool:
    return is_buyer(actor, contract) or is_officer(actor)


def can_propose_change_now(actor: User, contract: Contract) -> bool:
    """Changes are proposed to an active contract."""
    return can_propose_change(actor, contract) and contract.status == ContractStatus.ACTIVE


# Which party ``actor`` accepts a change for: the same side that accepted the contract.
change_side = acceptance_side


def can_terminate(actor: User, contract: Contract) -> bool:
    return is_buyer(actor, contract) or is_officer(actor)


def can_terminate_now(actor: User, contract: Contract) -> bool:
    """A contract is terminated while issued or active (not once terminated)."""
    return can_terminate(actor, contract) and contract.status in (
        ContractStatus.ISSUED, ContractStatus.ACTIVE,
    )


def value_pence(contract: Contract) -> int:
    """The contract's value after the changes in effect."""
    if contract.current_value_pence is not None:
        return contract.current_value_pence
    return contract.value_pence


def end_date(contract: Contract) -> date:
    """The contract's end date after the changes in effect (and termination)."""
    end = contract.current_end_date or contract.end_date
    if contract.terminated_on is not None:
        return min(end, contract.terminated_on)
    return end


def quantity(contract: Contract) -> Decimal:
    if contract.current_quantity is not None:
        return contract.current_quantity
    return contract.quantity


def status(contract: Contract, today: date) -> str:
    """Issued, active, terminated, or expired once past its end date (an England date)."""
    if contract.status == ContractStatus.TERMINATED:
        return ContractStatus.TERMINATED
    if today > end_date(contract):
        return EXPIRED
    return contract.status


def is_overdue(invoice: Invoice, today: date) -> bool:
    return invoice.status in OWED and today > invoice.due_on


def is_substantial(cumulative_pct: Decimal) -> bool:
    return cumulative_pct > SUBSTANTIAL_PCT


def can_accept_change(actor: User, contract: Contract, change: ContractChange) -> bool:
    side = change_side(actor, contract)
    if side == "buyer":
        return change.buyer_accepted_at is None
    if side == "supplier":
        return change.supplier_accepted_at is None
    return False


def can_reject_change(actor: User, contract: Contract) -> bool:
    """Either party, or an officer, may reject a proposed change."""
    return change_side(actor, contract) is not None or is_officer(actor)


def is_open(change: ContractChange) -> bool:
    """A change waits for acceptance or rejection while proposed."""
    return change.status == ChangeStatus.PROPOSED


def scoped(query: Q, actor: User, *, buyer: Any, supplier: Any, refusal: str) -> Q:
    """Rows the actor's organisation is party to (officers: all); see contracts.policy."""
    return contract_policy.scoped(query, actor, buyer=buyer, supplier=supplier, refusal=refusal)
