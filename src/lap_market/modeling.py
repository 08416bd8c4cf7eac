"""Column helpers shared by every domain's tables."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Stored(Protocol):
    """Anything with an id: a table row (``None`` until flushed) or a read of one."""

    @property
    def id(self) -> int | None: ...


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


# The earlier name of ``pk``, still read by contracts, contract management and catalogue;
# their branches move to ``pk`` and then this goes.
row_id = pk


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (what a conditional update's winner checks).

    ``Session.execute`` types its answer as a plain ``Result``; for those statements it is a
    ``CursorResult``, which carries the count."""
    return cast(sa.CursorResult[Any], result).rowcount


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's ``Table``, for Core statements (SQLModel sets ``__table__`` on the class
    without declaring it to type checkers)."""
    return model.metadata.tables[str(model.__tablename__)]
