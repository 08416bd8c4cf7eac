"""API models for demand rounds: opening, answering, the response grid and the estimate."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from lap_market.money import Money
from lap_market.primitives import Code, Description, Multiline, Strict, Title

Reason = Annotated[
    str, Multiline(), StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
Guidance = Description
BudgetRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RoundCreate(Strict):
    """A call for demand: categories (codes), the service term asked about, the close."""

    title: Title
    categories: Annotated[list[Code], Field(min_length=1, max_length=20)]
    term_start: date
    term_end: date
    closes_at: datetime
    guidance: Guidance = ""
    # All 33 boroughs (and the City) unless named: organisation ids.
    borough_ids: Annotated[list[int], Field(min_length=1, max_length=40)] | None = None


class RoundExtend(Strict):
    closes_at: datetime
    reason: Reason


class RoundConfirm(Strict):
    budget_reference: BudgetRef | None = None


class PersonRef(BaseModel):
    id: int
    name: str


class UnitQuantity(BaseModel):
    category: str
    unit: str
    quantity: Decimal


class ResponseRow(BaseModel):
    """One invited borough's return."""

    borough_id: int
    gss_code: str | None
    name: str
    status: str
    lines: int
    quantities: list[UnitQuantity]
    confirmed_by: PersonRef | None
    confirmed_at: datetime | None
    budget_reference: str | None
    reminders: int
    last_reminded_at: datetime | None


class CategoryTotal(BaseModel):
    category: str
    unit: str
    lines: int
    boroughs: int
    quantity: Decimal
    confirmed_quantity: Decimal


class ExtensionRead(BaseModel):
    previous_closes_at: datetime
    closes_at: datetime
    reason: str
    extended_at: datetime


class RoundSummary(BaseModel):
    id: int
    reference: str
    title: str
    status: str
    categories: list[str]
    term_start: date
    term_end: date
    closes_at: datetime
    tender_id: int | None
    invited: int
    # Officers: how many returns are confirmed or nil; a borough: its own return's status.
    answered: int | None = None
    own_status: str | None = None


class RoundRead(RoundSummary):
    guidance: str
    created_at: datetime
    closed_at: datetime | None
    tender_reference: str | None
    extensions: list[ExtensionRead]
    # One row per invited borough (officers); a borough sees its own row only.
    responses: list[ResponseRow]
    totals: list[CategoryTotal]
    # After the close: returns never confirmed, whose lines are not pooled.
    excluded: list[ResponseRow]


class ReminderResult(BaseModel):
    reminded: int
    boroughs: list[str]


class EstimateLine(BaseModel):
    """What joining is worth to one borough for one category and unit."""

    category: str
    unit: str
    quantity: Decimal
    pooled_quantity: Decimal
    standalone_unit_price: Money | None
    pooled_unit_price: Money | None
    standalone_value: Money | None
    pooled_value: Money | None
    saving: Money | None


class EstimateRow(BaseModel):
    borough_id: int
    gss_code: str | None
    name: str
    status: str
    lines: list[EstimateLine]
    standalone_value: Money | None
    pooled_value: Money | None
    saving: Money | None


class EstimateRead(BaseModel):
    round_id: int
    reference: str
    priced_on: date
    # Before the close every live line counts; afterwards only confirmed returns.
    basis: str
    boroughs: list[EstimateRow]
