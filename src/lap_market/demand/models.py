"""A borough's need for a service."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, pence, quantity, timestamp


class DemandStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_TENDER = "in_tender"
    CONTRACTED = "contracted"
    WITHDRAWN = "withdrawn"


class Demand(SQLModel, table=True):
    # Pooling rewrites thousands of rows at once and every index costs a write per row, so
    # the table keeps few: the pipeline and aggregation look up by (status, category, unit).
    __table_args__ = (
        sa.Index("ix_demand_status_category_unit", "status", "category_id", "unit_id"),
    )

    id: int | None = id_field()
    borough_id: int = fk("organisation.id")
    created_by_id: int = fk("user.id", index=False)
    category_id: int = fk("category.id", index=False)
    unit_id: int = fk("categoryunit.id", index=False)
    quantity: Decimal = quantity()
    start_date: date
    end_date: date
    needed_by: date | None = Field(default=None, nullable=True)
    specification: str = long_text(default="")
    # BIGINT: a ceiling may pass £21.4M, the most a 32-bit count of pence holds.
    budget_ceiling_pence: int | None = pence(nullable=True)
    status: str = Field(default=DemandStatus.SUBMITTED, max_length=20)
    tender_id: int | None = Field(default=None, foreign_key="tender.id", nullable=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True, nullable=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
