"""Benchmark: contract dashboard totals and one page of the contract list over 10,000
bulk-inserted contracts on SQLite (the totals are SQL aggregates, so they stay exact and
quick however many contracts there are).

    .venv/bin/python bench/contract_totals_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session  # noqa: E402
from tests.contracts.test_scale import _rows, _storage  # noqa: E402
from tests.factories import accounts as acc  # noqa: E402

from lap_market.clock import clock  # noqa: E402
from lap_market.contracts import service  # noqa: E402
from lap_market.contracts.models import Contract  # noqa: E402
from lap_market.db import make_engine, run_migrations  # noqa: E402

CONTRACTS = 10_000


def main() -> None:
    """Insert the contracts, then time the summary and page 200 for a borough and an officer."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        run_migrations(url)
        engine = make_engine(url)
        clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
        with Session(engine) as session:
            officer, camden = acc.officer(session), acc.manager(session, "E09000007")
            supplier = acc.provider(session, acc.lma(session))
            rows = _rows(_storage(session), camden.organisation_id, supplier.organisation_id,
                         officer, CONTRACTS, start=0)
            session.execute(sa.insert(Contract), rows)
            session.commit()
            for who, user in (("borough", camden), ("officer", officer)):
                started = time.perf_counter()
                summary = service.summarise(session, user)
                summed = time.perf_counter() - started
                started = time.perf_counter()
                page, total = service.page_contracts(session, user, page=200, page_size=50)
                paged = time.perf_counter() - started
                assert summary.count == total == CONTRACTS and len(page) == 50
                print(f"{who}: totals {summed * 1000:.1f} ms (count {summary.count}, "
                      f"value £{summary.total_value}); page 200 of 200: {paged * 1000:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
