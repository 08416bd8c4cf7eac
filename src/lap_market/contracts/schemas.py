"""API models for contracts, direct commissioning and call-off batches."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ValidationInfo, field_validator

from lap_market.money import Money
from lap_market.primitives import MAX_QUANTITY, BusinessDate, Id, Input


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
