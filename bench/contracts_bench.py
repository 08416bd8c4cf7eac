"""Benchmark: one contract PDF (median of 20 renders) and issuing 33 call-offs for one lot,
on SQLite and PostgreSQL. Goals: ≤ 100 ms per PDF median, ≤ 3 s for 33 call-offs.

    .venv/bin/python bench/contracts_bench.py [--no-postgres]

PostgreSQL: ``LAP_BENCH_POSTGRES_URL`` (server URL, no database name), else a throwaway
cluster like the tests' (needs PostgreSQL 15 installed). Prints the figures; exits 1 if a
goal is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402
from tests.factories import contracts as cf  # noqa: E402

from lap_market.clock import clock  # noqa: E402
from lap_market.contracts import call_offs, documents, pdf  # noqa: E402
from lap_market.db import make_engine, run_migrations  # noqa: E402
from lap_market.reference import LONDON_AUTHORITIES  # noqa: E402
from lap_market.registry import import_all_models  # noqa: E402

PDF_GOAL_MS = 100.0
ISSUE_GOAL_S = 3.0


def bench_database(url: str, label: str) -> tuple[float, float]:
    """(median ms per PDF, seconds to issue 33 call-offs) on the database at ``url``."""
    run_migrations(url)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            awarded = cf.awarded_lot(
                session,
                demands=[(gss, str(50 + n)) for n, (gss, _name) in enumerate(LONDON_AUTHORITIES)],
            )
            session.commit()
            awarded.after_standstill()
            started = time.perf_counter()
            result = call_offs.issue_call_offs(
                session,
                awarded.officer,
                tender_id=awarded.tender.id,  # type: ignore[arg-type]
                lot_id=awarded.lot.id,  # type: ignore[arg-type]
            )
            session.commit()
            issue_seconds = time.perf_counter() - started
            assert len(result.issued) == 33
            context = documents.document_context(session, result.issued[0])
        pdf.render_contract_pdf(context)  # warm: fonts and stylesheet load once per process
        timings = []
        for _ in range(20):
            began = time.perf_counter()
            pdf.render_contract_pdf(context)
            timings.append((time.perf_counter() - began) * 1000)
        median = statistics.median(timings)
        print(
            f"{label:<11} PDF median {median:6.1f} ms (min {min(timings):.1f}, max "
            f"{max(timings):.1f}, n=20) | 33 call-offs issued in {issue_seconds:.2f} s"
        )
        return median, issue_seconds
    finally:
        engine.dispose()
        clock.reset()


def postgres_server() -> tuple[str, object | None]:
    existing = os.environ.get("LAP_BENCH_POSTGRES_URL")
    if existing:
        return existing, None
    from tests.conftest import _PostgresCluster

    cluster = _PostgresCluster()
    cluster.start()
    return cluster.url, cluster


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A fresh database on the bench's PostgreSQL server (a throwaway cluster unless
    ``LAP_BENCH_POSTGRES_URL`` names one), dropped with the cluster afterwards."""
    import psycopg

    base, cluster = postgres_server()
    try:
        admin_url = make_url(base).set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin_url.render_as_string(hide_password=False),
                             autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
        url = make_url(base).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        if cluster is not None:
            cluster.stop()  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    import_all_models()
    # A serving process warms its render workers at start-up (see main.create_app).
    pdf.warm_pool(wait=True)
    results: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_database(f"sqlite:///{tmp}/bench.db", "SQLite"))
    if not args.no_postgres:
        with postgres_database("lap_bench") as url:
            results.append(bench_database(url, "PostgreSQL"))
    ok = all(m <= PDF_GOAL_MS and s <= ISSUE_GOAL_S for m, s in results)
    print(
        f"goals: PDF median ≤ {PDF_GOAL_MS:.0f} ms, 33 call-offs ≤ {ISSUE_GOAL_S:.0f} s: "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
