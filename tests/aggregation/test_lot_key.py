"""A pooled line's (tender_id, lot_id) always names a lot of that tender, on both databases:
SQLite through the foreign key, PostgreSQL through the statement-level triggers of
migration 0002_pooling. Wrong keys are refused, a referenced lot cannot go, and a lot
deleted while another transaction points lines at it leaves exactly one of the two
standing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lap_market.aggregation import service
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.clock import clock
from tests.factories import accounts as f
from tests.factories.demand import demand


def _two_drafts(session: Session) -> dict[str, Any]:
    """Draft A: two storage lots (2027, 2029); draft B: one conservation lot."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    camden = f.manager(session)
    officer = f.officer(session)
    lines = [
        demand(session, camden, start_date=date(2027, 1, 1), end_date=date(2027, 12, 31)),
        demand(session, camden, start_date=date(2027, 6, 1), end_date=date(2027, 12, 31)),
        demand(session, camden, start_date=date(2029, 1, 1), end_date=date(2029, 12, 31)),
        demand(session, camden, category="conservation", unit="hour", quantity=10),
    ]
    a = service.pool_demand(session, officer, filters=AggregateRequest(category="storage"))
    b = service.pool_demand(session, officer, filters=AggregateRequest(category="conservation"))
    session.commit()
    return {
        "lines": [line.id for line in lines],
        "a": a.tender.id,
        "a_lots": [lot.id for lot in a.lots],
        "b": b.tender.id,
        "b_lots": [lot.id for lot in b.lots],
    }


def _point(session: Session, line_id: int, tender_id: int | None, lot_id: int | None) -> None:
    session.execute(
        sa.text("UPDATE demand SET tender_id = :t, lot_id = :l WHERE id = :d"),
        {"t": tender_id, "l": lot_id, "d": line_id},
    )


def test_a_line_only_points_at_a_lot_of_its_tender(session: Session) -> None:
    s = _two_drafts(session)
    first = s["lines"][0]
    bad_keys = [
        (s["a"], s["b_lots"][0]),  # a lot of another tender
        (s["a"], 999_999),  # no such lot
        (s["b"], s["a_lots"][0]),
    ]
    for tender_id, lot_id in bad_keys:
        with pytest.raises(IntegrityError):
            _point(session, first, tender_id, lot_id)
            session.flush()
        session.rollback()
    # A line inserted with a wrong key is refused too.
    with pytest.raises(IntegrityError):
        session.execute(
            sa.text(
                "INSERT INTO demand (borough_id, created_by_id, category_id, unit_id, quantity,"
                " start_date, end_date, specification, status, tender_id, lot_id, created_at,"
                " updated_at) SELECT borough_id, created_by_id, category_id, unit_id, quantity,"
                " start_date, end_date, specification, status, :t, :l, created_at, updated_at"
                " FROM demand WHERE id = :d"
            ),
            {"t": s["a"], "l": s["b_lots"][0], "d": first},
        )
    session.rollback()
    # The right key passes: the line moves to the draft's other lot.
    _point(session, first, s["a"], s["a_lots"][1])
    session.commit()
    moved = session.execute(sa.text("SELECT lot_id FROM demand WHERE id = :d"), {"d": first})
    assert moved.scalar_one() == s["a_lots"][1]


def test_a_lot_demand_refers_to_cannot_go_or_change_key(session: Session) -> None:
    s = _two_drafts(session)
    lot = s["b_lots"][0]
    with pytest.raises(IntegrityError):
        session.execute(sa.text("DELETE FROM lot WHERE id = :l"), {"l": lot})
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(
            sa.text("UPDATE lot SET tender_id = :t WHERE id = :l"), {"t": s["a"], "l": lot}
        )
    session.rollback()
    # Renumbering (not the key) is fine; once released, the lot can go.
    session.execute(sa.text("UPDATE lot SET number = 7 WHERE id = :l"), {"l": lot})
    _point(session, s["lines"][3], None, None)
    session.execute(sa.text("DELETE FROM lot WHERE id = :l"), {"l": lot})
    session.commit()
    remaining = session.execute(sa.text("SELECT count(*) FROM lot WHERE id = :l"), {"l": lot})
    assert remaining.scalar_one() == 0


def _race(app: Any, first: Any, second: Any) -> list[str]:
    """Run ``first`` in one transaction and, while it is open, ``second`` in another; the
    outcome of each ("ok" or "refused"), in that order."""
    outcomes: dict[str, str] = {}
    started = threading.Event()

    def run_second() -> None:
        with Session(app.state.engine) as other:
            started.set()
            try:
                second(other)
                other.commit()
                outcomes["second"] = "ok"
            except IntegrityError:
                other.rollback()
                outcomes["second"] = "refused"

    with Session(app.state.engine) as own:
        first(own)
        thread = threading.Thread(target=run_second)
        thread.start()
        started.wait(10)
        thread.join(timeout=1)  # the second waits for our lock on the lot
        assert thread.is_alive(), "the second transaction should wait for the first"
        own.commit()
        outcomes["first"] = "ok"
    thread.join(timeout=30)
    return [outcomes["first"], outcomes["second"]]


@pytest.mark.postgres_only
def test_deleting_a_lot_while_lines_are_pointed_at_it_leaves_one_winner(app, session) -> None:
    s = _two_drafts(session)
    lot, line = s["b_lots"][0], s["lines"][0]
    conservation = s["lines"][3]

    def delete_lot(own: Session) -> None:
        _point(own, conservation, None, None)
        own.execute(sa.text("DELETE FROM lot WHERE id = :l"), {"l": lot})

    def point_line(other: Session) -> None:
        _point(other, line, s["b"], lot)

    # The delete first: the line waits for it, then finds the lot gone.
    assert _race(app, delete_lot, point_line) == ["ok", "refused"]


@pytest.mark.postgres_only
def test_pointing_lines_at_a_lot_while_it_is_deleted_leaves_one_winner(app, session) -> None:
    s = _two_drafts(session)
    lot, line = s["b_lots"][0], s["lines"][0]
    conservation = s["lines"][3]

    def point_line(own: Session) -> None:
        _point(own, line, s["b"], lot)

    def delete_lot(other: Session) -> None:
        _point(other, conservation, None, None)
        other.execute(sa.text("DELETE FROM lot WHERE id = :l"), {"l": lot})

    # The line first: the delete waits for it, then finds the lot still referenced.
    assert _race(app, point_line, delete_lot) == ["ok", "refused"]
    session.expire_all()
    row = session.execute(sa.text("SELECT lot_id FROM demand WHERE id = :d"), {"d": line})
    assert row.scalar_one() == lot


def test_sqlite_pools_lines_by_looking_each_up_by_id(session: Session) -> None:
    """Walking the status index for every pooled pair instead would be quadratic (33,000
    lines: minutes, not milliseconds)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the statement is SQLite's own")
    plan = session.execute(
        sa.text(f"EXPLAIN QUERY PLAN {service._TAKE_SQLITE.text}"),
        {
            "status": "in_tender",
            "tender_id": 1,
            "updated_at": None,
            "pairs": "[]",
            "submitted": "x",
        },
    ).all()
    steps = [row[-1] for row in plan]
    assert steps[0].startswith("SCAN json_each"), steps
    assert "SEARCH demand USING INTEGER PRIMARY KEY" in steps[1], steps
