"""Which routes do their database work on the event loop (``db.runs_on_loop``, issue 11).

A route declared ``async`` runs its statements on the loop, where a wait for a lock would
hold up every request: so an ``async`` route with a session either only reads, or awaits
its input and hands its work to a worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from lap_market.db import dispose, get_session, on_loop, runs_on_loop
from tests.catalogue.test_web import _csrf, _login
from tests.conftest import in_own_loop
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.statements import on_statements

READING = {"GET", "HEAD"}
# What an async writing route calls to hand its work to a worker thread (``db``, ``web``).
HAND_OFFS = ("in_worker_thread(", "perform(", "form_action(", "prefixed_action(", ".act(",
             "_contract_action(", "_step(")  # fmt: skip


def _uses_session(route: APIRoute) -> bool:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is get_session:
            return True
        pending.extend(dependant.dependencies)
    return False


def _async_routes(app: FastAPI) -> dict[str, tuple[set[str], Callable[..., Any]]]:
    """Path, methods and endpoint of every route (included routers' too) that is ``async``
    and has a session."""
    found = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and runs_on_loop(route.endpoint) and _uses_session(route):
            found[str(context.path)] = (set(context.methods or ()), route.endpoint)
    return found


def test_async_routes_read_or_hand_their_work_to_a_thread(app: FastAPI) -> None:
    routes = _async_routes(app)
    reading = {path for path, (methods, _) in routes.items() if methods <= READING}
    # The hot reads run on the loop (an empty list would pass the check below for nothing).
    assert {"/api/v1/me", "/api/v1/offers", "/api/v1/offers/{offer_id}"} <= reading
    inline = [
        path
        for path, (methods, endpoint) in routes.items()
        if not methods <= READING and not any(h in inspect.getsource(endpoint) for h in HAND_OFFS)
    ]
    assert inline == [], f"async writing routes must hand their work to a thread: {inline}"


@contextmanager
def statement_threads(app: FastAPI) -> Iterator[list[str]]:
    """The name of the thread each statement of the app runs in (either engine)."""
    names: list[str] = []

    def record(*_args: object) -> None:
        names.append(threading.current_thread().name)

    with on_statements(app, record):
        yield names


def test_a_search_runs_on_the_loop_and_a_write_route_in_a_worker_thread(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    make_offer(session, f.contractor(session), title="Racking")
    manager = f.manager(session)
    session.commit()
    headers = f.token_headers(client, manager.email)
    loop_thread = client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]

    with statement_threads(app) as search:
        response = client.get("/api/v1/offers", headers=headers)
    assert response.status_code == 200 and response.json()["total"] == 1
    assert search and set(search) == {loop_thread}

    with statement_threads(app) as listing:
        assert client.get("/api/v1/demands", headers=headers).status_code == 200
    # The token check reads on the loop; the route's own statements run in a worker thread.
    assert listing[0] == loop_thread
    assert set(listing[1:]) and loop_thread not in listing[1:]

    csv = b"category,unit,quantity,start_date,end_date\nstorage,box_year,10,2027-04-01,2028-03-31\n"
    with statement_threads(app) as imported:
        response = client.post("/api/v1/demands/import", content=csv,
                               headers={**headers, "Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code in (200, 201, 422), response.text
    assert imported[0] == loop_thread and loop_thread not in imported[1:]


def test_a_web_form_post_runs_in_a_worker_thread(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    manager = f.manager(session)
    session.commit()
    _login(client, manager.email)
    loop_thread = client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    token = _csrf(client.get("/needs").text)
    with statement_threads(app) as posted:
        response = client.post("/needs", data={"csrf_token": token, "quantity": "ten"})
    assert response.status_code == 422
    assert posted and loop_thread not in posted


@pytest.mark.postgres_only
def test_reads_on_the_loop_hand_it_over_while_postgresql_answers(app: FastAPI) -> None:
    """Three reads that each wait 0.2 s for the server, run at once on one event loop, end
    together: each wait lets the others (and any other request) go on (``db.on_loop``).
    Over blocking connections they took 0.6 s, the loop held all the while."""
    reading = app.state.reading_engine
    assert reading.dialect.is_async

    async def read() -> int:
        session = Session(reading)
        try:
            return await on_loop(session, lambda: int(
                session.execute(text("SELECT 1 FROM pg_sleep(0.2)")).scalar_one()
            ))  # fmt: skip
        finally:
            await on_loop(session, session.close)

    async def three_at_once() -> tuple[list[int], float, int]:
        ticks = 0

        async def tick() -> None:  # another request's work, wanting the loop meanwhile
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        try:
            found = await asyncio.gather(read(), read(), read())
        finally:
            ticker.cancel()
            await dispose(reading)
        return list(found), time.monotonic() - started, ticks

    found, took, ticks = in_own_loop(three_at_once)
    assert found == [1, 1, 1]
    assert took < 0.45, f"the reads took {took:.2f} s: they waited in turn"
    assert ticks >= 10  # the loop ran other work during the waits
