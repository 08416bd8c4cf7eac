"""Joint tenders, their lots, amendments, clarifications, sealed bids and awards."""

import secrets
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, selectinload
from sqlalchemy.sql.base import ExecutableOption
from sqlmodel import Field, Relationship, SQLModel

from lap_market.modeling import (
    fk,
    id_field,
    json_field,
    long_text,
    pence,
    quantity,
    text,
    timestamp,
)

if TYPE_CHECKING:
    from lap_market.accounts.models import Organisation


def read_only(**kwargs: Any) -> Any:
    """A relationship for reading only: writes go through the foreign-key columns and the
    services' conditional UPDATEs, so the ORM never cascades or re-parents a row. Collections
    and rows are loaded where they are read, with ``selectinload`` (one query per relation,
    never one per row)."""
    return Relationship(sa_relationship_kwargs={"viewonly": True, **kwargs})


def eager(relationship: object) -> ExecutableOption:
    """``selectinload(Model.relation)``: SQLModel types a relationship attribute on the class
    as the related model, where at run time it is the ``QueryableAttribute`` loaders take."""
    return selectinload(cast("QueryableAttribute[Any]", relationship))


class TenderStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    AWARDED = "awarded"
    CONTRACTED = "contracted"
    CANCELLED = "cancelled"


class LotStatus(StrEnum):
    OPEN = "open"
    AWARDED = "awarded"
    UNSUCCESSFUL = "unsuccessful"
    CANCELLED = "cancelled"
    CONTRACTED = "contracted"


class BidStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class AwardStatus(StrEnum):
    STANDSTILL = "standstill"
    REVOKED = "revoked"


class Tender(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("year", "sequence"),)

    id: int | None = id_field()
    reference: str = Field(max_length=20, unique=True)
    year: int
    sequence: int
    title: str = text(200)
    description: str = long_text(default="")
    # Stored status moves on actions and with the close_due job; reads derive "closed" from
    # the deadline meanwhile (read.effective_status).
    status: str = Field(default=TenderStatus.DRAFT, max_length=20, index=True)
    price_weight: int = Field(default=60)
    quality_weight: int = Field(default=40)
    clarification_deadline: datetime | None = timestamp(nullable=True)
    submission_deadline: datetime | None = timestamp(nullable=True)
    created_by_id: int = fk("user.id", index=False)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    published_at: datetime | None = timestamp(nullable=True)
    cancelled_at: datetime | None = timestamp(nullable=True)
    cancel_reason: str | None = long_text(nullable=True)
    # "call_off_contracts" (one supplier per lot, call-offs for the pooled demand) or
    # "framework" (several ranked suppliers per lot, called off for years; lap_market.frameworks).
    procedure: str = Field(
        default="call_off_contracts", max_length=30,
        sa_column_kwargs={"server_default": "call_off_contracts"},
    )
    framework_max_suppliers: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    framework_end: date | None = Field(default=None, nullable=True)
    # How far a further competition may move the price and quality weights (points either way).
    framework_weight_range: int = Field(default=20, sa_column_kwargs={"server_default": "20"})

    lots: list["Lot"] = read_only(order_by="Lot.number")
    amendments: list["Amendment"] = read_only(order_by="Amendment.number")


class Lot(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("tender_id", "number"),
        # The key demand lines reference (demand.tender_id, demand.lot_id).
        sa.UniqueConstraint("tender_id", "id"),
    )

    id: int | None = id_field()
    tender_id: int = fk("tender.id")
    number: int
    title: str = text(200)
    category_id: int = fk("category.id", index=False)
    unit_id: int = fk("categoryunit.id", index=False)
    status: str = Field(default=LotStatus.OPEN, max_length=20)
    total_quantity: Decimal = quantity(default=Decimal("0"))
    # BIGINT: a pooled lot's value can pass £21.4M, the most a 32-bit count of pence holds.
    estimated_value_pence: int | None = pence(nullable=True)
    standalone_value_pence: int | None = pence(nullable=True)
    cancel_reason: str | None = long_text(nullable=True)
    unsuccessful_reason: str | None = long_text(nullable=True)


class Amendment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tender_id", "number"),)

    id: int | None = id_field()
    tender_id: int = fk("tender.id")
    number: int
    reason: str = long_text()
    changes: dict[str, Any] = json_field()
    created_by_id: int = fk("user.id", index=False)
    created_at: datetime = timestamp()


