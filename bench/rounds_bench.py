"""Benchmark: a demand round of 33 boroughs × 100 lines closes and is pooled into a tender.

Not a test. Run it with ``.venv/bin/python bench/rounds_bench.py`` (``--lines 100`` sets the
lines per borough, ``--skip-postgres`` leaves PostgreSQL out). A round is opened through the
service (all 33 invited), every borough's lines are written with the round's id and every
return confirmed (setup, not timed). Then, timed on SQLite and on PostgreSQL: the scheduled
close (``rounds.close_due``) and ``aggregate_round`` (confirmed lines grouped into lots,
priced, tender and lots inserted, lines marked ``in_tender``, round linked) with the commit;
and, separately, the estimate for all 33 boroughs. PostgreSQL is a throwaway cluster, as in
``aggregate_bench.py`` (or ``LAP_BENCH_POSTGRES_URL``).

Goal: close and aggregate in under 1 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aggregate_bench import _scratch_database, postgres_server  # noqa: E402

from lap_market.accounts.models import Organisation, Role, User  # noqa: E402
from lap_market.catalogue.models import Offer, OfferTier, OfferVersion  # noqa: E402
from lap_market.clock import clock  # noqa: E402
from lap_market.config import Settings  # noqa: E402
from lap_market.db import make_engine, run_migrations  # noqa: E402
from lap_market.demand.models import Demand  # noqa: E402
from lap_market.demand.service import unit_index  # noqa: E402
from lap_market.registry import import_all_models  # noqa: E402
from lap_market.rounds import estimate, service, tasks, tendering  # noqa: E402
from lap_market.rounds.models import RoundReturn  # noqa: E402
from lap_market.rounds.schemas import RoundCreate  # noqa: E402

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
CLOSES = datetime(2027, 1, 29, 17, 0, tzinfo=UTC)
MIX = [("storage", "linear_metre_year", 40, 400, False), ("storage", "box_year", 100, 5000, True),
       ("conservation", "hour", 20, 400, False)]
TERMS = [(datetime(2027 + k, 4, 1).date(), datetime(2028 + k, 3, 31).date()) for k in range(3)]


def _offers(session: Session) -> None:
    index = unit_index(session)
    lma = session.exec(select(Organisation).where(Organisation.kind == "lma")).one()
    for category, unit_code, low, _high, _whole in MIX:
        unit = index.units[(category, unit_code)]
        offer = Offer(provider_id=lma.id, category_id=unit.category_id, unit_id=unit.id,  # type: ignore[arg-type]
                      title=unit_code, valid_from=NOW.date(), status="published",
                      created_at=NOW, updated_at=NOW, published_at=NOW)
        session.add(offer)
        session.flush()
        version = OfferVersion(offer_id=offer.id, number=1, unit_id=unit.id,  # type: ignore[arg-type]
                               created_at=NOW, published_at=NOW)
        session.add(version)
        session.flush()
        for minimum, price in ((1, 12), (low * 10, 10), (low * 100, 9)):
            session.add(OfferTier(version_id=version.id, min_quantity=Decimal(minimum),  # type: ignore[arg-type]
                                  unit_price_pence=price * 100))


def seed(engine: sa.Engine, per_borough: int) -> tuple[User, int]:
    """An officer, offers, an open round of every borough with its lines, all confirmed."""
    rng = random.Random(33)
    with Session(engine) as session:
        partnership = session.exec(
            select(Organisation).where(Organisation.kind == "partnership")).one()
        officer = User(email="bench@lap.example", name="Bench", role=Role.PROCUREMENT_OFFICER,
                       organisation_id=partnership.id, password_hash="!", created_at=NOW)  # type: ignore[arg-type]
        session.add(officer)
        session.flush()
        _offers(session)
        round_ = service.open_round(session, officer, data=RoundCreate(
            title="Bench round", categories=["storage", "conservation"],
            term_start=TERMS[0][0], term_end=TERMS[-1][1], closes_at=CLOSES))
        index = unit_index(session)
        boroughs = session.exec(select(RoundReturn.borough_id).where(
            RoundReturn.round_id == round_.id)).all()
        rows = []
        for borough in boroughs:
            for _ in range(per_borough):
                category, unit_code, low, high, whole = rng.choice(MIX)
                unit = index.units[(category, unit_code)]
                start, end = rng.choice(TERMS)
                quantity = Decimal(rng.randint(low, high))
                if not whole:
                    quantity += Decimal(rng.randint(0, 99)) / 100
                rows.append({"borough_id": borough, "created_by_id": officer.id,
                             "category_id": unit.category_id, "unit_id": unit.id,
                             "quantity": quantity, "start_date": start, "end_date": end,
                             "needed_by": None, "specification": "", "status": "submitted",
                             "round_id": round_.id, "created_at": NOW, "updated_at": NOW})
        session.execute(sa.insert(Demand.__table__), rows)  # type: ignore[attr-defined]
        session.execute(sa.update(RoundReturn).where(RoundReturn.round_id == round_.id)  # type: ignore[arg-type]
                        .values(status="confirmed", confirmed_by_id=officer.id, confirmed_at=NOW))
        session.commit()
        session.expunge(officer)
        return officer, int(round_.id)  # type: ignore[arg-type]


def run(url: str, per_borough: int) -> tuple[int, int, float, float]:
    """(lines pooled, lots, seconds to close and aggregate, seconds for the estimate)."""
    run_migrations(url)
    engine = make_engine(url)
    try:
        clock.set(NOW)
        officer, round_id = seed(engine, per_borough)
        clock.set(CLOSES + timedelta(minutes=1))
        with Session(engine) as session:
            session.add(officer)
            started = time.perf_counter()
            tasks.close_due_rounds(session, Settings(database_url=url))
            tender = tendering.aggregate_round(session, officer, round_id)
            session.commit()
            closing = time.perf_counter() - started
            started = time.perf_counter()
            figures = estimate.estimate(session, officer, service.get_round(session, officer,
                                                                             round_id))
            estimating = time.perf_counter() - started
            assert len(figures.boroughs) == 33
            pooled = session.execute(sa.select(sa.func.count()).select_from(Demand).where(
                Demand.tender_id == tender.id)).scalar_one()  # type: ignore[arg-type]
            lots = session.execute(sa.text("SELECT count(*) FROM lot WHERE tender_id = :t"),
                                   {"t": tender.id}).scalar_one()
        return int(pooled), int(lots), closing, estimating
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100, help="lines per borough")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    import_all_models()
    results = []
    with tempfile.TemporaryDirectory(prefix="lap-bench-") as tmp:
        results.append(("sqlite", *run(f"sqlite:///{Path(tmp) / 'rounds.db'}", args.lines)))
    if not args.skip_postgres:
        with postgres_server() as server:
            url = _scratch_database(server, "lap_bench_rounds")
            results.append(("postgresql", *run(url, args.lines)))
    print(f"{'backend':<11} {'lines':>7} {'lots':>5} {'close+aggregate s':>18} {'estimate s':>11}")
    for backend, lines, lots, closing, estimating in results:
        verdict = "under 1 s" if closing < 1 else "OVER 1 s"
        print(f"{backend:<11} {lines:>7,} {lots:>5} {closing:>18.3f} {estimating:>11.3f}  "
              f"{verdict}")


if __name__ == "__main__":
    main()
