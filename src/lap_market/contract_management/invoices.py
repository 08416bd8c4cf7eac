"""Invoices: the supplier submits, the buyer approves or disputes and records payment.

Each invoice is due 30 days after the day it was received (Procurement Act 2023 s.68 implies
payment within 30 days of a valid invoice). The contract's running total of invoices is kept
on the contract row and raised by one conditional UPDATE, so two invoices sent at once can
never together pass the contract's value.
"""

from datetime import date, timedelta
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.contract_management import notices, policy
from lap_market.contract_management.models import Invoice, InvoiceStatus
from lap_market.contract_management.schemas import DisputeCreate, InvoiceCreate, PaymentCreate
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.money import format_gbp, from_pence, to_pence


def contract_for(session: Session, actor: User, contract_id: int) -> Contract:
    """A contract the actor may see (404 otherwise, so others' contracts stay unknown)."""
    contract = session.get(Contract, contract_id)
    if contract is None or not policy.can_see(actor, contract):
        raise NotFound("No contract with this id.", field="contract_id")
    return contract


class OfContract(Protocol):
    contract_id: int


Part = TypeVar("Part", bound=OfContract)


def part_of_visible_contract(
    session: Session, actor: User, part: Part | None, *, missing: str, field: str
) -> tuple[Part, Contract]:
    """An invoice or change with its contract, if the actor may see that contract (404
    otherwise, worded ``missing``, so others' invoices and changes stay unknown)."""
    contract = session.get(Contract, part.contract_id) if part else None
    if part is None or contract is None or not policy.can_see(actor, contract):
        raise NotFound(missing, field=field)
    return part, contract


