"""API models for tenders and lots (shared by aggregation and tendering)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lap_market.frameworks.schemas import FrameworkTerms
from lap_market.money import Money
from lap_market.primitives import BusinessDateTime, Id, Input, LongText


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
    procedure: str = "call_off_contracts"
    framework_max_suppliers: int = 3
    framework_end: date | None = None
    framework_weight_range: int = 20
    # Conflict-of-interest declarations (officers and admins; after the deadline).
    declarations: list["DeclarationRead"] = Field(default_factory=list)


# --- tendering inputs and outputs ---------------------------------------------------------

QUALITY_STATEMENT_MAX = 10_000
REASON_MAX = 2_000
TEXT_MAX = 5_000


class TenderUpdate(Input, FrameworkTerms):
    """Editable fields of a draft tender (all optional; checked together with the stored ones)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: LongText | None = Field(default=None, max_length=20_000)
    price_weight: int | None = Field(default=None, ge=0, le=100)
    quality_weight: int | None = Field(default=None, ge=0, le=100)
    clarification_deadline: BusinessDateTime | None = None
    submission_deadline: BusinessDateTime | None = None


class AmendmentCreate(Input):
    model_config = ConfigDict(extra="forbid")

    reason: LongText = Field(min_length=1, max_length=REASON_MAX)
    submission_deadline: BusinessDateTime | None = None
    clarification_deadline: BusinessDateTime | None = None
    description: LongText | None = Field(default=None, max_length=20_000)


class ReasonIn(Input):
    model_config = ConfigDict(extra="forbid")

    reason: LongText = Field(min_length=1, max_length=REASON_MAX)


class QuestionCreate(Input):
    model_config = ConfigDict(extra="forbid")

    question: LongText = Field(min_length=1, max_length=TEXT_MAX)


class AnswerCreate(Input):
    model_config = ConfigDict(extra="forbid")

    answer: LongText = Field(min_length=1, max_length=TEXT_MAX)


class QuestionRead(BaseModel):
    id: int
    tender_id: int
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    mine: bool = False
    # Only officers learn who asked; providers and boroughs never do.
    asked_by: str | None = None


class BidIn(Input):
    model_config = ConfigDict(extra="forbid")

    unit_price: Money
    quality_statement: LongText = Field(min_length=1, max_length=QUALITY_STATEMENT_MAX)


class BidRead(BaseModel):
    id: str = Field(description="The bid's public id (random: says nothing about other bids)")
    tender_id: int
    lot_id: int
    provider: str
    unit_price: Money
    quality_statement: str
    status: str
    quality_score: Decimal | None
    submitted_at: datetime
    updated_at: datetime


class LotBidCount(BaseModel):
    lot_id: int
    bid_count: int


class TenderBids(BaseModel):
    """What the caller may see of a tender's bids: counts only while they are sealed."""

    sealed: bool
    lots: list[LotBidCount]
    bids: list[BidRead]


class ScoreIn(Input):
    model_config = ConfigDict(extra="forbid")

    quality_score: Decimal = Field(ge=0, le=100, decimal_places=2)


class EvaluationRow(BaseModel):
    bid_id: str
    provider: str
    unit_price: Money
    price_score: Decimal
    quality_score: Decimal | None
    total_score: Decimal | None
    rank: int | None


class AwardIn(Input):
    model_config = ConfigDict(extra="forbid")

    bid_id: str | None = Field(default=None, min_length=1, max_length=32,
                               description="The bid's public id")
    bid_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=20,
        description="A framework lot: the bids to appoint (public ids), ranked by the evaluation")
    reason: LongText | None = Field(default=None, max_length=REASON_MAX)

    def chosen(self) -> list[str]:
        """The bids named, whichever field named them."""
        return list(self.bid_ids or ([self.bid_id] if self.bid_id else []))


class AwardRead(BaseModel):
    award_id: int
    standstill_ends: date
    award_ids: list[int] = Field(default_factory=list,
                                 description="A framework lot: every award, in rank order")


class AwardDetail(BaseModel):
    id: int
    tender_id: int
    lot_id: int
    bid_id: str
    supplier: str
    unit_price: Money
    reason: str | None
    status: str
    awarded_at: datetime
    standstill_ends: date
    revoked_at: datetime | None
    revoke_reason: str | None


class NotificationRead(BaseModel):
    id: str  # the public id: the internal sequence would count others' notices
    tender_id: int | None
    kind: str
    message: str
    created_at: datetime
    read_at: datetime | None


# --- conflict-of-interest declarations ------------------------------------------------------


class DeclarationIn(Input):
    """An officer's declaration for a tender: no conflict, or a conflict with details and
    the bidders (organisation ids) it concerns."""

    model_config = ConfigDict(extra="forbid")

    conflict: bool
    details: LongText | None = Field(default=None, max_length=TEXT_MAX)
    bidder_ids: list[Id] = Field(default_factory=list, max_length=200)


class DeclarationForm(Input):
    """The workspace's declaration form: one conflicted bidder at a time (a second conflict
    goes in the details)."""

    model_config = ConfigDict(extra="forbid")

    conflict: Literal["no", "yes"]
    details: LongText | None = Field(default=None, max_length=TEXT_MAX)
    bidder_id: Id | None = None

    def declaration(self) -> DeclarationIn:
        conflict = self.conflict == "yes"
        return DeclarationIn(
            conflict=conflict, details=self.details,
            bidder_ids=[self.bidder_id] if conflict and self.bidder_id else [],
        )


class MitigationIn(Input):
    """How another officer manages a declared conflict, and why that is enough."""

    model_config = ConfigDict(extra="forbid")

    measure: LongText = Field(min_length=1, max_length=TEXT_MAX)
    reason: LongText = Field(min_length=1, max_length=TEXT_MAX)


class DeclaredBidder(BaseModel):
    id: int
    name: str
    conflict: bool


class DeclarationRead(BaseModel):
    id: int
    tender_id: int
    officer_id: int
    officer_name: str
    conflict: bool
    details: str | None
    bidders: list[DeclaredBidder]
    declared_at: datetime
    mitigated: bool
    mitigation_measure: str | None
    mitigation_reason: str | None
    mitigated_by_id: int | None
    mitigated_by_name: str | None
    mitigated_at: datetime | None
    # Whether this officer may score and award the tender now.
    clear: bool


TenderRead.model_rebuild()
