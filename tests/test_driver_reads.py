"""Reads run on SQLite's driver (``driver_reads``) say what SQLAlchemy's would, and keep what
SQLAlchemy does around a statement: listeners hear it, and its errors are SQLAlchemy's."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import OperationalError

from lap_market.db import make_engine
from lap_market.driver_reads import compile_for_driver, read_rows

metadata = MetaData()
shelf = Table(
    "shelf",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
    Column("opened", Date),
    Column("width", Numeric(10, 2)),
    Column("open", Boolean),
)
by_opening = (
    select(shelf.c.id, shelf.c.name, shelf.c.opened, shelf.c.width, shelf.c.open,
           func.aggregate_strings(shelf.c.name, ",").over().label("names"))
    .where(shelf.c.opened <= bindparam("until", type_=Date), shelf.c.open.is_(True))
    .order_by(shelf.c.opened, shelf.c.id)
)  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'shelves.db'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(shelf), [
            {"name": "North", "opened": date(2026, 1, 5), "width": Decimal("12.5"), "open": True},
            {"name": "South", "opened": date(2026, 3, 1), "width": None, "open": True},
            {"name": "East", "opened": date(2025, 12, 24), "width": Decimal("3"), "open": True},
            {"name": "Shut", "opened": date(2025, 1, 1), "width": Decimal("1"), "open": False},
            {"name": "Late", "opened": date(2026, 9, 9), "width": Decimal("2.25"), "open": True},
        ])  # fmt: skip
    yield engine
    engine.dispose()


def test_rows_read_by_name_are_sqlalchemys(engine: Any) -> None:
    with engine.connect() as connection:
        expected = connection.execute(by_opening, {"until": date(2026, 6, 30)}).all()
        rows = read_rows(connection, by_opening, {"until": date(2026, 6, 30)})
    assert [r.name for r in rows] == ["East", "North", "South"]
    for row, want in zip(rows, expected, strict=True):
        assert type(row) is not type(want)  # the driver's row, not SQLAlchemy's
        for name in ("id", "name", "opened", "width", "open", "names"):
            assert getattr(row, name) == getattr(want, name), name
            assert type(getattr(row, name)) is type(getattr(want, name)), name
    assert rows[1].width == Decimal("12.50") and str(rows[1].width) == "12.50"
    assert rows[0].opened == date(2025, 12, 24) and rows[2].width is None
    # By position a row holds the driver's values: the date as SQLite stores it.
    assert rows[0][2] == "2025-12-24" and rows[0][4] == 1


def test_a_statement_whose_sql_varies_runs_through_sqlalchemy(engine: Any) -> None:
    named = select(shelf.c.name).where(shelf.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="varies its SQL"):
        compile_for_driver(named, engine.dialect)
    with engine.connect() as connection:
        rows = read_rows(connection, named.order_by(shelf.c.id), {"ids": [1, 3]})
    assert [r.name for r in rows] == ["North", "East"]


def test_listeners_hear_each_statement_and_errors_are_sqlalchemys(engine: Any) -> None:
    heard: list[tuple[str, Any]] = []

    def listen(_conn, _cursor, statement, parameters, *_rest):  # type: ignore[no-untyped-def]
        heard.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    with engine.connect() as connection:
        read_rows(connection, by_opening, {"until": date(2026, 1, 31)})
        assert len(heard) == 1 and heard[0][0].startswith("SELECT shelf.id")
        assert "2026-01-31" in heard[0][1]
        with pytest.raises(ValueError, match="'until'"):
            read_rows(connection, by_opening, {})
        connection.exec_driver_sql("DROP TABLE shelf")
        with pytest.raises(OperationalError, match="no such table"):
            read_rows(connection, by_opening, {"until": date(2026, 1, 31)})
