"""Benchmark: catalogue search at 2,000 and 20,000 offers against ``/api/v1/me`` (issue 11).

Not a test. Run it with ``.venv/bin/python bench/catalogue_bench.py`` (as root it installs
``wrk`` with apt-get when missing). For each database (SQLite, then a throwaway PostgreSQL
cluster, or ``LAP_BENCH_POSTGRES_URL``) it loads 2,000 offers (several providers, every
category and unit, 1-4 tiers each), serves one worker in a subprocess the way ``make run``
does (``lap-market serve``, development settings: on SQLite the embedded job worker runs
beside it, and every request writes its JSON log line, to a file), and measures with wrk,
alternating the endpoints round by round in the same run:

- ``me``: ``/api/v1/me`` (token check, user and organisation reads): the yardstick
- ``name``: one category's offers by name, a page of 20
- ``price``: one category and unit ranked by price at a quantity, a page of 20
- ``words``: a place name (~1 offer in 53), looked up in the text index
- ``common``: a title word (~1 offer in 8), which a large catalogue walks in name order
  (``browse._walk_budget``)

Every search fills its page of 20 at both sizes, so that the ratio of the two rates compares
like with like. Until 2 December 2026 ``words`` was "clerkenwell strongroom" (a place and the
title word), which finds 3 offers at 2,000 and a full page at 20,000: its 20,000 rate then
also paid for seven times the items. ``--words`` measures any other query in its place.

A second database holds 20,000 offers and its own worker; every endpoint is measured on
both sizes in turn, so that both see the same load on a shared machine: its two rate runs
follow each other, 2,000 first in one round and 20,000 first in the next. Throughput at 32
connections, latency (p50/p99) at 8: the percentiles of every request of every round (wrk's
latency histograms, pooled), with the worst single run's p99 beside them; beside each, the
server process's CPU per request. A ratio of rates (``÷ me``, ``÷ own 2k``) is the median of
the rounds' ratios, each of two runs of the same round: this machine's speed wanders by a
third over minutes, CPU time with it, and a ratio of whole-run means let one slow stretch
decide a goal. wrk shares the machine with the server; ``--pin-wrk`` keeps it on the last
core (the figures then say what one core left to the server does).

Goals: every search mode at least half the requests/s of ``me`` at 2,000 offers; at 20,000
at least 80 % of its own rate at 2,000; p99 at most 50 ms at 8 connections.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import mean, median
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lap_market.accounts.models import AuthSession, Organisation, Role, User  # noqa: E402
from lap_market.accounts.security import create_access_token  # noqa: E402
from lap_market.catalogue.models import (  # noqa: E402
    Category,
    CategoryUnit,
    Offer,
    OfferTier,
    OfferVersion,
)
from lap_market.db import make_engine, run_migrations  # noqa: E402
from lap_market.registry import import_all_models  # noqa: E402

PG_BIN = Path(os.environ.get("LAP_PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET = "bench-secret-" + "x" * 40
NOW = datetime.now(UTC)
SID = "bench-session"
SIZES = (2_000, 20_000)
PROVIDERS = 25
# One place per offer title (~1.7 % of offers each), a noun, and ten description words.
PLACES = """Acton Barking Barnet Battersea Bermondsey Bexley Brixton Bromley Camberwell Camden
Chelsea Chiswick Clapham Clerkenwell Croydon Dagenham Deptford Dulwich Ealing Edmonton Eltham
Enfield Finchley Fulham Greenwich Hackney Hammersmith Hampstead Harrow Hendon Highgate Holborn
Hornsey Hounslow Ilford Islington Kensington Kilburn Lambeth Lewisham Leyton Marylebone Merton
Mitcham Morden Newham Paddington Peckham Pimlico Putney Richmond Romford Southwark Stepney
Stratford Streatham Sutton Tooting Walthamstow Wandsworth""".split()  # noqa: SIM905
NOUNS = ["strongroom", "racking", "vault", "repository", "depot", "studio", "workshop", "store"]
WORDS = """acid-free boxes climate controlled humidity temperature monitored secure alarmed
fire suppression inert gas mobile shelving map chests plan cabinets photographic negatives film
nitrate cold parchment vellum bound volumes loose papers deeds maps plans drawings audiovisual
tape reels cassettes discs digital preservation ingest metadata catalogue conservation repair
paper leather bookbinding wash deacidify flatten encapsulate mould remediation pest monitoring
integrated management survey condition assessment packing labelling barcoding retrieval next-day
delivery van courier reading room access supervised handling gloves training courses workshops
delegates certificates scanning imaging overhead cameras flatbed high resolution tiff jpeg pdf
ocr transcription indexing volunteers outreach exhibitions loans insurance valuation""".split()  # noqa: SIM905
WORD_SEARCH = "clerkenwell"  # one place: ~1 offer in 53
COMMON_WORD = "strongroom"  # a title word: ~1 offer in 8


def word_search(q: str) -> str:
    return "/api/v1/offers?q=" + q.replace(" ", "+") + "&page_size=20"


ENDPOINTS = {
    "me": "/api/v1/me",
    "name": "/api/v1/offers?category=storage&page_size=20",
    "price": (
        "/api/v1/offers?category=storage&unit=box_year&sort=price&quantity=500&page_size=20"
    ),
    "words": word_search(WORD_SEARCH),
    "common": word_search(COMMON_WORD),
}
SEARCHES = ("name", "price", "words", "common")


# --- data ----------------------------------------------------------------------------------


def seed_people(engine: sa.Engine) -> int:
    """Contractors and a borough manager; returns the manager's id."""
    with engine.begin() as db:
        db.execute(
            sa.insert(Organisation.__table__),  # type: ignore[attr-defined]
            [
                {"name": f"Bench Provider {n}", "kind": "contractor", "created_at": NOW}
                for n in range(PROVIDERS)
            ],
        )
        borough = db.execute(
            sa.select(Organisation.id).where(Organisation.kind == "borough")  # type: ignore[arg-type]
        ).scalar()
        return int(
            db.execute(
                sa.insert(User.__table__).returning(User.__table__.c.id),  # type: ignore[attr-defined]
                {
                    "email": "bench@lap.example",
                    "name": "Bench Manager",
                    "role": Role.BOROUGH_MANAGER,
                    "organisation_id": borough,
                    "password_hash": "!",
                    "is_active": True,
                    "created_at": NOW,
                },
            ).scalar_one()
        )


