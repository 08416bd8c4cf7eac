"""API models for categories, offers, browsing and quotes."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
)

from lap_market.money import Money, parse_decimal
from lap_market.paging import MAX_PAGE
from lap_market.primitives import (
    MAX_QUANTITY,
    BusinessDate,
    Code,
    Description,
    Id,
    Line,
    Strict,
    Title,
)

SortKey = Literal["name", "price"]
MAX_PAGE_SIZE = 100  # offers in one page of a search
MAX_UNIT_PRICE = Decimal("1000000.00")
MAX_TIERS = 10


def parse_quantity(value: object) -> Decimal:
    """A positive quantity with at most two decimal places, from a string or integer."""
    amount = parse_decimal(value, example="120")
    if amount <= 0:
        raise ValueError("must be greater than zero")
    if amount >= MAX_QUANTITY:
        raise ValueError("is too large")
    return amount.quantize(Decimal("0.01"))


def _positive_price(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    if value > MAX_UNIT_PRICE:
        raise ValueError("must be at most 1000000.00")
    return value


def quantity_text(value: Decimal) -> str:
    """A quantity as the API writes it: "120", or "2.50" with a fraction."""
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value:.2f}"


# A quantity: accepts "120" or "2.5" (or an int); emits "120" or "2.50".
Quantity = Annotated[
    Decimal,
    BeforeValidator(parse_quantity),
    PlainSerializer(quantity_text, return_type=str, when_used="json"),
]
UnitPrice = Annotated[Money, AfterValidator(_positive_price)]
LeadTime = Annotated[int, Field(ge=0, le=365)]


class TierIn(Strict):
    min_quantity: Quantity
    unit_price: UnitPrice


class OfferCreate(Strict):
    """A new offer; the service checks the category, unit and tier order."""

    category: Code
    title: Title
    description: Description = ""
    unit: Code
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=MAX_TIERS)]
    capacity: Quantity | None = None
    lead_time_days: LeadTime
    valid_from: BusinessDate
    valid_until: BusinessDate | None = None


class OfferUpdate(Strict):
    """Changes to an offer; only the fields sent change. ``category`` only on a draft."""

    category: Code | None = None
    title: Title | None = None
    description: Description | None = None
    unit: Code | None = None
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=MAX_TIERS)] | None = None
    capacity: Quantity | None = None
    lead_time_days: LeadTime | None = None
    valid_from: BusinessDate | None = None
    valid_until: BusinessDate | None = None


class UnitRead(BaseModel):
    code: str
    name: str
    per_year: bool
    whole: bool


class CategoryRead(BaseModel):
    code: str
    name: str
    cpv_code: str
    cpv_description: str
    units: list[UnitRead]


class TierRead(BaseModel):
    min_quantity: Quantity
    unit_price: Money


class VersionRead(BaseModel):
    id: int
    number: int
    unit: str
    tiers: list[TierRead]
    created_at: datetime
    published_at: datetime | None


class OfferSummary(BaseModel):
    """An offer as the catalogue lists it, with its price at the asked quantity if any."""

    id: int
    title: str
    provider_id: int
    provider_name: str
    category: str
    category_name: str
    unit: str
    unit_name: str
    per_year: bool
    status: str
    commissioned: bool
    version: int
    version_id: int
    tiers: list[TierRead]
    from_price: Money
    capacity: Quantity | None
    available: Decimal | None
    lead_time_days: int
    valid_from: date
    valid_until: date | None
    quantity: Quantity | None = None
    unit_price_at_quantity: Money | None = None
    tier_min_quantity: Quantity | None = None
    # Quantity × unit price, for one year (365 days) when the unit is per year.
    value_at_quantity: Money | None = None
    has_capacity: bool | None = None
    # The viewer's own organisation's offer: marked "yours" and left out of the ranking.
    yours: bool = False
    # In a comparison, the place among the other organisations' offers (None for yours).
    rank: int | None = None


class OfferRead(OfferSummary):
    """One offer with its description and the history of its rates."""

    description: str
    capacity_used: Decimal
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    versions: list[VersionRead]


class OfferPage(BaseModel):
    items: list[OfferSummary]
    total: int


class OfferSearch(BaseModel):
    """A catalogue search's query parameters (``GET /api/v1/offers``), validated as one
    model: per-parameter validation cost a tenth of the whole search (issue 11)."""

    category: Annotated[Line, Field(max_length=40)] | None = None
    unit: Annotated[Line, Field(max_length=40)] | None = None
    q: Annotated[Line, Field(max_length=200)] | None = None
    provider_id: Id | None = None
    commissioned: bool | None = None
    quantity: Annotated[Line, Field(max_length=20)] | None = None
    sort: SortKey = "name"
    page: Annotated[int, Field(ge=1, le=MAX_PAGE, description="1-based page number")] = 1
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 20


class QuoteRead(BaseModel):
    offer_id: int
    offer_version_id: int
    version: int
    unit: str
    per_year: bool
    quantity: Quantity
    unit_price: Money
    tier_min_quantity: Quantity
    start_date: date
    end_date: date
    term_days: int
    value: Money
    vat: Money
    total: Money
    yours: bool = False
