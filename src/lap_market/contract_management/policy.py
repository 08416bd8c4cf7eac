"""Who may do what to a contract after signature, and the rules every figure follows."""

from datetime import date
from decimal import Decimal

from lap_market.accounts.models import Role, User
from lap_market.accounts.policy import is_provider
from lap_market.contract_management.models import ContractChange, Invoice, InvoiceStatus
from lap_market.contracts.models import Contract, ContractStatus

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


def is_officer(actor: User) -> bool:
    return actor.role == Role.PROCUREMENT_OFFICER


def is_buyer(actor: User, contract: Contract) -> bool:
    return actor.role == Role.BOROUGH_MANAGER and actor.organisation_id == contract.buyer_id


def is_supplier(actor: User, contract: Contract) -> bool:
    return is_provider(actor) and actor.organisation_id == contract.supplier_id


def can_see(actor: User, contract: Contract) -> bool:
    return is_officer(actor) or is_buyer(actor, contract) or is_supplier(actor, contract)


def can_invoice(actor: User, contract: Contract) -> bool:
    return is_supplier(actor, contract)


def can_settle(actor: User, contract: Contract) -> bool:
    """Approve, dispute and record payment of invoices: the buyer's people."""
    return is_buyer(actor, contract)


def can_withdraw(actor: User, invoice: Invoice) -> bool:
    return is_provider(actor) and actor.organisation_id == invoice.supplier_id


def can_propose_change(actor: User, contract: Contract) -> bool:
    return is_buyer(actor, contract) or is_officer(actor)


def change_side(actor: User, contract: Contract) -> str | None:
    """Which party ``actor`` accepts a change for: "buyer", "supplier", or None."""
    if is_buyer(actor, contract):
        return "buyer"
    if is_supplier(actor, contract):
        return "supplier"
    return None


def can_terminate(actor: User, contract: Contract) -> bool:
    return is_buyer(actor, contract) or is_officer(actor)


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
