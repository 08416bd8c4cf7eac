"""PostgreSQL: a pooled line's (tender_id, lot_id) key checked once per statement

Pooling 33,000 demand lines into 20 lots made PostgreSQL run the foreign key's check once
per line, 33,000 look-ups of the same 20 lots (about half of the pooling UPDATE). Here the
key is checked by statement-level triggers instead: each statement that writes demand checks
the distinct keys it wrote, once, and takes the same KEY SHARE lock on those lots that the
foreign key took, so a lot being deleted at the same moment still cannot be referenced; a
statement that deletes a lot, or changes its key, is refused while demand refers to it.
SQLite keeps the foreign key: there the check is a cheap index probe inside the engine.

Revision ID: 0002_pooling
Revises: 0002_notify
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0002_pooling"
down_revision: str | None = "0002_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "fk_demand_tender_id_lot_id_lot"

DEMAND_CHECK = """
CREATE FUNCTION demand_lot_key_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tender_ids integer[];
    lot_ids integer[];
    present integer;
BEGIN
    SELECT array_agg(tender_id), array_agg(lot_id) INTO tender_ids, lot_ids
    FROM (SELECT DISTINCT tender_id, lot_id FROM written WHERE lot_id IS NOT NULL) AS k;
    IF lot_ids IS NULL THEN
        RETURN NULL;
    END IF;
    -- KEY SHARE, as the foreign key's own check: a concurrent delete of the lot waits.
    SELECT count(*) INTO present FROM (
        SELECT 1 FROM lot
        WHERE (lot.tender_id, lot.id) IN (SELECT * FROM unnest(tender_ids, lot_ids))
        FOR KEY SHARE OF lot
    ) AS locked;
    IF present < cardinality(lot_ids) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'demand refers to a lot that is not in its tender',
            CONSTRAINT = 'fk_demand_tender_id_lot_id_lot',
            TABLE = 'demand';
    END IF;
    RETURN NULL;
END $$
"""

LOT_CHECK = """
CREATE FUNCTION lot_key_still_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM demand JOIN removed
            ON demand.tender_id = removed.tender_id AND demand.lot_id = removed.id
        LIMIT 1;
    ELSE
        PERFORM 1 FROM demand JOIN removed
            ON demand.tender_id = removed.tender_id AND demand.lot_id = removed.id
        WHERE NOT EXISTS (
            SELECT 1 FROM kept WHERE kept.tender_id = removed.tender_id AND kept.id = removed.id
        )
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'a lot that demand still refers to cannot be deleted or re-keyed',
            CONSTRAINT = 'fk_demand_tender_id_lot_id_lot',
            TABLE = 'lot';
    END IF;
    RETURN NULL;
END $$
"""

# (name, table, event and transition tables, function); a trigger with transition tables
# serves one event only.
TRIGGERS = [
    (
        "demand_lot_key_on_insert",
        "demand",
        "INSERT",
        "NEW TABLE AS written",
        "demand_lot_key_check",
    ),
    (
        "demand_lot_key_on_update",
        "demand",
        "UPDATE",
        "NEW TABLE AS written",
        "demand_lot_key_check",
    ),
    ("lot_key_on_delete", "lot", "DELETE", "OLD TABLE AS removed", "lot_key_still_referenced"),
    (
        "lot_key_on_update",
        "lot",
        "UPDATE",
        "OLD TABLE AS removed NEW TABLE AS kept",
        "lot_key_still_referenced",
    ),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(CONSTRAINT, "demand", type_="foreignkey")
    op.execute(DEMAND_CHECK)
    op.execute(LOT_CHECK)
    for name, table, event, transitions, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, *_rest in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION demand_lot_key_check()")
    op.execute("DROP FUNCTION lot_key_still_referenced()")
    op.create_foreign_key(
        CONSTRAINT, "demand", "lot", ["tender_id", "lot_id"], ["tender_id", "id"], match="FULL"
    )
