"""sealed bids: public bid ids, sealed audit events; numeric direct-contract references

Revision ID: 0002_sealed
Revises: 0002_jobs
Create Date: 2026-12-01 12:11:26.461459
"""

import re
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_sealed"
down_revision: str | None = "0002_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIRECT = re.compile(r"^LAP-DC-\d{4}-(\d+)$")


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite alters a table by copying it and dropping the old one, which with foreign keys
    enforced fails for a table others refer to (awards refer to bids). The pragma only takes
    effect outside a transaction, i.e. before this migration's first write."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _backfill_bid_ids() -> None:
    bind = op.get_bind()
    bid = sa.table("bid", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    for (bid_id,) in bind.execute(sa.select(bid.c.id)).all():
        bind.execute(
            bid.update().where(bid.c.id == bid_id).values(public_id=secrets.token_urlsafe(16))
        )


def _backfill_reference_numbers() -> None:
    bind = op.get_bind()
    contract = sa.table(
        "contract",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("reference", sa.String),
        sa.column("reference_number", sa.Integer),
    )
    rows = bind.execute(
        sa.select(contract.c.id, contract.c.reference).where(contract.c.kind == "direct")
    ).all()
    for contract_id, reference in rows:
        match = _DIRECT.match(reference)
        if match:
            bind.execute(
                contract.update()
                .where(contract.c.id == contract_id)
                .values(reference_number=int(match.group(1)))
            )


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_tender_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_auditevent_sealed_tender_id"), ["sealed_tender_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_auditevent_sealed_tender_id_tender"),
            "tender",
            ["sealed_tender_id"],
            ["id"],
        )

    # Added nullable, filled with random ids, then made required and unique.
    with op.batch_alter_table("bid", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    _backfill_bid_ids()
    with op.batch_alter_table("bid", schema=None) as batch_op:
        batch_op.alter_column(
            "public_id", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_bid_public_id"), ["public_id"], unique=True)

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_number", sa.Integer(), nullable=True))
    _backfill_reference_numbers()
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("reference_number")

    with op.batch_alter_table("bid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bid_public_id"))
        batch_op.drop_column("public_id")

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_auditevent_sealed_tender_id_tender"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_auditevent_sealed_tender_id"))
        batch_op.drop_column("sealed_tender_id")
    _sqlite_foreign_keys(True)
