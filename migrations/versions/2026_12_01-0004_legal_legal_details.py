"""legal: organisations' legal details, users' job titles, contracts' purchase-order numbers

Revision ID: 0004_legal
Revises: 0004_poolidx (re-chained after merging main)
Create Date: 2026-12-01 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from lap_market.reference import LMA_LEGAL_NAME, LMA_NAME, LONDON_AUTHORITIES, legal_name

revision: str = "0004_legal"
down_revision: str | None = "0004_poolidx"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANISATION_COLUMNS = [
    ("legal_name", 200), ("address", 500), ("vat_number", 20), ("company_number", 20),
    ("contact_name", 200), ("contact_email", 254), ("contact_phone", 40),
]


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        for name, length in ORGANISATION_COLUMNS:
            batch_op.add_column(sa.Column(name, _text(length), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_title", _text(200), nullable=True))
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("po_number", _text(40), nullable=True))
    _seed_legal_names()


def _seed_legal_names() -> None:
    """The councils' official names (and LMA's, the City of London Corporation's)."""
    organisation = sa.table(
        "organisation", sa.column("name", sa.String), sa.column("gss_code", sa.String),
        sa.column("legal_name", sa.String),
    )
    bind = op.get_bind()
    for gss, _short in LONDON_AUTHORITIES:
        bind.execute(
            organisation.update().where(organisation.c.gss_code == gss)
            .values(legal_name=legal_name(gss))
        )
    bind.execute(
        organisation.update().where(organisation.c.name == LMA_NAME)
        .values(legal_name=LMA_LEGAL_NAME)
    )


def downgrade() -> None:
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("po_number")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("job_title")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        for name, _length in reversed(ORGANISATION_COLUMNS):
            batch_op.drop_column(name)
