"""demand rounds: rounds, their categories, each invited borough's return, extensions;
demand.round_id

Revision ID: 0002_rounds
Revises: 0002_notify (this branch merged jobs and notify; the lead re-chains at merge)
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_rounds"
# Chained after notify's migration because this branch merged jobs and notify; it depends
# only on 0001.
down_revision: str | None = "0002_pooling"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demand_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tender_id", sa.Integer(), nullable=True),
        sa.Column("tendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_demand_round_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["tender.id"], name=op.f("fk_demand_round_tender_id_tender")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_round")),
        sa.UniqueConstraint("reference", name=op.f("uq_demand_round_reference")),
        sa.UniqueConstraint("tender_id", name=op.f("uq_demand_round_tender_id")),
        sa.UniqueConstraint("year", "sequence", name="uq_demand_round_year_sequence"),
    )
    with op.batch_alter_table("demand_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_round_status"), ["status"], unique=False)
    op.create_table(
        "demand_round_category",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"],
            name=op.f("fk_demand_round_category_category_id_category"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["demand_round.id"],
            name=op.f("fk_demand_round_category_round_id_demand_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "category_id", name=op.f("pk_demand_round_category")),
    )
    op.create_table(
        "round_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("borough_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("budget_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borough_id"], ["organisation.id"],
            name=op.f("fk_round_return_borough_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["user.id"], name=op.f("fk_round_return_confirmed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["demand_round.id"], name=op.f("fk_round_return_round_id_demand_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_return")),
        sa.UniqueConstraint("round_id", "borough_id", name="uq_round_return"),
    )
    with op.batch_alter_table("round_return", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_return_borough_id"), ["borough_id"],
                              unique=False)
    op.create_table(
        "round_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("previous_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended_by_id", sa.Integer(), nullable=False),
        sa.Column("extended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["extended_by_id"], ["user.id"], name=op.f("fk_round_extension_extended_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["demand_round.id"],
            name=op.f("fk_round_extension_round_id_demand_round"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_extension")),
    )
    with op.batch_alter_table("round_extension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_extension_round_id"), ["round_id"],
                              unique=False)
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_demand_round_id"), ["round_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_demand_round_id_demand_round"), "demand_round", ["round_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_demand_round_id_demand_round"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_demand_round_id"))
        batch_op.drop_column("round_id")
    with op.batch_alter_table("round_extension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_extension_round_id"))
    op.drop_table("round_extension")
    with op.batch_alter_table("round_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_return_borough_id"))
    op.drop_table("round_return")
    op.drop_table("demand_round_category")
    with op.batch_alter_table("demand_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demand_round_status"))
    op.drop_table("demand_round")
