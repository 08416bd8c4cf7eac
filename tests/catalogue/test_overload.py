"""Overload is never a 500 (issue 11): more concurrent requests than database connections
either wait their turn or get 503 with Retry-After, against a live server on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.util import greenlet_spawn
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.main import create_app
from tests.catalogue.test_web import _login
from tests.conftest import _free_port
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.statements import app_engines

CLIENTS = 24
MANAGER = "manager@lap.example"
SEARCH = {"category": "storage", "unit": "linear_metre_year", "sort": "price", "quantity": "50"}
# A route whose work runs in a worker thread: what makes later arrivals wait. (A search
# runs its statements on the event loop and lets go of its place as soon as they are done:
# too soon to make anyone wait.)
THREADED = "/api/v1/demands"


def hold(client: TestClient, engine: Engine) -> Connection:
    """A connection of ``engine`` checked out on the app's loop, as ``db.on_loop`` does (an
    asyncio engine's driver waits there: ``db.reading_engine``)."""
    return client.portal.call(greenlet_spawn, engine.connect)  # type: ignore[union-attr]


def release(client: TestClient, connection: Connection) -> None:
    client.portal.call(greenlet_spawn, connection.close)  # type: ignore[union-attr]


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Uvicorn in a thread with one catalogue offer and a manager; yields the base URL."""
    app = create_app(settings)
    with Session(app.state.engine) as session:
        clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
        make_offer(session, f.contractor(session), title="Racking")
        f.manager(session).email = MANAGER
        session.commit()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.engine.dispose()


def burst(
    url: str, headers: dict[str, str], path: str = "/api/v1/offers"
) -> list[httpx.Response]:
    """CLIENTS threads, released together, each asking three times (the search, by default)."""
    start = threading.Barrier(CLIENTS)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            start.wait()
            for _ in range(3):
                params = SEARCH if path == "/api/v1/offers" else None
                response = http.get(path, params=params, headers=headers)
                with lock:
                    responses.append(response)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == CLIENTS * 3
    return responses


def token(url: str) -> dict[str, str]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return f.token_headers(http, MANAGER)


def test_more_requests_than_connections_wait_in_order(settings: Settings) -> None:
    patient = settings.model_copy(update={"db_pool_size": 2, "db_pool_timeout": 20.0})
    with serving(patient) as url:
        responses = burst(url, token(url))
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert all(r.json()["items"][0]["title"] == "Racking" for r in responses)


def test_past_the_bounded_wait_the_answer_is_503_with_retry_after(settings: Settings) -> None:
    hurried = settings.model_copy(update={"db_pool_size": 2, "db_pool_timeout": 0.01})
    with serving(hurried) as url:
        responses = burst(url, token(url), THREADED)
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses and 503 in statuses, statuses
    for busy in (r for r in responses if r.status_code == 503):
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["code"] == "busy"


def test_requests_at_once_bounds_what_is_let_in_whatever_the_pool(settings: Settings) -> None:
    """The gate is the smaller of LAP_REQUESTS_AT_ONCE and the pool: with connections to
    spare, one request at a time still queues the rest, and past the wait they get 503
    (with the pool as the gate, forty would all be let in)."""
    one_at_a_time = settings.model_copy(
        update={"requests_at_once": 1, "db_pool_size": 40, "db_pool_timeout": 0.005}
    )
    with serving(one_at_a_time) as url:
        responses = burst(url, token(url), THREADED)
    statuses = {r.status_code for r in responses}
    assert statuses == {200, 503}, statuses


def test_a_pool_timeout_is_a_503_not_a_500(settings: Settings) -> None:
    hurried = settings.model_copy(update={"db_pool_size": 2, "db_pool_timeout": 0.05})
    app = create_app(hurried)
    try:
        with Session(app.state.engine) as session:
            f.manager(session).email = MANAGER
            session.commit()
        with TestClient(app) as client:
            headers = f.token_headers(client, MANAGER)
            _login(client, MANAGER)
            # Something outside the request gate holds every connection of the pool.
            held = [hold(client, engine) for engine in app_engines(app) for _ in range(2)]
            try:
                api = client.get("/api/v1/offers", headers=headers)
                page = client.get("/catalogue")
            finally:
                for connection in held:
                    release(client, connection)
            assert api.status_code == 503 and api.headers["Retry-After"] == "1"
            assert api.json()["code"] == "busy"
            assert page.status_code == 503 and page.headers["Retry-After"] == "1"
            assert "busy" in page.text
            assert client.get("/api/v1/offers", headers=headers).status_code == 200
    finally:
        app.state.engine.dispose()