def submit_invoice(session: Session, actor: User, contract_id: int, data: InvoiceCreate) -> Invoice:
    """Record the supplier's invoice against an active contract."""
    contract = contract_for(session, actor, contract_id)
    if not policy.can_invoice(actor, contract):
        raise Forbidden("Only the supplier invoices against this contract.")
    if contract.status == ContractStatus.ISSUED:
        raise Conflict(
            "Both parties must accept the contract before it is invoiced.", field="contract_id"
        )
    _check_period(contract, data)
    today = clock.today()
    if data.issued_on > today:
        raise Invalid("The invoice date cannot be in the future.", field="issued_on")
    amount = to_pence(data.amount)
    _reserve(session, contract, amount)
    invoice = Invoice(
        contract_id=pk(contract),
        supplier_id=contract.supplier_id,
        buyer_id=contract.buyer_id,
        number=data.number,
        issued_on=data.issued_on,
        received_on=today,
        due_on=today + timedelta(days=policy.PAYMENT_DAYS),
        period_start=data.period_start,
        period_end=data.period_end,
        amount_pence=amount,
        vat_pence=to_pence(data.vat),
        submitted_by_id=pk(actor),
        submitted_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(invoice)
    except IntegrityError as exc:
        raise Conflict(
            f"You have already sent an invoice numbered {data.number}.", field="number"
        ) from exc
    audit.record(
        session,
        actor,
        action="invoice.submitted",
        object_type="invoice",
        object_id=invoice.id,
        details={"contract": contract.reference, "number": invoice.number, "amount": data.amount},
    )
    notices.tell(
        session,
        contract,
        kind="invoice.submitted",
        message=f"Invoice {invoice.number} for {format_gbp(data.amount)} received "
        f"on {contract.reference}; due by {invoice.due_on:%d %B %Y}.",
    )
    _warn_on_spend(session, contract)
    return invoice


def _check_period(contract: Contract, data: InvoiceCreate) -> None:
    if data.period_end < data.period_start:
        raise Invalid("The period cannot end before it starts.", field="period_end")
    if data.period_start < contract.start_date:
        raise Invalid(
            f"The period starts before the contract does ({contract.start_date:%d %B %Y}).",
            field="period_start",
        )
    end = contract.current_end_date or contract.end_date
    if data.period_end > end:
        raise Invalid(
            f"The period ends after the contract does ({end:%d %B %Y}).", field="period_end"
        )
    if contract.terminated_on is not None and data.period_end > contract.terminated_on:
        raise Invalid(
            f"The contract was terminated with effect from "
            f"{contract.terminated_on:%d %B %Y}: no invoice may cover a later period.",
            field="period_end",
        )


def _reserve(session: Session, contract: Contract, amount: int) -> None:
    """Add ``amount`` to the contract's invoiced total unless that passes its value."""
    value = sa.func.coalesce(col(Contract.current_value_pence), col(Contract.value_pence))
    result = conditional_update(
        session,
        sa.update(Contract)
        .where(col(Contract.id) == contract.id, col(Contract.invoiced_pence) + amount <= value)
        .values(invoiced_pence=col(Contract.invoiced_pence) + amount),
    )
    session.refresh(contract)
    if not result:
        total = from_pence(contract.invoiced_pence + amount)
        raise Invalid(
            f"This invoice would take the total invoiced to {format_gbp(total)}, above the "
            f"contract's value of {format_gbp(from_pence(policy.value_pence(contract)))}: "
            "a change to the contract is needed first.",
            field="amount",
        )


def _warn_on_spend(session: Session, contract: Contract) -> None:
    """Tell the borough and officers, once each, when invoices reach 80 % and 100 %."""
    value = policy.value_pence(contract)
    for threshold in policy.SPEND_WARNINGS:
        reached = bool(value) and contract.invoiced_pence * 100 >= value * threshold
        if reached and notices.once(session, contract, f"spend.{threshold}"):
            notices.tell(
                session,
                contract,
                kind=f"contract.spend_{threshold}",
                officers=True,
                message=f"Invoices on {contract.reference} have reached {threshold}% of its value.",
            )


def get_invoice(session: Session, actor: User, invoice_id: int) -> tuple[Invoice, Contract]:
    return part_of_visible_contract(
        session, actor, session.get(Invoice, invoice_id),
        missing="No invoice with this id.", field="invoice_id",
    )


def _transition(
    session: Session, invoice: Invoice, sources: tuple[str, ...], **values: object
) -> None:
    """Move the invoice on from one of ``sources``; 409 when someone else moved it first."""
    result = conditional_update(
        session,
        sa.update(Invoice)
        .where(col(Invoice.id) == invoice.id, col(Invoice.status).in_(sources))
        .values(**values),
    )
    current = invoice.status
    session.refresh(invoice)
    if not result:
        raise Conflict(
            f"This invoice is {invoice.status or current}: it cannot be changed so.", field="status"
        )


def _buyers_invoice(
    session: Session, actor: User, invoice_id: int, doing: str
) -> tuple[Invoice, Contract]:
    """The invoice, if the actor is of the buyer that settles it (403 otherwise)."""
    invoice, contract = get_invoice(session, actor, invoice_id)
    if not policy.can_settle(actor, contract):
        raise Forbidden(f"Only the buyer {doing} invoices on this contract.")
    return invoice, contract


def _settled(
    session: Session,
    actor: User,
    invoice: Invoice,
    contract: Contract,
    *,
    event: str,
    message: str,
    **details: object,
) -> Invoice:
    """Audit the buyer's step on an invoice and tell the supplier."""
    audit.record(
        session,
        actor,
        action=f"invoice.{event}",
        object_type="invoice",
        object_id=invoice.id,
        details={"number": invoice.number, **details},
    )
    notices.tell(
        session, contract, kind=f"invoice.{event}", buyer=False, supplier=True, message=message
    )
    return invoice


def approve_invoice(session: Session, actor: User, invoice_id: int) -> Invoice:
    invoice, contract = _buyers_invoice(session, actor, invoice_id, "approves")
    _transition(
        session,
        invoice,
        policy.APPROVABLE,
        status=InvoiceStatus.APPROVED,
        approved_by_id=actor.id,
        approved_at=clock.now(),
    )
    return _settled(
        session,
        actor,
        invoice,
        contract,
        event="approved",
        message=f"Invoice {invoice.number} on {contract.reference} was approved.",
    )


def dispute_invoice(session: Session, actor: User, invoice_id: int, data: DisputeCreate) -> Invoice:
    invoice, contract = _buyers_invoice(session, actor, invoice_id, "disputes")
    _transition(
        session,
        invoice,
        policy.DISPUTABLE,
        status=InvoiceStatus.DISPUTED,
        disputed_by_id=actor.id,
        disputed_at=clock.now(),
        dispute_reason=data.reason,
    )
    return _settled(
        session,
        actor,
        invoice,
        contract,
        event="disputed",
        reason=data.reason,
        message=f"Invoice {invoice.number} on {contract.reference} is disputed: {data.reason}",
    )


def record_payment(session: Session, actor: User, invoice_id: int, data: PaymentCreate) -> Invoice:
    invoice, contract = _buyers_invoice(session, actor, invoice_id, "records payment of")
    _check_paid_on(invoice, data.paid_on)
    days = (data.paid_on - invoice.received_on).days
    _transition(
        session,
        invoice,
        policy.PAYABLE,
        status=InvoiceStatus.PAID,
        paid_on=data.paid_on,
        days_to_pay=days,
        paid_recorded_by_id=actor.id,
        paid_recorded_at=clock.now(),
    )
    return _settled(
        session,
        actor,
        invoice,
        contract,
        event="paid",
        paid_on=data.paid_on,
        days_to_pay=days,
        message=f"Invoice {invoice.number} on "
        f"{contract.reference} was paid on {data.paid_on:%d %B %Y}.",
    )


def _check_paid_on(invoice: Invoice, paid_on: date) -> None:
    if invoice.status != InvoiceStatus.APPROVED:
        raise Conflict("Approve the invoice before recording its payment.", field="status")
    if paid_on > clock.today():
        raise Invalid("A payment cannot be recorded for a future date.", field="paid_on")
    if paid_on < invoice.received_on:
        raise Invalid(
            "The payment date cannot be before the invoice was received "
            f"({invoice.received_on:%d %B %Y}).",
            field="paid_on",
        )


def withdraw_invoice(session: Session, actor: User, invoice_id: int) -> Invoice:
    """The supplier withdraws an invoice not yet approved; its amount no longer counts."""
    invoice, contract = get_invoice(session, actor, invoice_id)
    if not policy.can_withdraw(actor, invoice):
        raise Forbidden("Only the supplier withdraws its invoices.")
    _transition(
        session,
        invoice,
        policy.WITHDRAWABLE,
        status=InvoiceStatus.WITHDRAWN,
    )
    session.execute(
        sa.update(Contract)
        .where(col(Contract.id) == contract.id)
        .values(invoiced_pence=col(Contract.invoiced_pence) - invoice.amount_pence)
        .execution_options(synchronize_session=False)
    )
    session.refresh(contract)
    audit.record(
        session,
        actor,
        action="invoice.withdrawn",
        object_type="invoice",
        object_id=invoice.id,
        details={"number": invoice.number},
    )
    return invoice
