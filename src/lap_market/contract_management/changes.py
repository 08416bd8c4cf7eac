"""Changes to a contract: proposed with a coded reason, in effect once both parties accept.

Procurement Act 2023 s.74: a change of more than 10 % of a services contract's value is
substantial. The test is cumulative: every change in effect and the one proposed, each
counted by how far it moves the value (up or down), as a share of the value at award. A
substantial change carries a change notice reference. When a change takes effect the
contract's current value, end date and quantity move, and a new PDF version is stored with
a schedule of every change in effect.
"""

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.catalogue.models import CategoryUnit
from lap_market.catalogue.pricing import line_value, term_days
from lap_market.clock import clock
from lap_market.contract_management import notices, policy
from lap_market.contract_management.invoices import contract_for, part_of_visible_contract
from lap_market.contract_management.models import (
    ChangeKind,
    ChangeStatus,
    ContractChange,
)
from lap_market.contract_management.schemas import ChangeCreate, RejectCreate
from lap_market.contracts import pdf
from lap_market.contracts.documents import document_context, store_document
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.errors import Conflict, Forbidden, Invalid
from lap_market.modeling import conditional_update, pk
from lap_market.money import format_gbp, from_pence, to_pence

HUNDREDTH = Decimal("0.01")
REASON_LABELS = {
    "additional_quantity": "Additional quantity",
    "extension_option": "Extension option",
    "unforeseen_circumstances": "Unforeseen circumstances",
    "price_indexation": "Price indexation",
    "administrative": "Administrative",
}


def propose_change(
    session: Session, actor: User, contract_id: int, data: ChangeCreate
) -> ContractChange:
    """Record a proposed change; the buyer proposing it counts as the buyer accepting it."""
    contract = contract_for(session, actor, contract_id)
    if not policy.can_propose_change(actor, contract):
        raise Forbidden("Only the buyer or a procurement officer proposes changes.")
    _check_changeable(session, contract)
    after = _after(session, contract, data)
    before_value = policy.value_pence(contract)
    pct = _cumulative_pct(session, contract, abs(after["value"] - before_value))
    number = _next_number(session, contract)
    change = ContractChange(
        contract_id=pk(contract),
        number=number,
        kind=data.kind,
        reason_code=data.reason_code,
        explanation=data.explanation,
        value_before_pence=before_value,
        value_after_pence=after["value"],
        end_date_before=_current_end(contract),
        end_date_after=after["end"],
        quantity_before=policy.quantity(contract),
        quantity_after=after["quantity"],
        cumulative_change_pct=pct,
        substantial=policy.is_substantial(pct),
        change_notice_reference=_notice_reference(contract, number, pct),
        proposed_by_id=pk(actor),
        proposed_at=clock.now(),
    )
    if policy.is_buyer(actor, contract):
        change.buyer_accepted_by_id, change.buyer_accepted_at = actor.id, clock.now()
    try:
        with session.begin_nested():
            session.add(change)
    except IntegrityError as exc:  # another change was proposed at the same moment
        raise Conflict(
            "Another change to this contract was proposed at the same time.", field="contract_id"
        ) from exc
    audit.record(
        session,
        actor,
        action="contract.change_proposed",
        object_type="contract",
        object_id=contract.id,
        details=_audit_details(contract, change),
    )
    notices.tell(
        session,
        contract,
        kind="contract.change_proposed",
        supplier=True,
        officers=True,
        message=f"Change {number} to {contract.reference} proposed: "
        f"{describe(change)}. Both parties must accept it.",
    )
    return change


