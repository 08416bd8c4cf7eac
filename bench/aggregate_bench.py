"""Benchmark: pool 33 boroughs × 1,000 demand lines into one draft tender, then 10× that.

Not a test. Run it with ``.venv/bin/python bench/aggregate_bench.py`` (``--scale 1000`` sets
the lines per borough). It times ``aggregate_demand`` — load the submitted lines, group
them into lots, price every lot from one rate-card load, insert the tender and lots, mark
every line ``in_tender`` — and the commit, on SQLite and on PostgreSQL. PostgreSQL is a
throwaway cluster (initdb/pg_ctl, as the tests do) unless ``LAP_BENCH_POSTGRES_URL`` names
a server whose ``postgres`` database may be used to create scratch databases.

Goal: under 1 s at 33,000 lines, and growth no worse than linear.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lap_market.accounts.models import Organisation, Role, User  # noqa: E402
from lap_market.aggregation.schemas import AggregateRequest  # noqa: E402
from lap_market.aggregation.service import aggregate_demand  # noqa: E402
from lap_market.catalogue.models import Offer, OfferTier, OfferVersion  # noqa: E402
from lap_market.clock import clock  # noqa: E402
from lap_market.db import make_engine, run_migrations  # noqa: E402
from lap_market.demand.models import Demand  # noqa: E402
from lap_market.demand.service import unit_index  # noqa: E402
from lap_market.registry import import_all_models  # noqa: E402

PG_BIN = Path(os.environ.get("LAP_PG_BIN", "/usr/lib/postgresql/15/bin"))
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# (category, unit, low, high, whole) — the mix of lines each borough raises.
MIX = [
    ("storage", "linear_metre_year", 40, 400, False),
    ("storage", "box_year", 100, 5000, True),
    ("conservation", "hour", 20, 400, False),
    ("digitisation", "image", 5000, 60000, True),
    ("training", "delegate_place", 2, 20, True),
]
# Service terms: most overlap within a year; some years stand apart, giving several lots.
TERMS = [(date(2027 + k, 4, 1), date(2028 + k, 3, 31)) for k in range(4)]


def seed(engine: sa.Engine, lines_per_borough: int) -> User:
    """An officer, offers for every unit in the mix, and 33 × ``lines_per_borough`` lines."""
    rng = random.Random(33)
    with Session(engine) as session:
        index = unit_index(session)
        boroughs = session.exec(select(Organisation).where(Organisation.kind == "borough")).all()
        partnership = session.exec(
            select(Organisation).where(Organisation.kind == "partnership")
        ).one()
        lma = session.exec(select(Organisation).where(Organisation.kind == "lma")).one()
        officer = User(
            email="bench@lap.example",
            name="Bench",
            role=Role.PROCUREMENT_OFFICER,
            organisation_id=partnership.id,
            password_hash="!",
            created_at=NOW,
        )  # type: ignore[arg-type]
        session.add(officer)
        session.flush()
        for category, unit_code, low, _high, _whole in MIX:
            unit = index.units[(category, unit_code)]
            for provider_number, (capacity, prices) in enumerate(
                [(None, (12, 10, 9)), (low * 500, (13, 9, 8))]
            ):
                offer = Offer(
                    provider_id=lma.id,
                    category_id=unit.category_id,
                    unit_id=unit.id,  # type: ignore[arg-type]
                    title=f"{unit_code} {provider_number}",
                    capacity=Decimal(capacity) if capacity else None,
                    valid_from=date(2026, 1, 1),
                    status="published",
                    created_at=NOW,
                    updated_at=NOW,
                    published_at=NOW,
                )
                session.add(offer)
                session.flush()
                version = OfferVersion(
                    offer_id=offer.id,
                    number=1,
                    unit_id=unit.id,  # type: ignore[arg-type]
                    created_at=NOW,
                    published_at=NOW,
                )
                session.add(version)
                session.flush()
                for minimum, price in zip((1, low * 10, low * 100), prices, strict=True):
                    session.add(
                        OfferTier(
                            version_id=version.id,
                            min_quantity=Decimal(minimum),  # type: ignore[arg-type]
                            unit_price_pence=price * 100,
                        )
                    )
        rows = []
        for borough in boroughs:
            for _ in range(lines_per_borough):
                category, unit_code, low, high, whole = rng.choice(MIX)
                unit = index.units[(category, unit_code)]
                start, end = rng.choice(TERMS)
                quantity = Decimal(rng.randint(low, high))
                if not whole:
                    quantity += Decimal(rng.randint(0, 99)) / 100
                rows.append(
                    {
                        "borough_id": borough.id,
                        "created_by_id": officer.id,
                        "category_id": unit.category_id,
                        "unit_id": unit.id,
                        "quantity": quantity,
                        "start_date": start,
                        "end_date": end,
                        "needed_by": None,
                        "specification": "",
                        "budget_ceiling_pence": None,
                        "status": "submitted",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        session.execute(sa.insert(Demand.__table__), rows)  # type: ignore[attr-defined]
        session.commit()
        session.expunge(officer)
        return officer


def time_aggregate(url: str, lines_per_borough: int) -> tuple[int, float, int]:
    """(lines, seconds, lots) for one aggregation over a freshly seeded database."""
    run_migrations(url)
    engine = make_engine(url)
    try:
        officer = seed(engine, lines_per_borough)
        with Session(engine) as session:
            session.add(officer)
            started = time.perf_counter()
            tender = aggregate_demand(session, officer, filters=AggregateRequest())
            session.commit()
            elapsed = time.perf_counter() - started
            pooled = session.execute(
                sa.select(sa.func.count()).select_from(Demand).where(Demand.tender_id == tender.id)
            ).scalar_one()
            lots = session.execute(
                sa.text("SELECT count(*) FROM lot WHERE tender_id = :t"), {"t": tender.id}
            ).scalar_one()
        return int(pooled), elapsed, int(lots)
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """A server URL without a database: LAP_BENCH_POSTGRES_URL or a throwaway cluster."""
    existing = os.environ.get("LAP_BENCH_POSTGRES_URL")
    if existing:
        yield existing.rstrip("/")
        return
    root = Path(tempfile.mkdtemp(prefix="lap-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, user="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, cwd=root)

    run(
        str(PG_BIN / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    )
    run(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off",
        "start",
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _scratch_database(server: str, name: str) -> str:
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="lines per borough")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    import_all_models()
    clock.set(NOW)
    sizes = [args.scale, args.scale * 10]
    results: list[tuple[str, int, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="lap-bench-") as tmp:
        for per in sizes:
            url = f"sqlite:///{Path(tmp) / f'bench_{per}.db'}"
            lines, seconds, lots = time_aggregate(url, per)
            results.append(("sqlite", lines, seconds, lots))
            print(f"sqlite      {lines:>8,} lines  {seconds:7.3f} s", flush=True)
    if not args.skip_postgres:
        with postgres_server() as server:
            for per in sizes:
                url = _scratch_database(server, f"lap_bench_{per}")
                lines, seconds, lots = time_aggregate(url, per)
                results.append(("postgresql", lines, seconds, lots))
                print(f"postgresql  {lines:>8,} lines  {seconds:7.3f} s", flush=True)
    print()
    print(
        f"{'backend':<11} {'lines':>9} {'lots':>5} {'seconds':>8} {'lines/s':>10} {'s per 1k':>9}"
    )
    for backend, lines, seconds, lots in results:
        print(
            f"{backend:<11} {lines:>9,} {lots:>5} {seconds:>8.3f} {lines / seconds:>10,.0f} "
            f"{seconds / lines * 1000:>9.4f}"
        )
    for backend in ("sqlite", "postgresql"):
        pair = [r for r in results if r[0] == backend]
        if len(pair) == 2:
            growth = pair[1][2] / pair[0][2]
            print(
                f"{backend}: 10× the lines took {growth:.1f}× the time "
                f"({'linear or better' if growth <= 10.5 else 'worse than linear'})"
            )


if __name__ == "__main__":
    main()
