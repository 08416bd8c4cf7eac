"""API models for tenders and lots (shared by aggregation and tendering)."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from lap_market.money import Money


class LotRead(BaseModel):
    id: int
    number: int
    title: str
    status: str
    category: str
    unit: str
    total_quantity: Decimal
    boroughs: list[str]
    demand_ids: list[int]
    estimated_value: Money | None
    standalone_value: Money | None
    estimated_saving: Money | None
    no_reference_rate: bool
    bid_count: int | None = None


class AmendmentRead(BaseModel):
    number: int
    reason: str
    changes: dict[str, object]
    created_at: datetime


class TenderRead(BaseModel):
    id: int
    reference: str
    title: str
    description: str
    status: str
    price_weight: int
    quality_weight: int
    clarification_deadline: datetime | None
    submission_deadline: datetime | None
    estimated_value: Money | None
    estimated_value_incl_vat: Money | None
    above_threshold: bool
    lots: list[LotRead]
    amendments: list[AmendmentRead]
    created_at: datetime
    published_at: datetime | None
