"""sealfix: random public ids (audit events, outbox messages, notifications); sealed emails

Revision ID: 0003_sealfix
Revises: 0002_search
Create Date: 2026-12-01 13:45:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_sealfix"
down_revision: str | None = "0002_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PUBLIC_ID = sqlmodel.sql.sqltypes.AutoString(length=32)


def _add_public_id(table: str) -> None:
    """Added nullable, filled with random ids, then made required and unique."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", _PUBLIC_ID, nullable=True))
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    ids = [row_id for (row_id,) in bind.execute(sa.select(rows.c.id)).all()]
    if ids:
        bind.execute(
            rows.update().where(rows.c.id == sa.bindparam("row_id"))
            .values(public_id=sa.bindparam("new_id")),
            [{"row_id": i, "new_id": secrets.token_urlsafe(16)} for i in ids],
        )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=_PUBLIC_ID, nullable=False)
        batch_op.create_index(batch_op.f(f"ix_{table}_public_id"), ["public_id"], unique=True)


def _add_seal(table: str, *, index: bool) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_tender_id", sa.Integer(), nullable=True))
        if index:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_sealed_tender_id"), ["sealed_tender_id"], unique=False
            )
        batch_op.create_foreign_key(
            batch_op.f(f"fk_{table}_sealed_tender_id_tender"), "tender",
            ["sealed_tender_id"], ["id"],
        )


def _drop_seal(table: str, *, index: bool) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f(f"fk_{table}_sealed_tender_id_tender"), type_="foreignkey"
        )
        if index:
            batch_op.drop_index(batch_op.f(f"ix_{table}_sealed_tender_id"))
        batch_op.drop_column("sealed_tender_id")


def upgrade() -> None:
    _add_public_id("auditevent")
    _add_public_id("outbox_message")
    _add_public_id("notification")
    _add_seal("outbox_message", index=True)
    _add_seal("digestitem", index=False)


def downgrade() -> None:
    _drop_seal("digestitem", index=False)
    _drop_seal("outbox_message", index=True)
    for table in ("notification", "outbox_message", "auditevent"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_public_id"))
            batch_op.drop_column("public_id")
