"""notification preferences, daily digest items, scheduled-message marks

Revision ID: 0002_notify
Revises: 0002_jobs (this branch merged jobs; the lead re-chains at merge)
Create Date: 2026-12-01 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_notify"
# Chained after the jobs migration because this branch merged jobs; it depends only on 0001.
down_revision: str | None = "0002_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notificationpreference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notificationpreference_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notificationpreference")),
        sa.UniqueConstraint(
            "user_id", "kind", name=op.f("uq_notificationpreference_user_id_kind")
        ),
    )
    with op.batch_alter_table("notificationpreference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notificationpreference_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "digestitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link_path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_digestitem_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digestitem")),
    )
    with op.batch_alter_table("digestitem", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digestitem_user_id_sent_at", ["user_id", "sent_at"], unique=False
        )
    op.create_table(
        "notificationmark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notificationmark")),
        sa.UniqueConstraint("key", name=op.f("uq_notificationmark_key")),
    )


def downgrade() -> None:
    op.drop_table("notificationmark")
    with op.batch_alter_table("digestitem", schema=None) as batch_op:
        batch_op.drop_index("ix_digestitem_user_id_sent_at")
    op.drop_table("digestitem")
    with op.batch_alter_table("notificationpreference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notificationpreference_user_id"))
    op.drop_table("notificationpreference")