class Question(SQLModel, table=True):
    id: int | None = id_field()
    tender_id: int = fk("tender.id")
    asked_by_org_id: int = fk("organisation.id", index=False)
    asked_by_id: int = fk("user.id", index=False)
    question: str = long_text()
    asked_at: datetime = timestamp()
    answer: str | None = long_text(nullable=True)
    answered_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    answered_at: datetime | None = timestamp(nullable=True)

    asked_by_org: "Organisation" = read_only()


class Notification(SQLModel, table=True):
    """An in-app notice to an organisation. ``id`` is one global sequence and stays internal:
    gaps between an organisation's own ids would count notices sent to others (bid receipts
    among them). Readers see ``public_id``."""

    id: int | None = id_field()
    public_id: str = Field(default_factory=lambda: secrets.token_urlsafe(16), max_length=32,
                           unique=True, index=True)
    organisation_id: int = fk("organisation.id")
    tender_id: int | None = Field(default=None, foreign_key="tender.id", nullable=True)
    kind: str = text(40)
    message: str = long_text()
    created_at: datetime = timestamp()
    read_at: datetime | None = timestamp(nullable=True)


def new_bid_public_id() -> str:
    """22 random URL-safe characters (128 bits): says nothing about how many bids exist.

    Never starting with "-" or "_": a spreadsheet would read a leading "-" as a formula, so
    the CSV export would have to quote the id and it would no longer match the API's."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if candidate[0].isalnum():
            return candidate


class Bid(SQLModel, table=True):
    """A provider's sealed bid for one lot. One per provider and lot, replaced in place.

    ``id`` stays internal: a global sequence would let a provider count rivals' bids between
    its own. Everything outside the database (API, pages, forms, CSV, audit) uses ``public_id``.
    """

    __table_args__ = (sa.UniqueConstraint("lot_id", "provider_id"),)

    id: int | None = id_field()
    public_id: str = Field(
        default_factory=new_bid_public_id, max_length=32, unique=True, index=True
    )
    tender_id: int = fk("tender.id")
    lot_id: int = fk("lot.id")
    provider_id: int = fk("organisation.id")
    submitted_by_id: int = fk("user.id", index=False)
    unit_price_pence: int = pence()
    quality_statement: str = long_text()
    status: str = Field(default=BidStatus.ACTIVE, max_length=20)
    quality_score: Decimal | None = quantity(nullable=True)
    scored_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    submitted_at: datetime = timestamp()
    updated_at: datetime = timestamp()

    provider: "Organisation" = read_only()


class Award(SQLModel, table=True):
    id: int | None = id_field()
    tender_id: int = fk("tender.id")
    lot_id: int = fk("lot.id")
    bid_id: int = fk("bid.id")
    supplier_id: int = fk("organisation.id", index=False)
    unit_price_pence: int = pence()
    reason: str | None = long_text(nullable=True)
    status: str = Field(default=AwardStatus.STANDSTILL, max_length=20)
    awarded_by_id: int = fk("user.id", index=False)
    awarded_at: datetime = timestamp()
    standstill_ends: date
    revoked_at: datetime | None = timestamp(nullable=True)
    revoke_reason: str | None = long_text(nullable=True)

    bid: Bid = read_only()
    supplier: "Organisation" = read_only()


class Declaration(SQLModel, table=True):
    """An officer's conflict-of-interest declaration for one tender (Procurement Act 2023
    s.81–83): "no conflict", or a conflict with details, declared against the bidders then
    known; a conflict bars that officer from scoring and awarding until another officer
    records how it is mitigated."""

    __table_args__ = (sa.UniqueConstraint("tender_id", "officer_id"),)

    id: int | None = id_field()
    tender_id: int = fk("tender.id")
    officer_id: int = fk("user.id", index=False)
    conflict: bool
    details: str | None = long_text(nullable=True)
    # The bidders declared against, as [{"id", "name"}] when declared; and which of them the
    # conflict concerns (ids).
    bidders: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    conflict_bidder_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    declared_at: datetime = timestamp()
    mitigation_measure: str | None = long_text(nullable=True)
    mitigation_reason: str | None = long_text(nullable=True)
    mitigated_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    mitigated_at: datetime | None = timestamp(nullable=True)
