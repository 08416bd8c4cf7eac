"""API models for demand, and the single-field rules that JSON, forms and CSV rows share."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from lap_market.money import PENNY, Money, parse_money
from lap_market.primitives import MAX_QUANTITY, BusinessDate, Code, Id, Input, Multiline, Strict

MAX_SPECIFICATION = 5000


def clean_quantity(value: object) -> Decimal:
    """A quantity above zero, at most 10^9, with at most two decimal places."""
    if isinstance(value, bool):
        raise ValueError("must be a number such as 40 or 12.5")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("must be a number such as 40 or 12.5") from exc
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be more than 0")
    if amount > MAX_QUANTITY:
        raise ValueError("must be 1,000,000,000 or less")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(PENNY):
        raise ValueError("must have at most 2 decimal places")
    return amount.quantize(PENNY)


def clean_specification(value: object) -> str:
    """Free text of at most 5,000 characters."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if len(value) > MAX_SPECIFICATION:
        raise ValueError(
            f"must be {MAX_SPECIFICATION:,} characters or fewer (it has {len(value):,})"
        )
    return value


def clean_budget(value: object) -> Decimal:
    """A budget ceiling in pounds, above zero, to the penny."""
    amount = parse_money(value)
    if amount <= 0:
        raise ValueError("must be more than £0")
    return amount


Quantity = Annotated[Decimal, BeforeValidator(clean_quantity)]
Specification = Annotated[str, Multiline(), BeforeValidator(clean_specification)]
Budget = Annotated[Money, BeforeValidator(clean_budget)]


class DemandCreate(Strict):
    """A borough's new need. Category and unit are codes (``storage``, ``linear_metre_year``)."""

    category: Code
    unit: Code
    quantity: Quantity
    start_date: BusinessDate
    end_date: BusinessDate
    needed_by: BusinessDate | None = None
    specification: Specification = ""
    budget_ceiling: Budget | None = None
    # Only the manager's own borough is accepted; present so acting for another is refused.
    borough_id: Id | None = None
    # A line of the borough's return to this demand round (its categories and term apply).
    round_id: Id | None = None


class DemandUpdate(Strict):
    """Changes to a submitted demand; omitted fields stay as they are."""

    category: Code | None = None
    unit: Code | None = None
    quantity: Quantity | None = None
    start_date: BusinessDate | None = None
    end_date: BusinessDate | None = None
    needed_by: BusinessDate | None = None
    specification: Specification | None = None
    budget_ceiling: Budget | None = None
    # Demand cannot change hands: present so moving it to another borough is refused (403).
    borough_id: Id | None = None


class DemandFilters(Input):
    """What an officer (or a borough, within its own) narrows a demand list by."""

    category: str | None = None
    unit: str | None = None
    status: str | None = None
    borough: str | None = None  # organisation id or GSS code


class BoroughRef(BaseModel):
    id: int
    name: str
    gss_code: str | None


class DemandRead(BaseModel):
    id: int
    borough: BoroughRef
    category: str
    unit: str
    quantity: Decimal
    start_date: date
    end_date: date
    needed_by: date | None
    specification: str
    budget_ceiling: Money | None
    status: str
    tender_id: int | None
    lot_id: int | None
    round_id: int | None = None
    created_at: datetime
    updated_at: datetime


class DemandPage(BaseModel):
    items: list[DemandRead]
    total: int
    page: int
    page_size: int


class RowError(BaseModel):
    row: int = Field(description="Line number in the file, counting the header as row 1.")
    field: str
    message: str


class ImportResult(BaseModel):
    imported: int
    demand_ids: list[int]


class SummaryRow(BaseModel):
    """Demand lines, boroughs and total quantity for one category and unit."""

    category: str
    category_name: str
    unit: str
    unit_name: str
    lines: int
    boroughs: int
    quantity: Decimal


class NeedForm(Strict):
    """The web form for one need: category and unit are one choice ("storage:box_year")."""

    service: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=81)]
    quantity: Quantity
    start_date: BusinessDate
    end_date: BusinessDate
    needed_by: BusinessDate | None = None
    specification: Specification = ""
    budget_ceiling: Budget | None = None

    def codes(self) -> tuple[str, str]:
        category, _, unit = self.service.partition(":")
        return category, unit

    def to_create(self) -> DemandCreate:
        category, unit = self.codes()
        return DemandCreate(
            category=category or "-", unit=unit or "-", quantity=self.quantity,
            start_date=self.start_date, end_date=self.end_date, needed_by=self.needed_by,
            specification=self.specification, budget_ceiling=self.budget_ceiling,
        )

    def to_update(self) -> DemandUpdate:
        """Every field as on the form: an emptied optional field clears what was stored."""
        category, unit = self.codes()
        return DemandUpdate(
            category=category or "-", unit=unit or "-", quantity=self.quantity,
            start_date=self.start_date, end_date=self.end_date, needed_by=self.needed_by,
            specification=self.specification, budget_ceiling=self.budget_ceiling,
        )