def add_offers(engine: sa.Engine, count: int, seed: int) -> None:
    """``count`` offers across every unit, with 1-4 tiers each, in bulk inserts."""
    rng = random.Random(seed)
    with engine.begin() as db:
        units = db.execute(sa.select(CategoryUnit.id, CategoryUnit.category_id)).all()  # type: ignore[call-overload]
        providers = db.execute(
            sa.select(Organisation.id).where(Organisation.kind == "contractor")  # type: ignore[arg-type]
        ).scalars().all()
        categories = dict(db.execute(sa.select(Category.id, Category.name)).all())  # type: ignore[call-overload]
        first = int(db.execute(sa.select(sa.func.coalesce(sa.func.max(Offer.id), 0))).scalar_one())
        offers, versions, tiers = [], [], []
        for n in range(first + 1, first + count + 1):
            unit_id, category_id = rng.choice(units)
            valid_until = date(2026, 6, 30) if rng.random() < 0.05 else None  # some expired
            offers.append(
                {
                    "id": n, "provider_id": rng.choice(providers), "category_id": category_id,
                    "unit_id": unit_id, "description": f"{categories[category_id]}: "
                    + " ".join(rng.choice(WORDS) for _ in range(10)),
                    "title": f"{rng.choice(PLACES)} {rng.choice(NOUNS)} {n}",
                    "capacity": Decimal(rng.choice([500, 5000, 50000])) if n % 3 else None,
                    "capacity_used": Decimal(0), "lead_time_days": rng.randint(1, 30),
                    "valid_from": date(2026, 1, 1), "valid_until": valid_until,
                    "status": "published", "commissioned": False, "current_version": 1,
                    "created_at": NOW, "updated_at": NOW, "published_at": NOW,
                }
            )  # fmt: skip
            versions.append(
                {"id": n, "offer_id": n, "number": 1, "unit_id": unit_id,
                 "created_at": NOW, "published_at": NOW}
            )  # fmt: skip
            price = rng.randint(200, 3000)
            extra = sorted(rng.sample([10, 50, 100, 250, 500, 1000], rng.randint(0, 3)))
            for minimum in [1, *extra]:
                tiers.append({"version_id": n, "min_quantity": Decimal(minimum),
                              "unit_price_pence": price})  # fmt: skip
                price -= rng.randint(0, price // 5)
        db.execute(sa.insert(Offer.__table__), offers)  # type: ignore[attr-defined]
        db.execute(sa.insert(OfferVersion.__table__), versions)  # type: ignore[attr-defined]
        db.execute(sa.insert(OfferTier.__table__), tiers)  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load
            db.execute(sa.text("SELECT setval('offer_id_seq', (SELECT max(id) FROM offer))"))
            db.execute(
                sa.text("SELECT setval('offerversion_id_seq', (SELECT max(id) FROM offerversion))")
            )
    else:
        with engine.begin() as db:
            db.execute(sa.text("ANALYZE"))


# --- serving and measuring -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def worker(url: str, log: Path) -> Iterator[str]:
    """One worker served the way ``make run`` serves (``lap-market serve``: the development
    settings, so on SQLite the embedded job worker runs beside it, and a JSON log line per
    request, written to ``log``); yields its base URL."""
    port = _free_port()
    env = {**os.environ, "LAP_DATABASE_URL": url, "LAP_SECRET_KEY": SECRET,
           "LAP_ENV": "development", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "lap_market.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            env=env, cwd=ROOT, stdout=sink, stderr=sink, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    SERVERS[base] = process.pid
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: see {log}")
            time.sleep(0.2)
        yield base
    finally:
        # The whole group: the server and the PDF render workers it started.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian when missing and allowed."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: run `apt-get install wrk` as root, then again.")
    print("installing wrk with apt-get ...", flush=True)
    quiet = {"check": True, "stdout": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)  # noqa: S607
    return shutil.which("wrk") or sys.exit("apt-get did not install wrk")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# wrk hands its latency histogram to a script's ``done``: each distinct latency (µs) and how
# many requests took it. Pooled over the rounds, it gives the p99 of every request measured,
# not the worst of each run's own p99.
HISTOGRAM_SCRIPT = """
done = function(summary, latency, requests)
  local out = assert(io.open(os.getenv("LAP_WRK_HISTOGRAM"), "w"))
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(string.format("%d %d\\n", value, count))
  end
  out:close()
end
"""


PIN: list[str] = []  # taskset prefix for wrk (--pin-wrk)
SERVERS: dict[str, int] = {}  # base URL -> the serving process's id


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used, all its threads (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, base: str, path: str, token: str, *, connections: int, seconds: int
) -> dict[str, Any]:
    """Requests/s, p50 and p99 (ms), non-2xx answers, the server's CPU per request (ms) —
    a figure that a busy shared machine disturbs far less than the rate — and the latency
    histogram (µs: requests) of one wrk run."""
    url = base + path
    cpu_before = cpu_seconds(SERVERS[base])
    with tempfile.TemporaryDirectory(prefix="lap-wrk-") as scratch:
        script, histogram = Path(scratch) / "histogram.lua", Path(scratch) / "histogram.txt"
        script.write_text(HISTOGRAM_SCRIPT)
        done = subprocess.run(  # noqa: S603
            [*PIN, wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
             str(script), "-H", f"Authorization: Bearer {token}", url],
            capture_output=True, text=True, check=True,
            env={**os.environ, "LAP_WRK_HISTOGRAM": str(histogram)},
        )  # fmt: skip
        counts = Counter[int]()
        for line in histogram.read_text().splitlines():
            value, count = line.split()
            counts[int(float(value))] += int(float(count))
    out = done.stdout
    cpu = cpu_seconds(SERVERS[base]) - cpu_before

    def latency(percent: int) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        return float(match.group(1)) * UNITS[match.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    served = re.search(r"(\d+) requests in", out)
    assert rate and served, out
    return {
        "rate": float(rate.group(1)), "p50": latency(50), "p99": latency(99),
        "errors": float(errors.group(1)) if errors else 0.0,
        "cpu": cpu * 1000 / max(1, int(served.group(1))), "histogram": counts,
    }  # fmt: skip


def percentile(histogram: Counter[int], percent: float) -> float:
    """The latency (ms) that ``percent`` % of the requests in ``histogram`` (µs) took at most."""
    total = sum(histogram.values())
    rank, seen = math.ceil(total * percent / 100), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value / 1000
    return 0.0


def check(base: str, token: str) -> str:
    """Every endpoint answers, and the searches find what they should; how many items each
    search's page holds, and of how many found."""
    found = []
    for name, path in ENDPOINTS.items():
        response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (name, response.text)
        if name in SEARCHES:
            page = response.json()
            assert page["items"], (name, page)
            found.append(f"{name} {len(page['items'])} of {page['total']:,}")
    return ", ".join(found)


def measure(
    wrk: str, bases: dict[int, str], token: str, rounds: int, seconds: int
) -> dict[tuple[int, str], dict[str, float]]:
    """Every endpoint on every catalogue size, ``rounds`` times, alternating so that all of
    them see the same load on the machine: rate at 32 connections, latency at 8 (p50 and
    p99 of every request of every round; ``worst`` is the highest one run's p99 reached).

    An endpoint's rate runs on the two sizes follow each other, in the opposite order every
    other round (2,000 first, then 20,000 first), so that the two rates a round compares
    were measured a few seconds apart and a machine that slows down or speeds up through a
    round favours neither size (``rates``: each round's rate, for ``ratio``)."""
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {
        (size, name): [] for size in bases for name in ENDPOINTS
    }
    for round_ in range(rounds):
        order = list(bases.items())
        if round_ % 2:
            order.reverse()
        for name, path in ENDPOINTS.items():
            rates = {
                size: run_wrk(wrk, base, path, token, connections=32, seconds=seconds)
                for size, base in order
            }
            for size, base in order:
                latency = run_wrk(wrk, base, path, token, connections=8, seconds=seconds)
                rate = rates[size]
                errors = rate["errors"] + latency["errors"]
                runs[(size, name)].append(
                    {**latency, "rate": rate["rate"], "cpu": rate["cpu"], "errors": errors}
                )
    figures = {}
    for key, results in runs.items():
        pooled = sum((r["histogram"] for r in results), Counter[int]())
        figures[key] = {
            "rates": [r["rate"] for r in results],
            "rate": mean(r["rate"] for r in results),
            "p50": percentile(pooled, 50),
            "p99": percentile(pooled, 99),
            "worst": max(r["p99"] for r in results),
            "errors": sum(r["errors"] for r in results),
            "cpu": median(r["cpu"] for r in results),
        }
    return figures


# --- databases -----------------------------------------------------------------------------


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
    port, data = _free_port(), root / "data"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, cwd=root)  # noqa: S603

    run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
        "-E", "UTF8", "--locale=C")  # fmt: skip
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off"
    )
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", options,
        "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def scratch_database(server: str, name: str) -> str:
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def open_session(engine: Engine, user_id: int) -> None:
    """The bench's signed-in session (the same ``SID`` in every database, so one token
    serves both catalogues), as a sign-in would store it."""
    with Session(engine) as session:
        session.add(AuthSession(sid=SID, user_id=user_id, client_address="bench",
                                created_at=NOW, expires_at=NOW + timedelta(hours=10)))
        session.commit()


