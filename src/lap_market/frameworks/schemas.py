"""API models for frameworks: the terms a framework tender sets, the record, call-offs."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lap_market.money import Money
from lap_market.primitives import BusinessDate, BusinessDateTime, Input, LongText

PROCEDURES = ("call_off_contracts", "framework")
MAX_QUANTITY = Decimal("1000000000")


class FrameworkTerms(BaseModel):
    """What a tender says about the framework it sets up (ignored for other procedures)."""

    procedure: Literal["call_off_contracts", "framework"] | None = None
    framework_max_suppliers: int | None = Field(default=None, ge=1, le=20)
    framework_end: BusinessDate | None = None
    framework_weight_range: int | None = Field(default=None, ge=0, le=50)


class MemberRead(BaseModel):
    id: int
    rank: int
    supplier_id: int
    supplier: str
    unit_price: Money
    quality_score: Decimal | None
    total_score: Decimal | None
    status: str
    withdrawn_reason: str | None


class FrameworkLotRead(BaseModel):
    id: int
    number: int
    title: str
    category: str
    unit: str
    members: list[MemberRead]


class CallOffSummary(BaseModel):
    id: int
    lot_id: int
    borough: str
    route: str
    status: str
    quantity: Decimal
    contract_id: int | None
    contract_reference: str | None
    value: Money | None


class FrameworkRead(BaseModel):
    id: int
    reference: str
    tender_id: int
    title: str
    start_date: date
    end_date: date
    status: Literal["active", "expired"]
    lots: list[FrameworkLotRead]
    call_offs: list[CallOffSummary]
    call_off_value: Money


class FrameworkSummary(BaseModel):
    id: int
    reference: str
    title: str
    start_date: date
    end_date: date
    status: Literal["active", "expired"]
    call_off_count: int
    call_off_value: Money


class CallOffCreate(Input):
    model_config = ConfigDict(extra="forbid")

    quantity: Decimal = Field(gt=0, le=MAX_QUANTITY, max_digits=14, decimal_places=2)
    start_date: BusinessDate
    end_date: BusinessDate
    specification: LongText = Field(default="", max_length=20_000)
    route: Literal["direct_award", "further_competition"]
    borough_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                   description="For an officer calling off for a borough")
    price_weight: int | None = Field(default=None, ge=0, le=100)
    quality_weight: int | None = Field(default=None, ge=0, le=100)
    submission_deadline: BusinessDateTime | None = None


class OfferRead(BaseModel):
    id: str
    request_id: int
    framework_id: int
    framework_reference: str
    lot_id: int
    lot_number: int
    lot_title: str
    borough: str
    supplier: str
    step: int
    unit_price: Money
    quantity: Decimal
    value: Money
    start_date: date
    end_date: date
    specification: str
    status: str
    offered_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    reason: str | None


class CallOffRead(BaseModel):
    id: int
    framework_id: int
    lot_id: int
    borough_id: int
    borough: str
    route: str
    status: str
    quantity: Decimal
    start_date: date
    end_date: date
    specification: str
    created_at: datetime
    contract_id: int | None
    offers: list[OfferRead]
    price_weight: int | None
    quality_weight: int | None
    submission_deadline: datetime | None
    award_reason: str | None


class DeclineIn(Input):
    model_config = ConfigDict(extra="forbid")

    reason: LongText = Field(min_length=1, max_length=2_000)


class WithdrawMemberIn(Input):
    model_config = ConfigDict(extra="forbid")

    reason: LongText = Field(min_length=1, max_length=2_000)


class CompetitionBidIn(Input):
    model_config = ConfigDict(extra="forbid")

    unit_price: Money = Field(gt=0)
    quality_statement: LongText = Field(min_length=1, max_length=10_000)


class CompetitionScoreIn(Input):
    model_config = ConfigDict(extra="forbid")

    bid_id: str = Field(min_length=1, max_length=32)
    quality_score: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2)


class CompetitionAwardIn(Input):
    model_config = ConfigDict(extra="forbid")

    bid_id: str = Field(min_length=1, max_length=32)
    reason: LongText | None = Field(default=None, max_length=2_000)


class CompetitionBidRead(BaseModel):
    id: str
    supplier: str | None
    unit_price: Money | None
    quality_statement: str | None
    quality_score: Decimal | None
    total_score: Decimal | None
    rank: int | None
    submitted_at: datetime
    won: bool
