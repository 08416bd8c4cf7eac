"""The test harness itself: both databases, PostgreSQL's version, the browser."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text


def test_database_is_migrated(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert "alembic_version" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_gets_its_own_database(db_url: str, attempt: int) -> None:
    """What one test writes, the next never sees: both attempts create the same table."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            assert "harness_probe" not in inspect(connection).get_table_names()
            connection.execute(text("CREATE TABLE harness_probe (id INTEGER PRIMARY KEY)"))
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_postgresql_is_version_15(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version_num")).scalar_one()
    finally:
        engine.dispose()
    assert int(version) // 10000 == 15


@pytest.mark.browser
def test_browser_reaches_live_server(live_server, page) -> None:
    page.goto(live_server.url + "/healthz")
    assert "ok" in page.content()
