"""``LAP_PUBLIC_URL`` is the base of OCDS ``uri`` fields; a client's Host header never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.main import create_app
from tests.factories import accounts as people
from tests.factories import tenders as make
from tests.ocds.test_packages import LOTS
from tests.ocds.validation import assert_valid

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FORGED = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}


def test_forged_host_does_not_change_the_uri(db_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key="x" * 40, env="test",
                        public_url="https://market.lap.example/")
    app = create_app(settings)
    try:
        with Session(app.state.engine) as session:
            clock.set(START)
            tender = make.published_tender(session, people.officer(session), lots=LOTS[:1])
            session.commit()
            tender_id = tender.id
        clock.set(START + timedelta(days=1))
        with TestClient(app) as client:
            one = client.get(f"/api/v1/ocds/release-packages/{tender_id}", headers=FORGED)
            listing = client.get("/api/v1/ocds/release-packages?since=2026-11-01T00:00:00Z&x=<y>",
                                 headers=FORGED)
            plain = client.get(f"/api/v1/ocds/release-packages/{tender_id}")
        assert one.status_code == listing.status_code == 200
        assert one.json()["uri"] == f"https://market.lap.example/api/v1/ocds/release-packages/{tender_id}"
        assert plain.json()["uri"] == one.json()["uri"]
        assert listing.json()["uri"] == (
            "https://market.lap.example/api/v1/ocds/release-packages"
            "?since=2026-11-01T00%3A00%3A00Z")
        for response in (one, listing):
            assert "attacker" not in response.text and "testserver" not in response.text
            assert_valid(response.json())
    finally:
        app.state.engine.dispose()


def test_public_url_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = Settings(data_dir=tmp_path, secret_key="x" * 40)
    assert default.public_url == "http://127.0.0.1:8000"
    assert default.absolute_url("/contracts/7") == "http://127.0.0.1:8000/contracts/7"
    monkeypatch.setenv("LAP_PUBLIC_URL", " https://lap.example.org/market/ ")
    behind_a_path = Settings(data_dir=tmp_path, secret_key="x" * 40)
    assert behind_a_path.absolute_url("api/v1/x?y=1") == "https://lap.example.org/market/api/v1/x?y=1"
    for bad in ("lap.example.org", "ftp://lap.example.org", "https://", "https://x.org/?a=1"):
        monkeypatch.setenv("LAP_PUBLIC_URL", bad)
        with pytest.raises(ValidationError, match="LAP_PUBLIC_URL"):
            Settings(data_dir=tmp_path, secret_key="x" * 40)
