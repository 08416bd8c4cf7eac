"""Column helpers shared by every domain's tables."""

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Field, Relationship, Session, SQLModel, select

from lap_market.clock import clock
from lap_market.errors import Conflict


class Stored(Protocol):
    """Anything with an id: a table row (``None`` until flushed) or a read of one."""

    @property
    def id(self) -> int | None: ...


R = TypeVar("R", bound=SQLModel)


def pk(row: Stored) -> int:
    """A stored row's id. Rows have one once flushed; the type says ``int | None`` only
    because a new row has none yet, so this is where that is checked (not in 200 ignores)."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id until it is flushed")
    return row.id


def id_field() -> Any:
    """An integer primary key."""
    return Field(default=None, primary_key=True)


def fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key to ``target`` (``"table.id"``)."""
    return Field(
        default=None if nullable else ...,
        foreign_key=target,
        nullable=nullable,
        index=index,
    )


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that reads back aware UTC values on SQLite too (which
    stores no zone), so the API never emits a date-time without its offset."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def timestamp(*, nullable: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Field(
        default=None if nullable else ...,
        sa_type=UtcDateTime,
        nullable=nullable,
    )


def quantity(*, nullable: bool = False, default: Decimal | None = None) -> Any:
    """A quantity to two decimal places (exact, never a float)."""
    if default is not None:
        return Field(default=default, sa_type=sa.Numeric(14, 2, asdecimal=True), nullable=nullable)
    return Field(
        default=None if nullable else ...,
        sa_type=sa.Numeric(14, 2, asdecimal=True),
        nullable=nullable,
    )


def text(max_length: int, *, nullable: bool = False, default: str | None = None) -> Any:
    """A bounded text column."""
    if default is not None:
        return Field(default=default, max_length=max_length, nullable=nullable)
    return Field(default=None if nullable else ..., max_length=max_length, nullable=nullable)


def long_text(*, nullable: bool = False, default: str | None = None) -> Any:
    """Unbounded text (limits are enforced by the API schemas)."""
    return Field(
        default=default if default is not None else (None if nullable else ...),
        sa_type=sa.Text,
        nullable=nullable,
    )


def json_field() -> Any:
    """A JSON document (stored as JSON on both databases)."""
    return Field(default_factory=dict, sa_type=sa.JSON)


def pence(*, nullable: bool = False) -> Any:
    """An amount of money in integer pence (64-bit: lot and contract values can pass £21M)."""
    return Field(
        default=None if nullable else ...,
        sa_type=sa.BigInteger,
        nullable=nullable,
    )


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (what a conditional update's winner checks).

    ``Session.execute`` types its answer as a plain ``Result``; for those statements it is a
    ``CursorResult``, which carries the count."""
    return cast(sa.CursorResult[Any], result).rowcount


class _CyclePause:
    lock = threading.Lock()
    depth = 0  # requests inside ``cycle_collector_paused`` now
    resume = False  # whether the collector was on when the first of them began


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector off while tens of thousands of row tuples are built.

    Every 700 new tuples run a collection of the young ones and every few thousand a
    collection of everything the process holds (the whole app): pooling 33,000 lines spent
    a quarter of its time there, finding nothing, as rows hold no cycles. Once the last
    request inside has left, one pass over the young objects drops the tuples from the
    collector's lists. Process-wide: other threads' cycles wait until then, as they would
    for a collection.
    """
    with _CyclePause.lock:
        if _CyclePause.depth == 0:
            _CyclePause.resume = gc.isenabled()
            gc.disable()
        _CyclePause.depth += 1
    try:
        yield
    finally:
        with _CyclePause.lock:
            _CyclePause.depth -= 1
            if _CyclePause.depth == 0 and _CyclePause.resume:
                gc.enable()


class _Memo(dict[Any, Any]):
    """A conversion remembered per distinct value."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, raw: Any) -> Any:
        value = self[raw] = self.convert(raw)
        return value


def bulk_rows(connection: sa.Connection, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of a large Core select as plain tuples, typed as SQLAlchemy types them.

    SQLAlchemy makes a ``Row`` of each row and converts each value as it goes (on SQLite a
    date is parsed from its text, a quantity made a ``Decimal``): for 33,000 demand lines
    that was most of the read. Here the driver's tuples are fetched at once and only the
    columns the driver cannot type are converted, each distinct raw value once (a pool's
    lines share a few terms). PostgreSQL's driver types every column itself.
    """
    result = connection.execute(statement)
    dialect = connection.dialect
    converters = [
        column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        for column, described in zip(
            statement.selected_columns, result.cursor.description, strict=True
        )
    ]
    rows = cast(list[tuple[Any, ...]], result.cursor.fetchall())  # a list, by both drivers
    result.close()
    if not rows or not any(converters):
        return rows
    columns = list(zip(*rows, strict=True))
    for i, convert in enumerate(converters):
        if convert is not None:
            columns[i] = tuple(map(_Memo(convert).__getitem__, columns[i]))
    return list(zip(*columns, strict=True))


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's ``Table``, for Core statements (SQLModel sets ``__table__`` on the class
    without declaring it to type checkers)."""
    return model.metadata.tables[str(model.__tablename__)]


def conditional_update(session: Session, statement: Any) -> int:
    """Run an ``UPDATE … WHERE <expected state>`` and return how many rows it changed: the
    race rule, by which of two concurrent requests exactly one sees 1."""
    statement = statement.execution_options(synchronize_session=False)
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)


def insert_numbered(
    session: Session, model: type[R], build: Callable[[int, int], R], *, what: str
) -> R:
    """Insert ``build(year, sequence)``: the row with this year's next sequence of ``model``
    (a table with ``year`` and ``sequence`` columns, unique together). Another request taking
    the same number makes the insert fail on that key; it is retried with the next number,
    five times at most, then refused with Conflict naming ``what``."""
    table = table_of(model)
    year = clock.today().year
    for _attempt in range(5):
        latest = session.execute(
            sa.select(sa.func.max(table.c.sequence)).where(table.c.year == year)
        ).scalar_one()
        row = build(year, (latest or 0) + 1)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue
        return row
    raise Conflict(f"Could not allocate a {what} reference; please try again.")


def to_one(owner: str, column: str) -> Any:
    """A read-only many-to-one relationship of ``owner`` through its ``column`` (the ``*_id``
    columns are what services write; several may point at one table). Load it on purpose,
    with ``loaded_with``, where a list reads it."""
    return Relationship(
        sa_relationship_kwargs={"foreign_keys": f"[{owner}.{column}]", "viewonly": True}
    )


def loaded_with(
    session: Session, model: type[R], rows: Sequence[R], relations: Sequence[str]
) -> list[R]:
    """``rows`` again, in their order, each with ``relations`` loaded: one query for the rows
    and one per relation, however many rows there are."""
    ids = [pk(cast(Stored, row)) for row in rows]
    if not ids:
        return []
    mapper = sa.inspect(model)
    query = select(model).where(mapper.primary_key[0].in_(ids)).options(
        *(selectinload(mapper.attrs[name].class_attribute) for name in relations)
    )
    found = {pk(cast(Stored, row)): row for row in session.exec(query).all()}
    return [found[i] for i in ids]
