"""Accepting a contract: each party records who accepted and when; active once both have."""

import sqlalchemy as sa
from sqlmodel import Session, col

from lap_market.accounts import policy
from lap_market.accounts.models import User
from lap_market.accounts.policy import require
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.contracts.documents import render_document, store_document
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.contracts.policy import Side, acceptance_side
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.modeling import conditional_update


def accept_contract(
    session: Session, actor: User, contract_id: int, *, po_number: str | None = None
) -> Contract:
    """Record the actor's party's acceptance (who and when); active once both have accepted.
    The buyer may give its purchase-order number as it accepts (kept with the acceptance).

    The PDF is rendered again with the acceptance blocks filled in and stored as a new
    version; the record's SHA-256 names it. The issued version and every earlier one stay
    stored unchanged.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No contract with this id.")
    side = acceptance_side(actor, contract)
    if side is None:
        raise Forbidden(
            "Only the buyer's borough manager or the supplier may accept this contract."
        )
    _record_acceptance(session, actor, contract_id, side, po_number)
    activated = _activate_if_both_accepted(session, contract_id)
    session.refresh(contract)
    previous_sha256 = contract.pdf_sha256
    document = store_document(
        session, contract, render_document(session, contract), reason=f"accepted by the {side}"
    )
    _audit(session, actor, contract, "contract.accepted", side=side, po_number=po_number,
           previous_pdf_sha256=previous_sha256, pdf_sha256=contract.pdf_sha256,
           pdf_version=document.version)
    if activated:
        _audit(session, actor, contract, "contract.activated")
    return contract


def _record_acceptance(
    session: Session, actor: User, contract_id: int, side: Side, po_number: str | None
) -> None:
    """Stamp who accepted for ``side`` and when, once: a second acceptance is a 409."""
    buyer = side == "buyer"
    if po_number and not buyer:
        raise Invalid("Only the buyer gives a purchase-order number.", field="po_number")
    by_column = Contract.buyer_accepted_by_id if buyer else Contract.supplier_accepted_by_id
    at_column = Contract.buyer_accepted_at if buyer else Contract.supplier_accepted_at
    stamped = conditional_update(
        session,
        sa.update(Contract)
        .where(col(Contract.id) == contract_id, col(at_column).is_(None))
        .values({by_column: actor.id, at_column: clock.now(),
                 **({Contract.po_number: po_number} if po_number else {})}),
    )
    if not stamped:
        raise Conflict(f"The {side} has already accepted this contract.", field="contract_id")


def _activate_if_both_accepted(session: Session, contract_id: int) -> bool:
    """An issued contract both parties have accepted becomes active (once)."""
    return conditional_update(
        session,
        sa.update(Contract)
        .where(
            col(Contract.id) == contract_id,
            col(Contract.status) == ContractStatus.ISSUED,
            col(Contract.buyer_accepted_at).is_not(None),
            col(Contract.supplier_accepted_at).is_not(None),
        )
        .values(status=ContractStatus.ACTIVE),
    ) == 1


def _audit(
    session: Session, actor: User, contract: Contract, action: str, **details: object
) -> None:
    audit.record(
        session, actor, action=action, object_type="contract", object_id=contract.id,
        details={"reference": contract.reference, **details},
    )


def record_po_number(session: Session, actor: User, contract_id: int, po_number: str) -> Contract:
    """An officer records the buyer's purchase-order number before the buyer accepts, so the
    document the buyer signs already carries it (a new PDF version is stored)."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No contract with this id.")
    require(policy.is_officer(actor), "Only a procurement officer may record a purchase order.")
    if not conditional_update(
        session,
        sa.update(Contract)
        .where(col(Contract.id) == contract_id, col(Contract.buyer_accepted_at).is_(None))
        .values(po_number=po_number),
    ):
        raise Conflict(
            "The buyer has already accepted; its purchase-order number stands.", field="po_number"
        )
    session.refresh(contract)
    document = store_document(
        session, contract, render_document(session, contract), reason="purchase order recorded"
    )
    _audit(session, actor, contract, "contract.po_number_recorded", po_number=po_number,
           pdf_sha256=contract.pdf_sha256, pdf_version=document.version)
    return contract
