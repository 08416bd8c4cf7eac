"""API models for invoices, spend, changes, termination and the payments report."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lap_market.contract_management.models import ChangeKind, ChangeReason, TerminationReason
from lap_market.money import Money, parse_decimal
from lap_market.primitives import BusinessDate, Input, Line, LongText

MAX_QUANTITY = Decimal("1000000000")


class _Strict(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InvoiceCreate(_Strict):
    number: Line = Field(min_length=1, max_length=60)
    issued_on: BusinessDate
    period_start: BusinessDate
    period_end: BusinessDate
    amount: Money
    vat: Money

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @field_validator("vat")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class _Reason(_Strict):
    reason: LongText = Field(min_length=1, max_length=2000)


class DisputeCreate(_Reason):
    """Why the buyer disputes an invoice (the supplier sees it)."""


class PaymentCreate(_Strict):
    paid_on: BusinessDate


class InvoiceRead(BaseModel):
    id: int
    contract_id: int
    contract_reference: str
    supplier_id: int
    supplier_name: str
    buyer_id: int
    buyer_name: str
    number: str
    issued_on: date
    received_on: date
    due_on: date
    period_start: date
    period_end: date
    amount: Money
    vat: Money
    total: Money
    status: str
    overdue: bool
    days_to_pay: int | None
    dispute_reason: str | None
    paid_on: date | None
    submitted_at: datetime
    approved_at: datetime | None


class InvoicePage(BaseModel):
    items: list[InvoiceRead]
    page: int
    page_size: int
    total: int


class SpendRead(BaseModel):
    contract_id: int
    reference: str
    status: str
    value: Money
    original_value: Money
    invoiced: Money
    approved: Money
    paid: Money
    remaining: Money
    invoiced_pct: Decimal = Field(description="invoiced as a percentage of value")
    warning: Literal["none", "80", "100"]
    overdue_invoices: int
    start_date: date
    end_date: date
    terminated_on: date | None


class ChangeCreate(_Strict):
    kind: ChangeKind
    new_value: Money | None = None
    new_end_date: BusinessDate | None = None
    new_quantity: Decimal | None = None
    reason_code: ChangeReason
    explanation: LongText = Field(min_length=1, max_length=4000)

    @field_validator("new_quantity", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> object:
        if value is None:
            return None
        amount = parse_decimal(value, example="120")
        if amount <= 0 or amount >= MAX_QUANTITY:
            raise ValueError("must be greater than zero and below 1,000,000,000")
        return amount

    @field_validator("new_value")
    @classmethod
    def _value(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise ValueError("must be greater than zero")
        return value


class RejectCreate(_Reason):
    """Why a party rejects a proposed change."""


class AcceptanceRead(BaseModel):
    by_name: str
    at: datetime


class ChangeRead(BaseModel):
    id: int
    contract_id: int
    number: int
    kind: str
    reason_code: str
    explanation: str
    value_before: Money
    value_after: Money
    end_date_before: date
    end_date_after: date
    quantity_before: Decimal
    quantity_after: Decimal
    cumulative_change_pct: Decimal
    substantial: bool
    change_notice_required: bool
    change_notice_reference: str | None
    status: str
    proposed_by_name: str
    proposed_at: datetime
    buyer_acceptance: AcceptanceRead | None
    supplier_acceptance: AcceptanceRead | None
    effective_at: datetime | None
    rejection_reason: str | None


class TerminationCreate(_Strict):
    effective_on: BusinessDate
    reason_code: TerminationReason
    explanation: LongText = Field(min_length=1, max_length=4000)


class TerminationRead(BaseModel):
    contract_id: int
    reference: str
    status: str
    effective_on: BusinessDate
    reason_code: str
    explanation: str


class PaymentRow(BaseModel):
    key: int
    name: str
    invoices_paid: int
    paid: Money
    paid_within_30_days: int
    paid_within_30_days_pct: Decimal | None
    average_days_to_pay: Decimal | None
    overdue_now: int
    overdue_amount: Money


class PaymentsReport(BaseModel):
    group_by: Literal["borough", "provider"]
    as_of: date
    rows: list[PaymentRow]
    totals: PaymentRow


class RegisterRow(BaseModel):
    """One contract in the contract register (amounts as decimal strings)."""

    reference: str
    kind: str
    buyer: str
    supplier: str
    status: str
    start_date: date
    end_date: date
    original_value: str
    value: str
    changes_in_effect: int
    invoiced: str
    paid: str
    terminated_on: str