def load(backend: str, url: str, size: int) -> int:
    """A migrated database with ``size`` offers; the manager's id."""
    run_migrations(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        manager_id = seed_people(engine)
        open_session(engine, manager_id)
        add_offers(engine, size, seed=size)
        print(f"{backend}: {size:,} offers loaded in {time.perf_counter() - started:.1f} s;"
              f" load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        return manager_id
    finally:
        engine.dispose()


def bench_backend(backend: str, urls: dict[int, str], wrk: str, args: argparse.Namespace) -> list:
    """Both catalogue sizes served at once (one worker each), measured turn by turn."""
    manager_ids = {load(backend, url, size) for size, url in urls.items()}
    assert len(manager_ids) == 1  # same id in both databases: one token serves both
    token = create_access_token(user_id=manager_ids.pop(), sid=SID, secret=SECRET, now=NOW,
                                minutes=600)
    with ExitStack() as stack:
        logs = {size: Path(tempfile.gettempdir()) / f"lap-bench-{backend}-{size}.log"
                for size in urls}  # fmt: skip
        bases = {size: stack.enter_context(worker(url, logs[size])) for size, url in urls.items()}
        print(f"  serving as `make run` does; request logs in {', '.join(map(str, logs.values()))}")
        for size, base in bases.items():
            print(f"  {size:>6,} offers, items on the page: {check(base, token)}", flush=True)
        figures = measure(wrk, bases, token, args.rounds, args.seconds)
    results = []
    for (size, name), values in figures.items():
        results.append((backend, size, name, values))
        print(f"  {size:>6,} {name:<6} {values['rate']:8.0f} req/s  p50 {values['p50']:6.2f} ms"
              f"  p99 {values['p99']:6.2f} ms (worst run {values['worst']:6.2f})"
              f"  cpu {values['cpu']:5.2f} ms/req"
              f"  non-2xx {values['errors']:.0f}",
              flush=True)  # fmt: skip
    return results


def ratio(measured: dict[str, Any], against: dict[str, Any]) -> float:
    """How ``measured``'s rate compares with ``against``'s: the median of the rounds' ratios,
    each of two rates from the same round (``measure``). The ratio of the mean rates let one
    slow stretch of a shared machine, falling on one side of a ratio in two rounds of four,
    decide a goal."""
    return median(m / a for m, a in zip(measured["rates"], against["rates"], strict=True))


def report(results: list[tuple]) -> None:
    """The table of figures and each goal, met or not."""
    print(f"\n{os.cpu_count()} cores; load average now {os.getloadavg()}")
    print("(÷ me, ÷ own 2k: the median of each round's ratio of rates; cpu: the server"
          " process's CPU per request; cpu ÷: the ratios those imply for a server given a core"
          " of its own — PostgreSQL's own processes not counted)")
    print(f"{'backend':<11} {'offers':>7} {'mode':<6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
          f" {'÷ me':>6} {'÷ own 2k':>9} {'cpu ms':>7} {'cpu ÷ me':>9}"
          f" {'cpu ÷ 2k':>9}")  # fmt: skip
    table = {(b, s, n): v for b, s, n, v in results}
    for backend, size, name, values in results:
        to_me = ratio(values, table[(backend, size, "me")])
        to_small = ratio(values, table[(backend, SIZES[0], name)])
        cpu_me = table[(backend, size, "me")]["cpu"] / max(values["cpu"], 1e-9)
        cpu_small = table[(backend, SIZES[0], name)]["cpu"] / max(values["cpu"], 1e-9)
        print(f"{backend:<11} {size:>7,} {name:<6} {values['rate']:>7.0f} {values['p50']:>7.2f}"
              f" {values['p99']:>7.2f} {to_me:>6.2f} {to_small:>9.2f} {values['cpu']:>7.2f}"
              f" {cpu_me:>9.2f} {cpu_small:>9.2f}")  # fmt: skip
    print()
    for backend in sorted({r[0] for r in results}):
        for name in SEARCHES:
            small, large = table[(backend, SIZES[0], name)], table[(backend, SIZES[1], name)]
            half = ratio(small, table[(backend, SIZES[0], "me")]) >= 0.5
            keeps = ratio(large, small) >= 0.8
            p99 = max(small["p99"], large["p99"]) <= 50
            verdict = " ".join(
                f"{goal}:{'met' if ok else 'MISSED'}"
                for goal, ok in (("half of me", half), ("80% at 20k", keeps), ("p99<=50ms", p99))
            )
            print(f"{backend:<11} {name:<6} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--pin-wrk", action="store_true",
        help="run wrk on the last core only (taskset), leaving the others to the server",
    )  # fmt: skip
    parser.add_argument(
        "--words", default=WORD_SEARCH,
        help=f"the words of the `words` search (default {WORD_SEARCH!r})",
    )  # fmt: skip
    args = parser.parse_args()
    ENDPOINTS["words"] = word_search(args.words)
    if args.pin_wrk and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        PIN[:] = ["taskset", "-c", str((os.cpu_count() or 1) - 1)]
        print(f"wrk pinned to core {PIN[-1]}", flush=True)
    import_all_models()
    wrk = ensure_wrk()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()}", flush=True)
    results: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="lap-bench-") as tmp:
        if not args.skip_sqlite:
            urls = {size: f"sqlite:///{Path(tmp) / f'catalogue_{size}.db'}" for size in SIZES}
            results += bench_backend("sqlite", urls, wrk, args)
        if not args.skip_postgres:
            with postgres_server() as server:
                urls = {size: scratch_database(server, f"lap_bench_{size}") for size in SIZES}
                results += bench_backend("postgresql", urls, wrk, args)
    report(results)


if __name__ == "__main__":
    main()
