"""Settings, migrations up and down on both databases, health, and the CLI."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.config import Settings
from lap_market.db import downgrade_migrations, make_engine, run_migrations
from lap_market.main import create_app


def test_production_refuses_missing_or_short_secret(tmp_path):
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(env="production", data_dir=tmp_path, secret_key="")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(env="production", data_dir=tmp_path, secret_key="short-key")
    ok = Settings(env="production", data_dir=tmp_path, secret_key="k" * 32)
    assert ok.secret_key == "k" * 32
    assert not (tmp_path / "secret_key").exists()


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = Settings(data_dir=tmp_path)
    second = Settings(data_dir=tmp_path)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path.as_posix()}/lap_market.db"
    assert first.standstill_working_days == 8
    assert str(first.direct_award_limit) == "25000.00"


def test_settings_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LAP_STANDSTILL_WORKING_DAYS", "10")
    monkeypatch.setenv("LAP_DIRECT_AWARD_LIMIT", "30000.00")
    settings = Settings(data_dir=tmp_path)
    assert settings.standstill_working_days == 10
    assert str(settings.direct_award_limit) == "30000.00"


def test_migrations_go_up_down_and_up_again(db_url):
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"organisation", "user", "auditevent", "offer", "tender", "contract"} <= tables
        downgrade_migrations(db_url, "base")
        engine.dispose()
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        run_migrations(db_url)
        engine.dispose()
        with engine.connect() as connection:
            boroughs = connection.execute(
                text("SELECT count(*) FROM organisation WHERE kind = 'borough'")
            ).scalar_one()
            categories = connection.execute(text("SELECT count(*) FROM category")).scalar_one()
        assert boroughs == 33
        assert categories == 4
    finally:
        engine.dispose()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path):
    settings = Settings(
        data_dir=tmp_path, secret_key="x" * 40,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_openapi_lists_the_api(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/token" in schema["paths"]
    assert "/api/v1/me" in schema["paths"]


def test_cli_create_user_and_bad_input(db_url, tmp_path, monkeypatch):
    from lap_market import cli, config

    monkeypatch.setenv("LAP_DATABASE_URL", db_url)
    monkeypatch.setenv("LAP_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(cli.main, [
            "create-user", "--email", "clerk@westminster.example", "--name", "Clerk",
            "--role", "borough_manager", "--organisation", "E09000033",
            "--password", "a-long-password-1"])
        assert ok.exit_code == 0, ok.output
        assert "Westminster" in ok.output
        wrong_kind = runner.invoke(cli.main, [
            "create-user", "--email", "x@westminster.example", "--name", "X",
            "--role", "provider", "--organisation", "Westminster", "--password", "a-long-password-1"])
        assert wrong_kind.exit_code == 2
        assert "role" in wrong_kind.output
        short = runner.invoke(cli.main, [
            "create-user", "--email", "y@westminster.example", "--name", "Y",
            "--role", "borough_manager", "--organisation", "Westminster", "--password", "short"])
        assert short.exit_code == 2 and "password" in short.output
        unknown = runner.invoke(cli.main, [
            "create-user", "--email", "z@nowhere.example", "--name", "Z",
            "--role", "borough_manager", "--organisation", "Atlantis", "--password", "a-long-password-1"])
        assert unknown.exit_code == 2 and "organisation" in unknown.output
        with Session(make_engine(db_url)) as session:
            emails = [u.email for u in session.exec(select(User)).all()]
        assert emails == ["clerk@westminster.example"]
    finally:
        config.get_settings.cache_clear()


def test_templates_autoescape():
    from lap_market.templating import templates

    rendered = templates.env.from_string("{{ x }}").render(x="<b>")
    assert rendered == "&lt;b&gt;"
    assert Path(templates.env.loader.searchpath[0]).name == "templates"  # type: ignore[union-attr]
