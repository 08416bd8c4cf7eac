"""``lap-market ocds validate``: what the public listing would publish, checked offline,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import Session, update

from lap_market import cli
from lap_market.clock import clock
from lap_market.config import Settings, get_settings
from lap_market.tenders.models import Tender
from tests.factories import accounts as people
from tests.factories import tenders as make
from tests.ocds.test_packages import LOTS

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Invoke ``lap-market ocds validate ARGS`` against this test's database."""
    monkeypatch.setenv("LAP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LAP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LAP_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        yield lambda *args: runner.invoke(cli.main, ["ocds", "validate", *args])
    finally:
        get_settings.cache_clear()


def test_validate_passes_then_names_each_invalid_release(session: Session, run) -> None:  # type: ignore[no-untyped-def]
    clock.set(START)
    officer = people.officer(session)
    older = make.published_tender(session, officer, lots=LOTS[:1], title="Older")
    make.draft_tender(session, officer, title="Drafts are never published")
    clock.set(START + timedelta(days=5))
    make.published_tender(session, officer, lots=LOTS[1:], title="Newer")
    session.commit()
    clock.set(START + timedelta(days=6))

    everything = run()
    assert everything.exit_code == 0, everything.output
    assert "OCDS 1.1.5: 2 release(s) valid." in everything.output
    # --since reads a bare date as the start of that day in London; the newer tender only.
    recent = run("--since", "2026-11-04")
    assert recent.exit_code == 0 and "1 release(s) valid" in recent.output
    assert "0 release(s) valid" in run("--since", "2027-01-01T00:00:00Z").output
    for bad in ("last tuesday", "0001-01-01T00:00:00+01:00"):
        refused = run("--since", bad)
        assert refused.exit_code == 2 and "--since" in refused.output

    # A damaged row (an empty reference) makes the tender's releases invalid: exit 1, and
    # every problem is named by release and path.
    session.exec(update(Tender).where(Tender.id == older.id).values(reference=""))  # type: ignore[call-overload, arg-type]
    session.commit()
    broken = run()
    assert broken.exit_code == 1
    assert "OCDS problem(s) in 2 release(s)" in broken.output
    assert "releases/0/tender/id (release ocds-lapmkt--tender): '' should be non-empty" in broken.output
    assert "releases/1/" not in broken.output  # the newer tender is fine
    assert run("--since", "2026-11-04").exit_code == 0  # the damaged one is before --since
