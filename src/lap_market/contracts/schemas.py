"""API models for contracts, direct commissioning and call-off batches."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from lap_market.money import Money
from lap_market.primitives import BusinessDate, Id, Input

MAX_QUANTITY = Decimal("1000000000")
PoNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                           pattern=r"^[A-Za-z0-9][A-Za-z0-9 /._-]*$"),
]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class ContractAccept(Input):
    """Accepting a contract; the buyer may give its purchase-order number."""

    model_config = ConfigDict(extra="forbid")

    po_number: Annotated[PoNumber | None, BeforeValidator(_blank_is_none)] = None


class PoNumberForm(Input):
    """An officer recording the buyer's purchase-order number before the buyer accepts."""

    model_config = ConfigDict(extra="forbid")

    po_number: PoNumber


class DirectCommissionCreate(Input):
    """A borough manager commissioning a published catalogue offer directly."""

    offer_id: Id
    quantity: Decimal
    start_date: BusinessDate
    end_date: BusinessDate

    @field_validator("quantity", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError('must be a decimal string such as "12.5", not a float')
        return value

    @field_validator("quantity")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError("must be greater than zero")
        if value >= MAX_QUANTITY:
            raise ValueError("is too large")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise ValueError("must have at most 2 decimal places")
        return value

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if isinstance(start, date) and value < start:
            raise ValueError("must not be before the start date")
        return value



class CommissionForm(DirectCommissionCreate):
    """The commission form: the offer is the page's, so the form need not post it."""

    offer_id: Id | None = None  # type: ignore[assignment]  # filled from the page's path

class PartyRead(BaseModel):
    id: int
    name: str
    kind: str
    gss_code: str | None


class AcceptanceRead(BaseModel):
    by_id: int
    by_name: str
    at: datetime


class TenderSourceRead(BaseModel):
    tender_id: int
    tender_reference: str
    lot_id: int
    lot_number: int
    award_id: int | None


class OfferSourceRead(BaseModel):
    offer_id: int
    offer_title: str
    offer_version_id: int | None
    offer_version_number: int | None


class DocumentVersionRead(BaseModel):
    version: int
    reason: str
    sha256: str
    created_at: datetime
    url: str


class ContractRead(BaseModel):
    id: int
    reference: str
    kind: str
    status: str
    buyer: PartyRead
    supplier: PartyRead
    tender: TenderSourceRead | None
    offer: OfferSourceRead | None
    demand_id: int | None
    service: str
    category: str
    category_name: str
    cpv_code: str
    unit: str
    unit_name: str
    quantity: Decimal
    unit_price: Money
    value: Money
    vat_rate: str = "0.20"
    vat: Money
    total: Money
    start_date: date
    end_date: date
    term_days: int
    payment_terms: str
    issued_at: datetime
    buyer_acceptance: AcceptanceRead | None
    supplier_acceptance: AcceptanceRead | None
    pdf_sha256: str
    pdf_url: str
    documents: list[DocumentVersionRead] = []
    po_number: str | None = None


class CallOffIssueRead(BaseModel):
    tender_id: int
    lot_id: int
    issued: int
    lot_status: str
    tender_status: str
    contracts: list[ContractRead]


class CallOffProgressRead(BaseModel):
    batch_id: int
    lot_id: int
    status: str
    done: int
    total: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class DirectQuoteRead(BaseModel):
    offer_id: int
    offer_version_id: int
    quantity: Decimal
    unit_price: Money
    tier_min_quantity: Decimal
    term_days: int
    value: Money
    vat: Money
    total: Money
    direct_award_limit: Money
