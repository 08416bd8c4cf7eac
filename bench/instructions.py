"""Benchmark: instructions per request of catalogue search against ``/api/v1/me`` (issue 11).

Not a test. Run it with ``.venv/bin/python bench/instructions.py``. Timings on a shared
machine drift by a third within an hour; instruction counts do not. For each size (2,000 and
20,000 offers, SQLite, loaded as ``catalogue_bench.py`` loads them) the app is called as ASGI
in process (no network, no load generator) under callgrind, which counts the instructions of
``--requests`` requests of each endpoint after 30 that are not counted. It prints
instructions per request, and the ratios to ``me`` and to the same endpoint at 2,000 offers.

It needs valgrind and a C compiler (Debian's ``valgrind`` and ``gcc``, installed with apt-get
when missing and run as root): a helper of four lines tells callgrind where to count. An
instruction is not a unit of time: SQLite's B-tree code runs more of them per nanosecond than
the interpreter does, so a larger catalogue's ratio reads lower here than in requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import catalogue_bench as cb  # noqa: E402 - the loader and endpoints of the other bench

HELPER = """#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""
WARM_UP = 30


def ensure_tools() -> None:
    """valgrind and gcc, installed from Debian when missing and allowed."""
    missing = [tool for tool in ("valgrind", "gcc") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing {', '.join(missing)}: run `apt-get install -y valgrind gcc` as root")
    subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind", "gcc"], check=True)  # noqa: S607


def build_helper(scratch: Path) -> Path:
    source, library = scratch / "count.c", scratch / "count.so"
    source.write_text(HELPER)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],  # noqa: S607
                   check=True)  # fmt: skip
    return library


def count(database: Path, manager: int, requests: int, helper: Path, scratch: Path) -> dict:
    """Instructions per request of each endpoint, counted in a child under callgrind."""
    out = scratch / "callgrind"
    out.mkdir()
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={out}/cg.%p", sys.executable, __file__, "--child", str(database),
        str(manager), str(requests), str(helper),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    found = {}
    for dump in out.glob("cg.*"):
        text = dump.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: Client Request: (\w+)$", text, re.M)
        total = re.search(r"^totals: (\d+)", text, re.M)
        if name and total:
            found[name.group(1)] = int(total.group(1)) / requests
    return found


def child(database: str, manager: int, requests: int, helper: str) -> None:
    """Runs under callgrind: the app in process, counted around each endpoint's requests."""
    counter = ctypes.CDLL(helper)
    token = cb.create_access_token(user_id=manager, sid=cb.SID, secret=cb.SECRET, now=cb.NOW,
                                   minutes=600)  # fmt: skip
    os.environ.update(LAP_DATABASE_URL=f"sqlite:///{database}", LAP_SECRET_KEY=cb.SECRET,
                      LAP_ENV="production", LAP_PUBLIC_URL="http://bench.invalid")  # fmt: skip
    from lap_market.main import create_app

    app = create_app()

    async def call(path: str) -> None:
        route, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": route, "raw_path": route.encode(),
                 "query_string": query.encode(), "root_path": "", "state": {},
                 "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent[0]["status"] == 200, sent

    async def run() -> None:
        async with app.router.lifespan_context(app):
            for path in cb.ENDPOINTS.values():
                for _ in range(WARM_UP):
                    await call(path)
            for name, path in cb.ENDPOINTS.items():
                counter.start()
                for _ in range(requests):
                    await call(path)
                counter.stop()
                counter.dump(name.encode())

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--requests", type=int, default=40, help="counted per endpoint")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        database, manager, requests, helper = args.child
        child(database, int(manager), int(requests), helper)
        return
    ensure_tools()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="lap-instructions-") as folder:
        scratch = Path(folder)
        helper = build_helper(scratch)
        for size in args.sizes:
            database = scratch / f"catalogue-{size}.db"
            manager = cb.load("sqlite", f"sqlite:///{database}", size)
            sized = scratch / str(size)
            sized.mkdir()
            results[size] = count(database, manager, args.requests, helper, sized)
    first = results[args.sizes[0]]
    print(f"\ninstructions per request, in process, SQLite ({args.requests} counted each)")
    print(f"{'offers':>7} {'mode':8} {'thousands':>10} {'÷ me':>6} {'÷ own first':>12}")
    for size, found in results.items():
        for name in cb.ENDPOINTS:
            ratio_me = found["me"] / found[name]
            ratio_first = first[name] / found[name]
            print(f"{size:>7,} {name:8} {found[name] / 1000:>10,.0f} {ratio_me:>6.2f} "
                  f"{ratio_first:>12.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
