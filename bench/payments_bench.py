"""Benchmark: 33 boroughs × 12 monthly invoices, then the payments report over HTTP.

Goal: the payments report answers in under 200 ms (median of 20 requests, each grouping),
on SQLite and PostgreSQL.

    .venv/bin/python bench/payments_bench.py [--no-postgres]

The invoices go through the real services: each borough's call-off (1,200 hours of
conservation at £10.00) is invoiced £1,000.00 a month from April 2027 to March 2028; each
month's invoices are paid 20 to 44 days after receipt, and the last month's are left unpaid.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402
from tests.contracts.helpers import auth  # noqa: E402
from tests.factories import accounts  # noqa: E402
from tests.factories import contracts as cf  # noqa: E402

from lap_market.clock import clock  # noqa: E402
from lap_market.config import Settings  # noqa: E402
from lap_market.contract_management import invoices  # noqa: E402
from lap_market.contract_management.schemas import InvoiceCreate, PaymentCreate  # noqa: E402
from lap_market.contracts.acceptance import accept_contract  # noqa: E402
from lap_market.db import run_migrations  # noqa: E402
from lap_market.main import create_app  # noqa: E402
from lap_market.reference import LONDON_AUTHORITIES  # noqa: E402
from lap_market.registry import import_all_models  # noqa: E402

GOAL_MS = 200.0
MONTHS = [date(2027, 4 + m, 1) if m < 9 else date(2028, m - 8, 1) for m in range(12)]


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def load(session: Session) -> tuple[int, float]:
    """Issue and accept 33 call-offs, then invoice and pay them; (invoices, seconds)."""
    awarded = cf.awarded_lot(session, demands=[(gss, "1200") for gss, _ in LONDON_AUTHORITIES],
                             unit_price="10.00", category="conservation", unit="hour")
    contracts = cf.issued_call_offs(session, awarded)
    buyers = {c.buyer_id: accounts.manager(session, gss) for c, (gss, _) in
              zip(sorted(contracts, key=lambda c: c.reference), LONDON_AUTHORITIES, strict=True)}
    for contract in contracts:
        accept_contract(session, buyers[contract.buyer_id], contract.id)  # type: ignore[arg-type]
        accept_contract(session, awarded.provider, contract.id)  # type: ignore[arg-type]
    session.commit()
    started = time.perf_counter()
    count, unpaid = 0, []
    for month in MONTHS:
        end = _month_end(month)
        clock.set(datetime.combine(end + timedelta(days=3), datetime.min.time(), UTC))
        for contract in contracts:
            data = InvoiceCreate(
                number=f"{contract.reference}-{month:%Y%m}", issued_on=end + timedelta(days=1),
                period_start=month, period_end=end, amount=Decimal("1000.00"),
                vat=Decimal("200.00"))
            unpaid.append(invoices.submit_invoice(
                session, awarded.provider, contract.id, data))  # type: ignore[arg-type]
            count += 1
        session.commit()
        if month == MONTHS[-1]:
            break
        clock.advance(timedelta(days=44))
        for n, invoice in enumerate(unpaid):
            buyer = buyers[invoice.buyer_id]
            invoices.approve_invoice(session, buyer, invoice.id)  # type: ignore[arg-type]
            paid_on = invoice.received_on + timedelta(days=20 + n % 25)
            invoices.record_payment(session, buyer, invoice.id,  # type: ignore[arg-type]
                                    PaymentCreate(paid_on=paid_on))
        session.commit()
        unpaid = []
    return count, time.perf_counter() - started


def bench(url: str, label: str, data_dir: Path) -> float:
    run_migrations(url)
    settings = Settings(database_url=url, secret_key="x" * 40, env="test", data_dir=data_dir)
    app = create_app(settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            count, seconds = load(session)
            officer = accounts.officer(session)
            session.commit()
        clock.set(datetime(2028, 4, 20, 9, 0, tzinfo=UTC))
        worst = 0.0
        with TestClient(app) as client:
            headers = auth(app, officer)
            for group_by in ("borough", "provider"):
                url_path = f"/api/v1/reports/payments?group_by={group_by}"
                assert client.get(url_path, headers=headers).status_code == 200
                timings = []
                for _ in range(20):
                    began = time.perf_counter()
                    response = client.get(url_path, headers=headers)
                    timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
                median = statistics.median(timings)
                worst = max(worst, median)
                rows = len(response.json()["rows"])
                print(f"{label:<11} {count} invoices loaded in {seconds:.1f} s | payments by "
                      f"{group_by:<8} ({rows} rows): median {median:5.1f} ms, max "
                      f"{max(timings):5.1f} ms (n=20)")
        return worst
    finally:
        app.state.engine.dispose()
        clock.reset()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    import_all_models()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench(f"sqlite:///{tmp}/bench.db", "SQLite", Path(tmp)))
        if not args.no_postgres:
            from bench.contracts_bench import postgres_database

            with postgres_database("lap_payments_bench") as url:
                results.append(bench(url, "PostgreSQL", Path(tmp)))
    ok = all(ms < GOAL_MS for ms in results)
    print(f"goal: payments report < {GOAL_MS:.0f} ms: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
