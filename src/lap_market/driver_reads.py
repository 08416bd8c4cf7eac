"""Running a hot read's statement on SQLite's own driver, past SQLAlchemy's execution.

A catalogue search runs one or two statements per request on the event loop (issue 11).
SQLAlchemy's result converts every column of every row as it is fetched (dates from text,
decimals from numbers) and builds a ``Row`` for each; on a page of twenty offers' sixteen
columns that was a tenth of a whole search request, measured with callgrind, although a
page whose items were written before reads none of those values (``catalogue.page_json``).
Here a statement is compiled once by SQLAlchemy, for SQLite; each run binds its values by
position, runs the SQL on the driver's cursor, and makes each row a named tuple of the
driver's values, converted (with the processors SQLAlchemy itself would use) only when a
column is read by name. Instructions per search request at 2,000 offers (``bench/``):
by name 4.49 million through SQLAlchemy, 3.96 million here; a word search 5.54 against 4.90.

It is for SQLite only: the driver answers in process, so the Python around a statement is
what a read costs. PostgreSQL's reads stay on SQLAlchemy (their statements also write some
values into the SQL for its plans, see ``catalogue.search._paged``). Statements whose
parameters expand or are written into the SQL are run by SQLAlchemy too, since their SQL
changes with their values. What SQLAlchemy does around a statement that others rely on is
kept: listeners of ``before_cursor_execute`` hear each statement, and the driver's errors are
raised as SQLAlchemy's ``DBAPIError``.
"""

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any]
_REQUIRED = object()  # a parameter with no value of its own: every run must give one


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for SQLite: its SQL, what to bind at each placeholder, and the
    type of its rows."""

    sql: str
    binds: tuple[tuple[str, Any, Processor | None], ...]  # key, default value, processor
    row: type[tuple[Any, ...]]  # the selected columns (``_row_type``)


_compiled: dict[tuple[Select[Any], type[Dialect]], DriverStatement | None] = {}
_lock = threading.Lock()


def read_rows(
    connection: Connection, statement: Select[Any], params: Mapping[str, Any]
) -> Sequence[Any]:
    """``statement``'s rows run with ``params``: on SQLite's driver when it can run there,
    else SQLAlchemy's rows. Either is read by name, as SQLAlchemy converts it; by position a
    driver's row holds the driver's own values (``_row_type``)."""
    compiled = _compiled_for(statement, connection.dialect)
    if compiled is None:
        return connection.execute(statement, params).all()
    raw = _run(connection, compiled.sql, _values(compiled, params))
    make = compiled.row._make  # type: ignore[attr-defined]  # a namedtuple's
    return [make(r) for r in raw]


def _values(compiled: DriverStatement, params: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for key, default, processor in compiled.binds:
        value = params.get(key, default)
        if value is _REQUIRED:
            raise ValueError(f"a value is required for the parameter {key!r}")
        values.append(value if processor is None or value is None else processor(value))
    return tuple(values)


def _run(connection: Connection, sql: str, values: tuple[Any, ...]) -> list[Any]:
    cursor = connection.connection.cursor()
    try:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, values, exc, connection.dialect.loaded_dbapi.Error
        ) from exc
    finally:
        cursor.close()


def _compiled_for(statement: Select[Any], dialect: Dialect) -> DriverStatement | None:
    """``statement`` compiled for the driver behind ``dialect``; None when it cannot run there.
    (A statement is hashed and compared by identity: the search's are built once.)"""
    key = (statement, type(dialect))
    if key in _compiled:
        return _compiled[key]
    try:
        compiled: DriverStatement | None = compile_for_driver(statement, dialect)
    except ValueError:
        compiled = None
    with _lock:
        _compiled[key] = compiled
    return compiled


def compile_for_driver(statement: Select[Any], dialect: Dialect) -> DriverStatement:
    """``statement`` compiled for SQLite's driver (ValueError if its SQL would change with
    its values)."""
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        raise ValueError("only SQLite's driver, with ? placeholders, runs compiled SQL here")
    compiled = statement.compile(dialect=dialect)
    written = compiled.literal_execute_params | compiled.post_compile_params
    if any(b.expanding or b.required for b in written):
        raise ValueError("a statement with expanding or written-in parameters varies its SQL")
    # What is left to write in are the statement's own constants (a separator, say).
    sql = compiled.string
    for bind in written:
        literal = compiled.render_literal_value(bind.effective_value, bind.type)
        sql = sql.replace(f"__[POSTCOMPILE_{compiled.bind_names[bind]}]", literal)
    written_names = {compiled.bind_names[bind] for bind in written}
    binds = []
    for name in compiled.positiontup or ():
        if name in written_names:
            continue
        bind = compiled.binds[name]
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        default = _REQUIRED if bind.required else bind.effective_value
        binds.append((bind.key, default, processor))
    selected = statement.selected_columns
    converters = {
        position: convert
        for position, column in enumerate(selected)
        if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
    }
    return DriverStatement(sql, tuple(binds), _row_type(list(selected.keys()), converters))


def _row_type(names: list[str], converters: Mapping[int, Processor]) -> type[tuple[Any, ...]]:
    """A named tuple of the driver's values, whose columns that SQLAlchemy converts (dates,
    decimals, booleans) are converted when read by name, with SQLAlchemy's own processors.
    By position a row holds what the driver returned: plain values that hash and compare
    quickly (``catalogue.page_json`` keeps written items by them), where converting every
    column of every row cost as much as reading it."""
    plain: type[tuple[Any, ...]] = namedtuple("Row", names)  # type: ignore[misc]
    converted = {
        names[position]: property(partial(_convert, position, processor))
        for position, processor in converters.items()
    }
    return type("Row", (plain,), {"__slots__": (), **converted})


def _convert(position: int, processor: Processor, row: tuple[Any, ...]) -> Any:
    value = row[position]
    return None if value is None else processor(value)
