"""Migration 0002_sealed on a database that already holds bids, awards and direct contracts:
down and up again keeps every row, gives each bid a random public id and recovers each
direct contract's number from its reference."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from lap_market.clock import clock
from lap_market.contracts.models import Contract
from lap_market.db import downgrade_migrations, run_migrations
from lap_market.tenders.models import Award, Bid
from tests.contracts.test_scale import _direct_row, _storage
from tests.factories import accounts as acc
from tests.factories import tenders as tf

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def test_sealed_migration_keeps_and_fills_existing_rows(db_url, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    engine = app.state.engine
    with Session(engine) as session:
        officer, camden = acc.officer(session), acc.manager(session, "E09000007")
        providers = [acc.provider(session) for _ in range(3)]
        tender = tf.published_tender(session, officer)
        lot = tf.lots_of(session, tender)[0]
        bids = [tf.bid(session, p, lot, quality_score="70") for p in providers]
        tf.award(session, officer, bids[0])
        kind = _storage(session)
        session.execute(sa.insert(Contract), [
            _direct_row(kind, camden.organisation_id, providers[0].organisation_id, officer, n)
            for n in (7, 10000)
        ])
        session.commit()
    engine.dispose()

    downgrade_migrations(db_url, "0002_sealed-1")
    run_migrations(db_url)
    engine.dispose()

    with Session(engine) as session:
        public_ids = session.exec(select(Bid.public_id)).all()
        assert len(public_ids) == 3 and len(set(public_ids)) == 3
        assert all(len(p) >= 16 and not p.isdigit() for p in public_ids)
        assert len(session.exec(select(Award)).all()) == 1
        numbers = session.exec(
            select(Contract.reference, Contract.reference_number).order_by(Contract.id)
        ).all()
        assert numbers == [("LAP-DC-2026-0007", 7), ("LAP-DC-2026-10000", 10000)]
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
