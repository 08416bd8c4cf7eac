"""Invoices, contract changes and the once-only notices about a contract."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, pence, quantity, text, timestamp, to_one

if TYPE_CHECKING:
    from lap_market.accounts.models import Organisation, User
    from lap_market.contracts.models import Contract


class InvoiceStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DISPUTED = "disputed"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


class Invoice(SQLModel, table=True):
    """A supplier's invoice against a contract; due 30 days after the day it was received."""

    # An invoice number is the supplier's own and unique among its invoices.
    __table_args__ = (sa.UniqueConstraint("supplier_id", "number"),)

    id: int | None = id_field()
    contract_id: int = fk("contract.id")
    supplier_id: int = fk("organisation.id")
    buyer_id: int = fk("organisation.id")
    number: str = text(60)
    issued_on: date
    received_on: date
    due_on: date = Field(index=True)
    period_start: date
    period_end: date
    amount_pence: int = pence()
    vat_pence: int = pence()
    status: str = Field(default=InvoiceStatus.SUBMITTED, max_length=20, index=True)
    submitted_by_id: int = fk("user.id", index=False)
    submitted_at: datetime = timestamp()
    approved_by_id: int | None = fk("user.id", nullable=True, index=False)
    approved_at: datetime | None = timestamp(nullable=True)
    disputed_by_id: int | None = fk("user.id", nullable=True, index=False)
    disputed_at: datetime | None = timestamp(nullable=True)
    dispute_reason: str | None = long_text(nullable=True)
    paid_on: date | None = Field(default=None, nullable=True)
    # Stored when payment is recorded, so the payments report averages it in the database.
    days_to_pay: int | None = Field(default=None, nullable=True)
    paid_recorded_by_id: int | None = fk("user.id", nullable=True, index=False)
    paid_recorded_at: datetime | None = timestamp(nullable=True)

    # Read-only, loaded on purpose (``read.INVOICE_RELATIONS``) where a view reads them.
    contract: "Contract" = to_one("Invoice", "contract_id")
    supplier: "Organisation" = to_one("Invoice", "supplier_id")
    buyer: "Organisation" = to_one("Invoice", "buyer_id")


class ChangeKind(StrEnum):
    VALUE = "value"
    TERM = "term"
    QUANTITY = "quantity"


class ChangeReason(StrEnum):
    ADDITIONAL_QUANTITY = "additional_quantity"
    EXTENSION_OPTION = "extension_option"
    UNFORESEEN_CIRCUMSTANCES = "unforeseen_circumstances"
    PRICE_INDEXATION = "price_indexation"
    ADMINISTRATIVE = "administrative"


class ChangeStatus(StrEnum):
    PROPOSED = "proposed"
    IN_EFFECT = "in_effect"
    REJECTED = "rejected"


class ContractChange(SQLModel, table=True):
    """A proposed change to a contract; in effect once both parties have accepted it."""

    __table_args__ = (sa.UniqueConstraint("contract_id", "number"),)

    id: int | None = id_field()
    contract_id: int = fk("contract.id")
    number: int
    kind: str = text(20)
    reason_code: str = text(40)
    explanation: str = long_text()
    value_before_pence: int = pence()
    value_after_pence: int = pence()
    end_date_before: date
    end_date_after: date
    quantity_before: Decimal = quantity()
    quantity_after: Decimal = quantity()
    # Every change in effect plus this one, as a share of the value at award, in percent.
    cumulative_change_pct: Decimal = Field(sa_type=sa.Numeric(9, 2, asdecimal=True))
    substantial: bool = Field(default=False)
    change_notice_reference: str | None = text(40, nullable=True)
    status: str = Field(default=ChangeStatus.PROPOSED, max_length=20, index=True)
    proposed_by_id: int = fk("user.id", index=False)
    proposed_at: datetime = timestamp()
    buyer_accepted_by_id: int | None = fk("user.id", nullable=True, index=False)
    buyer_accepted_at: datetime | None = timestamp(nullable=True)
    supplier_accepted_by_id: int | None = fk("user.id", nullable=True, index=False)
    supplier_accepted_at: datetime | None = timestamp(nullable=True)
    effective_at: datetime | None = timestamp(nullable=True)
    rejected_by_id: int | None = fk("user.id", nullable=True, index=False)
    rejected_at: datetime | None = timestamp(nullable=True)
    rejection_reason: str | None = long_text(nullable=True)

    # Read-only, loaded on purpose (``read.CHANGE_RELATIONS``) where a view reads them.
    proposed_by: "User" = to_one("ContractChange", "proposed_by_id")
    buyer_accepted_by: Optional["User"] = to_one("ContractChange", "buyer_accepted_by_id")
    supplier_accepted_by: Optional["User"] = to_one("ContractChange", "supplier_accepted_by_id")


class TerminationReason(StrEnum):
    COMPLETED = "completed"
    BREACH = "breach"
    CONVENIENCE = "convenience"
    INSOLVENCY = "insolvency"
    MUTUAL = "mutual"


class ContractNotice(SQLModel, table=True):
    """A notice about a contract that must go once only (spend at 80 %, renewal in 90 days…):
    the unique key makes sending it twice a no-op, even from two workers."""

    __table_args__ = (sa.UniqueConstraint("contract_id", "kind"),)

    id: int | None = id_field()
    contract_id: int = fk("contract.id")
    kind: str = text(40)
    sent_at: datetime = timestamp()
