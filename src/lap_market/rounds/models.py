"""A demand round, the categories it asks about, each invited borough's return, extensions."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, text, timestamp


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    TENDERED = "tendered"


class ReturnStatus(StrEnum):
    NOT_RESPONDED = "not_responded"
    IN_PROGRESS = "in_progress"
    CONFIRMED = "confirmed"
    NIL_RETURN = "nil_return"


class DemandRound(SQLModel, table=True):
    __tablename__ = "demand_round"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_demand_round_year_sequence"),
    )

    id: int | None = id_field()
    reference: str = Field(max_length=20, unique=True)
    year: int
    sequence: int
    title: str = text(200)
    guidance: str = long_text(default="")
    term_start: date
    term_end: date
    # Stored status moves on actions; "closed" is also derived from closes_at on read.
    status: str = Field(default=RoundStatus.OPEN, max_length=20, index=True)
    closes_at: datetime = timestamp()
    # When closes_at was last set (opening or extension): reminders due before it are skipped.
    closes_set_at: datetime = timestamp()
    closed_at: datetime | None = timestamp(nullable=True)
    tender_id: int | None = Field(default=None, foreign_key="tender.id", nullable=True, unique=True)
    tendered_at: datetime | None = timestamp(nullable=True)
    created_by_id: int = fk("user.id", index=False)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class DemandRoundCategory(SQLModel, table=True):
    __tablename__ = "demand_round_category"

    round_id: int = Field(foreign_key="demand_round.id", primary_key=True)
    category_id: int = Field(foreign_key="category.id", primary_key=True)


class RoundReturn(SQLModel, table=True):
    """One invited borough's answer to a round (a row per invitation)."""

    __tablename__ = "round_return"
    __table_args__ = (sa.UniqueConstraint("round_id", "borough_id", name="uq_round_return"),)

    id: int | None = id_field()
    round_id: int = fk("demand_round.id", index=False)
    borough_id: int = fk("organisation.id")
    status: str = Field(default=ReturnStatus.NOT_RESPONDED, max_length=20)
    confirmed_by_id: int | None = fk("user.id", nullable=True, index=False)
    confirmed_at: datetime | None = timestamp(nullable=True)
    budget_reference: str | None = text(100, nullable=True)
    reminders: int = 0
    last_reminded_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()


class RoundExtension(SQLModel, table=True):
    __tablename__ = "round_extension"

    id: int | None = id_field()
    round_id: int = fk("demand_round.id")
    previous_closes_at: datetime = timestamp()
    closes_at: datetime = timestamp()
    reason: str = long_text()
    extended_by_id: int = fk("user.id", index=False)
    extended_at: datetime = timestamp()
