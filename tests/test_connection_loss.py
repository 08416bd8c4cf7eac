"""A PostgreSQL connection that dies (the server restarted, an administrator ended it) costs
at most one request a 503 with Retry-After, never a 500; a connection that sat idle is pinged
before it is lent again (``db._ping_if_idle``), one used moments ago is not (issue 11: the
ping was one of a search's three round trips)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from lap_market import db
from tests.contracts.helpers import auth
from tests.factories import accounts as f

pytestmark = pytest.mark.postgres_only


def _end_every_other_connection(url: str) -> int:
    """What a restart does to the app's connections: each is ended by the server."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(ended[0]) if ended else 0


@pytest.fixture
def signed_in(app: FastAPI, client: TestClient) -> Iterator[dict[str, str]]:
    with Session(app.state.engine) as session:
        user = f.manager(session)
        session.commit()
        headers = auth(app, user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    yield headers


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The pings made, as they are made."""
    made: list[object] = []
    real_ping = db.ping

    def counted(connection: object) -> None:
        made.append(connection)
        real_ping(connection)

    monkeypatch.setattr(db, "ping", counted)
    return made


def test_a_connection_used_moments_ago_is_not_pinged(
    client: TestClient, signed_in: dict[str, str], pings: list[object]
) -> None:
    for _ in range(5):
        assert client.get("/api/v1/offers", headers=signed_in).status_code == 200
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    app: FastAPI, client: TestClient, signed_in: dict[str, str], pings: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # every connection has sat long enough
    assert _end_every_other_connection(app.state.settings.database_url) >= 1
    response = client.get("/api/v1/offers", headers=signed_in)
    assert response.status_code == 200
    assert pings  # the dead connection failed its ping and a fresh one served the request


def test_a_connection_that_died_in_the_window_costs_one_503_not_a_500(
    app: FastAPI, client: TestClient, signed_in: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 3600.0)  # no connection is pinged
    assert _end_every_other_connection(app.state.settings.database_url) >= 1
    lost = client.get("/api/v1/offers", headers=signed_in)
    assert lost.status_code == 503, lost.text
    assert lost.headers["Retry-After"] == "1"
    assert lost.json()["code"] == "busy"
    again = client.get("/api/v1/offers", headers=signed_in)
    assert again.status_code == 200  # the pool dropped every connection made before
