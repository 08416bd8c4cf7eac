"""Engine, per-request session, and migrations."""

import inspect
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.util import greenlet_spawn
from sqlmodel import Session, SQLModel, create_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Stable constraint names, so migrations can drop what they create on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def make_engine(
    url: str, *, pool_size: int | None = None, pool_timeout: float | None = None, **kwargs: Any
) -> Engine:
    """An engine tuned for the database behind ``url``.

    ``pool_size`` fixes the number of connections (no overflow) so that it matches the
    requests the app lets in at once; ``pool_timeout`` bounds the wait for one.
    """
    in_memory = url in ("sqlite://", "sqlite:///") or ":memory:" in url
    if pool_size is not None and "poolclass" not in kwargs and not in_memory:
        kwargs.update(pool_size=pool_size, max_overflow=0)
        if pool_timeout is not None:
            kwargs["pool_timeout"] = pool_timeout
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs and "pool_size" not in kwargs:
        kwargs.update(pool_size=10, max_overflow=10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; the busy timeout makes writers queue.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MB of page cache (the default is 2 MB), so large pools of demand stay in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


READING_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit on success, roll back on any error.

    Opening a session touches no database, so it happens on the event loop. A reading
    request (GET, HEAD) ends its transaction there too: ending a read never waits. Any
    other request commits (or rolls back) in a worker thread, where a slow commit holds up
    nobody else (see ``runs_on_loop``).

    A short read on the loop opens no transaction at all (``reading_engine``): its few
    statements need no common snapshot, and on PostgreSQL BEGIN and COMMIT were two of a
    search's five round trips to the server, waited for with the loop held."""
    state = request.app.state
    reading = request.method in READING_METHODS
    short_read = reading and runs_on_loop(request.scope.get("endpoint"))
    session = Session(
        state.reading_engine if short_read else state.engine, expire_on_commit=False
    )
    succeeded = False
    try:
        yield session
        succeeded = True
    finally:
        if reading:
            await on_loop(session, lambda: _finish(session, succeeded))
        else:
            with anyio.CancelScope(shield=True):  # the connection goes back to the pool even then
                await anyio.to_thread.run_sync(_finish, session, succeeded)


def reading_engine(engine: Engine, *, pool_size: int, pool_timeout: float) -> Engine:
    """The engine the short reads on the loop use: without transactions.

    On SQLite, ``engine`` itself: Python's driver opens a transaction only before a write, so
    a session that only reads holds none already (setting AUTOCOMMIT on each checkout cost a
    PRAGMA to set and another to reset, for nothing).

    On PostgreSQL, a pool of its own (``pool_size``: as many as the requests let in at once):
    - in autocommit;
    - whose sessions use generic plans for prepared statements: psycopg prepares a statement
      run five times on a connection, but PostgreSQL judged the searches' generic plans dear
      and planned them again on every request, which took longer than running them (0.5 ms
      of the 0.7 a 20,000-offer search took). The searches' plans are walks of an index to a
      page; the same plan serves every value;
    - over psycopg's asyncio connections, so that the loop serves other requests while one
      waits for the server (``on_loop``). With blocking connections every round trip held the
      loop: at 8 connections a search's p99 was 50-60 ms and it served 0.42-0.56 of
      ``/api/v1/me``'s rate (issue 11). The engine returned is the async engine's synchronous
      face, the one SQLAlchemy's own ``AsyncSession`` drives: ordinary sessions and
      statements, usable only inside ``on_loop``.
    """
    if engine.dialect.name != "postgresql":
        return engine
    reading = create_async_engine(
        engine.url, isolation_level="AUTOCOMMIT", pool_size=pool_size, max_overflow=0,
        pool_timeout=pool_timeout,
        connect_args={"options": "-c plan_cache_mode=force_generic_plan"},
    ).sync_engine  # fmt: skip
    event.listen(reading, "checkout", _ping_if_idle)
    event.listen(reading, "checkin", _note_checkin)
    return reading


async def on_loop(session: OrmSession, work: Callable[[], T]) -> T:
    """``work`` (reads with ``session``) run on the event loop.

    A session of the PostgreSQL reading engine runs it the way SQLAlchemy's ``AsyncSession``
    runs synchronous code (``greenlet_spawn``): each wait for the server hands the loop back
    to other requests, and ``work`` resumes when the answer is in. Anything else runs it
    directly: SQLite answers in process, without a wait to hand over, and a session of the
    app engine is only read on the loop by the token check, before a route's own work."""
    if engine_of(session).dialect.is_async:
        return await greenlet_spawn(work)
    return work()


async def dispose(engine: Engine) -> None:
    """Close ``engine``'s pooled connections (an asyncio engine's inside ``greenlet_spawn``,
    where its driver can wait for the server to hear them close)."""
    if engine.dialect.is_async:
        await greenlet_spawn(engine.dispose)
    else:
        engine.dispose()


# A connection back in the pool for less than this is not pinged before it is lent again.
IDLE_BEFORE_PING = 1.0  # seconds


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that has sat in the pool for a while before lending it, as
    ``pool_pre_ping`` would; one used moments ago is lent as it is (HikariCP's "alive bypass
    window"). Pinging at every checkout was one of a search's three round trips, waited for
    with the event loop held (issue 11). A ping that fails makes the pool try a fresh
    connection (SQLAlchemy's documented custom pessimistic check); a connection that died in
    the window fails its statement, the pool drops every connection made before, and the
    request gets 503 (``main._connection_lost``)."""
    returned = record.info.get("checked_in_at")
    if returned is not None and time.monotonic() - returned < IDLE_BEFORE_PING:
        return
    try:
        ping(dbapi_connection)
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the connection is gone
        raise DisconnectionError("the pooled connection no longer answers") from exc


def ping(dbapi_connection: Any) -> None:
    """One round trip on a driver connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def runs_on_loop(endpoint: Callable[..., Any] | None) -> bool:
    """Whether a route's own database work runs on the event loop: its endpoint is ``async``.

    That is for short reads (the token check, the catalogue search, ``/me``): statements
    bounded by an index and a page size. In one process only one thread runs Python at a
    time, so a worker thread adds nothing to them but hand-offs, each a wait for the
    interpreter lock, and SQLite lets go of it at every row: a search in a thread beside
    others switched threads some 60 times and cost twice the CPU it costs on the loop
    (issue 11; DEVELOPING.md, "Which work runs on the event loop"). Reads never wait for a lock
    (SQLite's WAL, PostgreSQL's MVCC), so they never hold the loop up.

    Anything else, writes above all (a lock wait on the loop would stop every request, and
    the request holding the lock needs the loop to commit), runs in a worker thread: a
    ``def`` route, or an ``async`` one (it awaits its form or upload) that hands its work to
    ``in_worker_thread``. ``tests/test_loop_routes.py`` holds every route to this."""
    return endpoint is not None and inspect.iscoroutinefunction(endpoint)


async def in_worker_thread(work: Callable[[], T]) -> T:
    """``work`` (a route's database work, after awaiting its input) in a worker thread."""
    return await anyio.to_thread.run_sync(work)


def _finish(session: Session, succeeded: bool) -> None:
    with session:  # closing returns the connection (rolling back what was not committed)
        if succeeded:
            session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def engine_of(session: OrmSession) -> Engine:
    """The engine a session works on (per-database caches are keyed by it)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at ``url``, independent of the working directory."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def run_migrations(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade_migrations(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    command.downgrade(alembic_config(url), revision)
