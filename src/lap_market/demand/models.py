"""A borough's need for a service."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col

from lap_market.modeling import fk, id_field, long_text, pence, quantity, timestamp


class DemandStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_TENDER = "in_tender"
    CONTRACTED = "contracted"
    WITHDRAWN = "withdrawn"


SUBMITTED_WHERE = "status = 'submitted'"


class Demand(SQLModel, table=True):
    # Pooling rewrites thousands of rows at once and every index costs a write per row, so
    # the table keeps few: the pipeline and aggregation look up submitted lines by category
    # and unit. Partial (migration 0005_pool2): a pooled line leaves it and writes nothing.
    __table_args__ = (
        sa.Index(
            "ix_demand_submitted_category_unit",
            "category_id",
            "unit_id",
            postgresql_where=sa.text(SUBMITTED_WHERE),
            sqlite_where=sa.text(SUBMITTED_WHERE),
        ),
        # Partial (migration 0004_poolidx): only lines in a lot, or of a round, have an entry,
        # so pooling a line outside any round writes nothing to the round index. Queries ask
        # for a given lot or round, which implies IS NOT NULL on both databases.
        sa.Index(
            "ix_demand_lot_id",
            "lot_id",
            postgresql_where=sa.text("lot_id IS NOT NULL"),
            sqlite_where=sa.text("lot_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_demand_round_id",
            "round_id",
            postgresql_where=sa.text("round_id IS NOT NULL"),
            sqlite_where=sa.text("round_id IS NOT NULL"),
        ),
        # A pooled line points at its lot *and* that lot's tender through one composite key:
        # the line's tender is always its lot's tender, and pooling 33,000 lines pays for one
        # referential check per line instead of two. MATCH FULL (and, for SQLite, which
        # ignores MATCH, the check) means both are set or neither. On PostgreSQL, migration
        # 0002_pooling replaces this key by statement-level triggers that check the distinct
        # keys a statement wrote, once each (same locks, same refusals), not once per line.
        sa.ForeignKeyConstraint(
            ["tender_id", "lot_id"],
            ["lot.tender_id", "lot.id"],
            name="fk_demand_tender_id_lot_id_lot",
            match="FULL",
        ),
        sa.CheckConstraint(
            "(tender_id IS NULL) = (lot_id IS NULL)", name="tender_and_lot_together"
        ),
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
    tender_id: int | None = Field(default=None, nullable=True)  # with lot_id: see above
    lot_id: int | None = Field(default=None, nullable=True)  # indexed: see __table_args__
    # A line of a borough's return to a demand round (pooled only through the round).
    round_id: int | None = fk("demand_round.id", nullable=True, index=False)  # see above
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()



def submitted() -> sa.ColumnElement[bool]:
    """``status = 'submitted'`` written out, not bound: the WHERE under which SQLite (and a
    generic PostgreSQL plan) can use the submitted lines' index."""
    return col(Demand.status) == sa.literal_column(f"'{DemandStatus.SUBMITTED.value}'")
