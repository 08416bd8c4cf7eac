"""Framework agreements: a tender's lots awarded to several ranked suppliers for up to four
years, and the call-offs boroughs make under them (a direct-award cascade or a further
competition among the lot's members)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, pence, quantity, text, timestamp
from lap_market.tenders.models import new_bid_public_id


def public_id() -> str:
    """22 random URL-safe characters: offers and competition bids say nothing of their count
    (as a bid's public id: never starting with a character a spreadsheet reads as a formula)."""
    return new_bid_public_id()


class Procedure(StrEnum):
    CALL_OFF_CONTRACTS = "call_off_contracts"
    FRAMEWORK = "framework"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Route(StrEnum):
    DIRECT_AWARD = "direct_award"
    FURTHER_COMPETITION = "further_competition"


class RequestStatus(StrEnum):
    OFFERED = "offered"  # the cascade is waiting on a member
    COMPETING = "competing"  # a further competition is open or being evaluated
    CALLED_OFF = "called_off"  # a contract was issued
    NO_SUPPLIER = "no_supplier"  # every member declined, let the offer lapse, or none bid


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class Framework(SQLModel, table=True):
    """One per framework tender, made when its first lot is awarded."""

    id: int | None = id_field()
    reference: str = Field(max_length=40, unique=True)
    tender_id: int = Field(foreign_key="tender.id", unique=True)
    start_date: date
    end_date: date
    created_at: datetime = timestamp()


class FrameworkMember(SQLModel, table=True):
    """A supplier awarded a place on one lot, in the evaluation's rank order."""

    __table_args__ = (
        sa.UniqueConstraint("lot_id", "supplier_id"),
        sa.UniqueConstraint("lot_id", "rank"),
    )

    id: int | None = id_field()
    framework_id: int = fk("framework.id")
    lot_id: int = fk("lot.id")
    award_id: int = fk("award.id", index=False)
    supplier_id: int = fk("organisation.id")
    rank: int
    unit_price_pence: int = pence()
    quality_score: Decimal | None = quantity(nullable=True)
    total_score: Decimal | None = quantity(nullable=True)
    status: str = Field(default=MemberStatus.ACTIVE, max_length=20)
    withdrawn_at: datetime | None = timestamp(nullable=True)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    withdrawn_reason: str | None = long_text(nullable=True)


class CallOffRequest(SQLModel, table=True):
    """A borough's call-off under a framework lot, by either route."""

    id: int | None = id_field()
    framework_id: int = fk("framework.id")
    lot_id: int = fk("lot.id")
    borough_id: int = fk("organisation.id")
    requested_by_id: int = fk("user.id", index=False)
    route: str = text(30)
    quantity: Decimal = quantity()
    start_date: date
    end_date: date
    specification: str = long_text(default="")
    status: str = Field(default=RequestStatus.OFFERED, max_length=20, index=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    contract_id: int | None = Field(default=None, foreign_key="contract.id", nullable=True)
    # Further competition only.
    price_weight: int | None = Field(default=None, nullable=True)
    quality_weight: int | None = Field(default=None, nullable=True)
    submission_deadline: datetime | None = timestamp(nullable=True)
    award_reason: str | None = long_text(nullable=True)


class CallOffOffer(SQLModel, table=True):
    """One step of the cascade: the request offered to one member at its framework price."""

    __table_args__ = (sa.UniqueConstraint("request_id", "member_id"),)

    id: int | None = id_field()
    public_id: str = Field(default_factory=public_id, max_length=32, unique=True, index=True)
    request_id: int = fk("calloffrequest.id")
    member_id: int = fk("frameworkmember.id", index=False)
    supplier_id: int = fk("organisation.id")
    step: int
    unit_price_pence: int = pence()
    status: str = Field(default=OfferStatus.PENDING, max_length=20, index=True)
    offered_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    responded_at: datetime | None = timestamp(nullable=True)
    responded_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    reason: str | None = long_text(nullable=True)


class CompetitionBid(SQLModel, table=True):
    """A member's sealed bid in a further competition; one per member, replaced in place."""

    __table_args__ = (sa.UniqueConstraint("request_id", "supplier_id"),)

    id: int | None = id_field()
    public_id: str = Field(default_factory=public_id, max_length=32, unique=True, index=True)
    request_id: int = fk("calloffrequest.id")
    member_id: int = fk("frameworkmember.id", index=False)
    supplier_id: int = fk("organisation.id", index=False)
    submitted_by_id: int = fk("user.id", index=False)
    unit_price_pence: int = pence()
    quality_statement: str = long_text()
    quality_score: Decimal | None = quantity(nullable=True)
    submitted_at: datetime = timestamp()
    won: bool = Field(default=False)