def _check_changeable(session: Session, contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(
            "Only an active contract (accepted by both parties, not terminated) can be changed.",
            field="contract_id",
        )
    if policy.status(contract, clock.today()) == policy.EXPIRED:
        raise Conflict(
            "This contract has expired: renew it instead of changing it.", field="contract_id"
        )
    pending = session.exec(
        select(ContractChange.number).where(
            ContractChange.contract_id == contract.id,
            ContractChange.status == ChangeStatus.PROPOSED,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"Change {pending} is still waiting for acceptance: settle it first.",
            field="contract_id",
        )


def _current_end(contract: Contract) -> date:
    return contract.current_end_date or contract.end_date


def _after(session: Session, contract: Contract, data: ChangeCreate) -> dict[str, Any]:
    """The value, end date and quantity the change would leave, checked field by field."""
    end, qty = _current_end(contract), policy.quantity(contract)
    if data.kind == ChangeKind.VALUE:
        if data.new_value is None:
            raise Invalid("Give the new value of the contract.", field="new_value")
        return {"value": to_pence(data.new_value), "end": end, "quantity": qty}
    if data.kind == ChangeKind.TERM:
        if data.new_end_date is None:
            raise Invalid("Give the new end date.", field="new_end_date")
        if data.new_end_date < max(contract.start_date, clock.today()):
            raise Invalid(
                "The new end date cannot be in the past or before the start.", field="new_end_date"
            )
        end = data.new_end_date
    else:
        if data.new_quantity is None:
            raise Invalid("Give the new quantity.", field="new_quantity")
        qty = data.new_quantity
    value = (
        _priced(session, contract, qty, end) if data.new_value is None else to_pence(data.new_value)
    )
    if value < contract.invoiced_pence:
        raise Invalid(
            f"The value cannot fall below what has been invoiced "
            f"({format_gbp(from_pence(contract.invoiced_pence))}).",
            field="new_quantity",  # a new value was checked above
        )
    return {"value": value, "end": end, "quantity": qty}


def _priced(session: Session, contract: Contract, qty: Decimal, end: date) -> int:
    """The contract's value at its unit price for ``qty`` over its term to ``end``."""
    unit = session.get(CategoryUnit, contract.unit_id)
    per_year = bool(unit and unit.per_year)
    value = line_value(
        qty,
        from_pence(contract.unit_price_pence),
        per_year=per_year,
        days=term_days(contract.start_date, end),
    )
    return to_pence(value)


def _cumulative_pct(session: Session, contract: Contract, moved: int) -> Decimal:
    earlier = session.exec(
        select(
            func.coalesce(
                func.sum(
                    sa.func.abs(
                        col(ContractChange.value_after_pence)
                        - col(ContractChange.value_before_pence)
                    )
                ),
                0,
            )
        ).where(
            ContractChange.contract_id == contract.id,
            ContractChange.status == ChangeStatus.IN_EFFECT,
        )
    ).one()
    if not contract.value_pence:
        return Decimal(0)
    share = Decimal((int(earlier) + moved) * 100) / Decimal(contract.value_pence)
    return share.quantize(HUNDREDTH)


def _next_number(session: Session, contract: Contract) -> int:
    latest = session.exec(
        select(func.max(ContractChange.number)).where(ContractChange.contract_id == contract.id)
    ).one()
    return int(latest or 0) + 1


def _notice_reference(contract: Contract, number: int, pct: Decimal) -> str | None:
    return f"{contract.reference}-CN{number:02d}" if policy.is_substantial(pct) else None


def describe(change: ContractChange) -> str:
    """One line a person reads: what the change does."""
    if change.kind == ChangeKind.TERM:
        return f"end date {change.end_date_before:%d %b %Y} → {change.end_date_after:%d %b %Y}"
    if change.kind == ChangeKind.QUANTITY:
        return f"quantity {change.quantity_before:,} → {change.quantity_after:,}"
    return (
        f"value {format_gbp(from_pence(change.value_before_pence))} → "
        f"{format_gbp(from_pence(change.value_after_pence))}"
    )


def _audit_details(contract: Contract, change: ContractChange) -> dict[str, Any]:
    return {
        "reference": contract.reference,
        "change": change.number,
        "kind": change.kind,
        "reason_code": change.reason_code,
        "cumulative_change_pct": change.cumulative_change_pct,
        "substantial": change.substantial,
    }


def get_change(session: Session, actor: User, change_id: int) -> tuple[ContractChange, Contract]:
    return part_of_visible_contract(
        session, actor, session.get(ContractChange, change_id),
        missing="No contract change with this id.", field="change_id",
    )


def accept_change(session: Session, actor: User, change_id: int) -> ContractChange:
    """Record the actor's party's acceptance; the change takes effect once both have."""
    change, contract = get_change(session, actor, change_id)
    side = policy.change_side(actor, contract)
    if side is None:
        raise Forbidden("Only the buyer's borough manager or the supplier accepts a change.")
    by_col = (
        ContractChange.buyer_accepted_by_id
        if side == "buyer"
        else ContractChange.supplier_accepted_by_id
    )
    at_col = (
        ContractChange.buyer_accepted_at if side == "buyer" else ContractChange.supplier_accepted_at
    )
    result = conditional_update(
        session,
        sa.update(ContractChange)
        .where(
            col(ContractChange.id) == change.id,
            col(ContractChange.status) == ChangeStatus.PROPOSED,
            col(at_col).is_(None),
        )
        .values({by_col: actor.id, at_col: clock.now()}),
    )
    if not result:
        raise Conflict(
            f"This change is {change.status} or the {side} has already accepted it.",
            field="change_id",
        )
    session.refresh(change)
    audit.record(
        session,
        actor,
        action="contract.change_accepted",
        object_type="contract",
        object_id=contract.id,
        details={"change": change.number, "side": side},
    )
    if change.buyer_accepted_at and change.supplier_accepted_at:
        _take_effect(session, actor, contract, change)
    return change


def _take_effect(session: Session, actor: User, contract: Contract, change: ContractChange) -> None:
    change.status, change.effective_at = ChangeStatus.IN_EFFECT, clock.now()
    session.add(change)
    contract.current_value_pence = change.value_after_pence
    contract.current_end_date = change.end_date_after
    contract.current_quantity = change.quantity_after
    session.add(contract)
    session.flush()
    document = store_document(
        session, contract, render(session, contract), reason=f"change {change.number} in effect"
    )
    audit.record(
        session,
        actor,
        action="contract.changed",
        object_type="contract",
        object_id=contract.id,
        details={
            **_audit_details(contract, change),
            "pdf_version": document.version,
            "pdf_sha256": document.sha256,
        },
    )
    notices.tell(
        session,
        contract,
        kind="contract.changed",
        supplier=True,
        officers=True,
        message=f"Change {change.number} to {contract.reference} is in effect: {describe(change)}.",
    )


def reject_change(
    session: Session, actor: User, change_id: int, data: RejectCreate
) -> ContractChange:
    change, contract = get_change(session, actor, change_id)
    if policy.change_side(actor, contract) is None and not policy.is_officer(actor):
        raise Forbidden("Only the parties or a procurement officer reject a change.")
    result = conditional_update(
        session,
        sa.update(ContractChange)
        .where(
            col(ContractChange.id) == change.id, col(ContractChange.status) == ChangeStatus.PROPOSED
        )
        .values(
            status=ChangeStatus.REJECTED,
            rejected_by_id=actor.id,
            rejected_at=clock.now(),
            rejection_reason=data.reason,
        ),
    )
    if not result:
        raise Conflict(f"This change is already {change.status}.", field="change_id")
    session.refresh(change)
    audit.record(
        session,
        actor,
        action="contract.change_rejected",
        object_type="contract",
        object_id=contract.id,
        details={"change": change.number, "reason": data.reason},
    )
    notices.tell(
        session,
        contract,
        kind="contract.change_rejected",
        supplier=True,
        message=f"Change {change.number} to {contract.reference} was rejected.",
    )
    return change


def render(session: Session, contract: Contract) -> bytes:
    """The contract PDF with its schedule of changes in effect."""
    context = document_context(session, contract)
    context["changes"] = [
        {
            "number": c.number,
            "summary": describe(c),
            "reason": REASON_LABELS.get(c.reason_code, c.reason_code),
            "explanation": c.explanation,
            "value_after": from_pence(c.value_after_pence),
            "end_date_after": c.end_date_after,
            "effective_at": c.effective_at,
            "change_notice_reference": c.change_notice_reference,
            "cumulative_change_pct": c.cumulative_change_pct,
        }
        for c in session.exec(
            select(ContractChange)
            .where(
                ContractChange.contract_id == contract.id,
                ContractChange.status == ChangeStatus.IN_EFFECT,
            )
            .order_by(col(ContractChange.number))
        )
    ]
    return pdf.render_contract_pdf(context)
