"""``lap-market issue-call-offs``: the progress bar, the batch record, refusals."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from lap_market import cli
from lap_market.config import get_settings
from lap_market.contracts.models import CallOffBatch, Contract
from tests.factories import contracts as cf


def test_cli_issues_a_lot_with_progress(session, settings, monkeypatch) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "10"), ("E09000012", "12"),
                                               ("E09000019", "14")])
    session.commit()
    monkeypatch.setenv("LAP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LAP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LAP_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        early = runner.invoke(cli.main, ["issue-call-offs", awarded.tender.reference, "1"])
        assert early.exit_code == 1
        assert "standstill" in early.output

        awarded.after_standstill()
        done = runner.invoke(cli.main, ["issue-call-offs", awarded.tender.reference, "1",
                                        "--officer", awarded.officer.email])
        assert done.exit_code == 0, done.output
        assert "1 of 3" in done.output and "3 of 3" in done.output
        assert f"Issued 3 call-off contracts for {awarded.tender.reference} lot 1" in done.output

        again = runner.invoke(cli.main, ["issue-call-offs", str(awarded.tender.id), "1"])
        assert again.exit_code == 0 and "Issued 0 call-off contracts" in again.output
        missing = runner.invoke(cli.main, ["issue-call-offs", awarded.tender.reference, "9"])
        assert missing.exit_code != 0 and "has no lot 9" in missing.output
    finally:
        get_settings.cache_clear()
    session.expire_all()
    assert len(session.exec(select(Contract)).all()) == 3
    batches = session.exec(select(CallOffBatch).order_by(CallOffBatch.id)).all()
    assert [(b.status, b.done, b.total) for b in batches][0] == ("done", 3, 3)
