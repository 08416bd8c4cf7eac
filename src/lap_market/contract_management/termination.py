"""Ending a contract early: with effect from a date, a coded reason and an explanation."""

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.contract_management import notices, policy
from lap_market.contract_management.invoices import contract_for
from lap_market.contract_management.models import Invoice
from lap_market.contract_management.schemas import TerminationCreate
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.errors import Conflict, Forbidden, Invalid
from lap_market.modeling import conditional_update


def terminate(session: Session, actor: User, contract_id: int, data: TerminationCreate) -> Contract:
    """Terminate the contract with effect from ``effective_on``; later invoices are refused."""
    contract = contract_for(session, actor, contract_id)
    if not policy.can_terminate(actor, contract):
        raise Forbidden("Only the buyer or a procurement officer terminates a contract.")
    _check_date(session, contract, data)
    result = conditional_update(
        session,
        sa.update(Contract)
        .where(
            col(Contract.id) == contract.id,
            col(Contract.status).in_((ContractStatus.ISSUED, ContractStatus.ACTIVE)),
        )
        .values(
            status=ContractStatus.TERMINATED,
            terminated_on=data.effective_on,
            terminated_at=clock.now(),
            termination_reason=data.reason_code,
            termination_explanation=data.explanation,
        ),
    )
    if not result:
        raise Conflict("This contract has already been terminated.", field="contract_id")
    session.refresh(contract)
    audit.record(
        session,
        actor,
        action="contract.terminated",
        object_type="contract",
        object_id=contract.id,
        details={
            "reference": contract.reference,
            "effective_on": data.effective_on,
            "reason_code": data.reason_code,
            "explanation": data.explanation,
        },
    )
    notices.tell(
        session,
        contract,
        kind="contract.terminated",
        supplier=True,
        officers=True,
        message=f"{contract.reference} is terminated with effect from "
        f"{data.effective_on:%d %B %Y} ({data.reason_code}).",
    )
    return contract


def _check_date(session: Session, contract: Contract, data: TerminationCreate) -> None:
    end = contract.current_end_date or contract.end_date
    if not contract.start_date <= data.effective_on <= end:
        raise Invalid(
            f"The termination date must fall within the contract's term "
            f"({contract.start_date:%d %B %Y} to {end:%d %B %Y}).",
            field="effective_on",
        )
    invoiced_to = session.exec(
        select(func.max(Invoice.period_end)).where(
            Invoice.contract_id == contract.id, col(Invoice.status).in_(policy.COUNTED)
        )
    ).one()
    if invoiced_to is not None and invoiced_to > data.effective_on:
        raise Conflict(
            f"Invoices already cover periods up to {invoiced_to:%d %B %Y}: "
            "terminate from that date or later, or withdraw them first.",
            field="effective_on",
        )
