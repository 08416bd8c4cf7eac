"""Test harness: real databases (SQLite and a throwaway PostgreSQL 15), the app, a live
server and a real Chromium.

Fixtures
--------
``db_url``            every test that uses it runs twice, ``[sqlite]`` and ``[postgresql]``,
                      each time on a freshly migrated database (reference data, no demo data)
``settings``          ``Settings`` for that database, data_dir under ``tmp_path``
``app``               ``create_app(settings)``; its engine is disposed afterwards
``client``            ``TestClient(app)``, lifespan running
``session``           ``sqlmodel.Session`` on ``app.state.engine``
``postgres_url_base`` (session) server URL without a database name
``live_server``       (module) uvicorn in a thread on SQLite + demo data: ``.url .app .settings``
``browser``/``page``  (session/function) Playwright's sync API driving Debian's Chromium
``smtp_server``       a real SMTP server (aiosmtpd) on a free port: ``.url .messages()``

Markers: ``postgres_only`` tests keep only their ``[postgresql]`` case; tests that use
``page`` or ``browser`` are marked ``browser`` automatically (``-m "not browser"``).

Environment: ``LAP_TEST_POSTGRES_URL`` uses an existing server instead of starting one;
``LAP_TEST_SKIP_POSTGRES=1`` skips the ``[postgresql]`` cases (otherwise a missing
PostgreSQL fails them loudly); ``LAP_PG_BIN`` is where ``initdb``/``pg_ctl`` live.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from sqlalchemy.engine import URL, Engine, make_url

from tests.postgres_cluster import PG_BIN
from tests.postgres_cluster import PostgresCluster as _PostgresCluster
from tests.postgres_cluster import free_port as _free_port
from tests.postgres_cluster import remove_stale_clusters as _remove_stale_clusters

T = TypeVar("T")

if TYPE_CHECKING:
    import psycopg
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from playwright.sync_api import Browser, Page, Playwright
    from sqlmodel import Session

    from lap_market.config import Settings

SECRET_KEY = "x" * 40
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--headless=new",
]

# Per-test database setup times, by backend, reported at the end of the run.
_setup_seconds: dict[str, list[float]] = defaultdict(list)


def _skip_postgres() -> bool:
    return os.environ.get("LAP_TEST_SKIP_POSTGRES", "") not in ("", "0")


# --- collection ------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark browser tests; drop the SQLite case of ``postgres_only`` tests."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if ("page" in fixtures or "browser" in fixtures) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("db_url") if callspec else None
        if item.get_closest_marker("postgres_only") and backend == "sqlite":
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# Outcomes by where a test ran, so the CI log shows PostgreSQL and Chromium were exercised.
_outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    groups = []
    if "[sqlite" in report.nodeid or "-sqlite" in report.nodeid:
        groups.append("SQLite database tests")
    if "[postgresql" in report.nodeid or "-postgresql" in report.nodeid:
        groups.append("PostgreSQL database tests")
    if "browser" in report.keywords:
        groups.append("Chromium browser tests")
    outcome = "error" if report.when == "setup" and report.outcome == "failed" else report.outcome
    for group in groups:
        _outcomes[group][outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report counts per database and browser, and how long per-test databases took."""
    for group in ("SQLite database tests", "PostgreSQL database tests", "Chromium browser tests"):
        counts = _outcomes.get(group)
        if counts:
            terminalreporter.write_line(
                f"{group}: {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped, {counts['error']} errors"
            )
    if not _setup_seconds:
        return
    parts = []
    for backend, times in sorted(_setup_seconds.items()):
        ordered = sorted(times)
        mean = sum(ordered) / len(ordered) * 1000
        worst = ordered[-1] * 1000
        parts.append(f"{backend} mean {mean:.1f} ms, max {worst:.1f} ms (n={len(ordered)})")
    terminalreporter.write_line("per-test database setup: " + "; ".join(parts))


# --- PostgreSQL ----------------------------------------------------------------------------


def _sigterm_runs_teardown() -> None:
    """Turn SIGTERM (CI timeouts) into KeyboardInterrupt so teardown stops the cluster."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def _interrupt(_signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt("SIGTERM")

        signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def postgres_url_base() -> Iterator[str]:
    """URL of a PostgreSQL 15 server (no database name): ``LAP_TEST_POSTGRES_URL`` or a
    cluster started for this session and removed afterwards."""
    if _skip_postgres():
        pytest.skip("LAP_TEST_SKIP_POSTGRES is set")
    existing = os.environ.get("LAP_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.fail(
            f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing). Install it with "
            "`scripts/system-deps.sh test` (as root), point LAP_TEST_POSTGRES_URL at a "
            "server, or set LAP_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL cases.",
            pytrace=False,
        )
    _remove_stale_clusters()
    _sigterm_runs_teardown()
    cluster = _PostgresCluster()
    atexit.register(cluster.stop)  # in case the session dies before teardown
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _server_url(base: str, database: str) -> URL:
    url = make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=database)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class _PostgresTemplate:
    """A migrated template database and an autocommit admin connection to clone it."""

    base: str
    name: str
    admin: psycopg.Connection[Any]
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def create(self) -> str:
        database = f"t_{os.getpid()}_{next(self.counter)}"
        # FILE_COPY copies the files; a little faster than WAL_LOG for a small template.
        self.admin.execute(
            f'CREATE DATABASE "{database}" TEMPLATE "{self.name}" STRATEGY FILE_COPY'
        )
        return database

    def drop(self, database: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def url(self, database: str) -> str:
        return _server_url(self.base, database).render_as_string(hide_password=False)


def _drop_template(admin: psycopg.Connection[Any], name: str) -> None:
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        # A template database cannot be dropped.
        admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_template(postgres_url_base: str) -> Iterator[_PostgresTemplate]:
    """Run the migrations once into a template database that each test clones."""
    import psycopg

    from lap_market.db import run_migrations

    admin = psycopg.connect(_libpq(_server_url(postgres_url_base, "postgres")), autocommit=True)
    # A shared server may host several runs at once; our own cluster hosts only us.
    external = bool(os.environ.get("LAP_TEST_POSTGRES_URL"))
    name = f"lap_template_{os.getpid()}" if external else "lap_template"
    try:
        _drop_template(admin, name)
        admin.execute(f'CREATE DATABASE "{name}"')
        template_url = _server_url(postgres_url_base, name).render_as_string(hide_password=False)
        run_migrations(template_url)
        # Nobody may stay connected to a template, or cloning it fails.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        yield _PostgresTemplate(base=postgres_url_base, name=name, admin=admin)
    finally:
        try:
            _drop_template(admin, name)
        finally:
            admin.close()


# --- SQLite ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the migrations once; each test gets a copy of the resulting file."""
    from lap_market.db import run_migrations

    directory = tmp_path_factory.mktemp("sqlite-template")
    migrated = directory / "migrated.db"
    run_migrations(f"sqlite:///{migrated}")
    # Copy through the backup API so nothing is left behind in a -wal file, and store it
    # in rollback-journal mode so the template is one self-contained file.
    template = directory / "template.db"
    source = sqlite3.connect(migrated)
    target = sqlite3.connect(template)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    return template


# --- per-test database, settings, app ------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database of its own for this test, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        started = time.perf_counter()
        path = tmp_path / "db" / "lap_market.db"
        path.parent.mkdir()
        shutil.copyfile(template, path)
        _setup_seconds["sqlite"].append(time.perf_counter() - started)
        yield f"sqlite:///{path}"
        return

    pg: _PostgresTemplate = request.getfixturevalue("_postgres_template")
    started = time.perf_counter()
    database = pg.create()
    _setup_seconds["postgresql"].append(time.perf_counter() - started)
    try:
        yield pg.url(database)
    finally:
        pg.drop(database)


def _settings(database_url: str, data_dir: Path) -> Settings:
    from lap_market.config import Settings

    return Settings(database_url=database_url, data_dir=data_dir, secret_key=SECRET_KEY, env="test")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for this test's database, with a data folder of its own."""
    return _settings(db_url, tmp_path / "data")


def _dispose(engine: Engine) -> None:
    """Close an engine's pooled connections (``db.dispose``) outside the app's loop: in a loop
    and a thread of their own (the browser tests' driver keeps a loop running in this one)."""
    from lap_market.db import dispose

    in_own_loop(lambda: dispose(engine))


def in_own_loop(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The coroutine ``work`` makes, run to its end in a new event loop in a new thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """The application, with its engine closed afterwards so the database can go."""
    from lap_market.main import create_app

    application = create_app(settings)
    try:
        yield application
    finally:
        for name in ("engine", "reading_engine"):
            engine = getattr(application.state, name, None)
            if engine is not None:
                _dispose(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client calling the app in-process, startup and shutdown included."""
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A database session on the app's engine, for arranging and checking data."""
    from sqlmodel import Session

    with Session(app.state.engine) as db_session:
        yield db_session


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    """Let time run again after a test that froze or moved it."""
    yield
    from lap_market.clock import clock

    clock.reset()


# --- live server and browser -----------------------------------------------------------------


@dataclass
class LiveServer:
    """A running server: base ``url`` (no trailing slash), its ``app`` and ``settings``."""

    url: str
    app: FastAPI
    settings: Settings


def _load_demo(app: FastAPI) -> None:
    from sqlmodel import Session

    try:
        from lap_market.demo import load_demo
    except ModuleNotFoundError as exc:
        if exc.name != "lap_market.demo":
            raise
        import warnings

        warnings.warn(
            "lap_market.demo does not exist yet: live server has no demo data", stacklevel=2
        )
        return
    with Session(app.state.engine) as db_session:
        load_demo(db_session)
        db_session.commit()


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
) -> Iterator[LiveServer]:
    """Uvicorn serving the app on SQLite with the demo data, shared by a test module.

    It runs in this process, so ``clock.set`` moves its time too.
    """
    import httpx
    import uvicorn

    from lap_market.main import create_app

    directory = tmp_path_factory.mktemp("live")
    database = directory / "lap_market.db"
    shutil.copyfile(_sqlite_template, database)
    # Like `make run`: the server works its own jobs (issuing call-offs, email).
    live_settings = _settings(f"sqlite:///{database}", directory / "data").model_copy(
        update={"embedded_worker": True, "job_poll_seconds": 0.2}
    )
    application = create_app(live_settings)
    _load_demo(application)

    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if not thread.is_alive():
                pytest.fail("live server exited during startup", pytrace=False)
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("live server did not answer /healthz within 30 s", pytrace=False)
            time.sleep(0.05)
        yield LiveServer(url=url, app=application, settings=live_settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        application.state.engine.dispose()
        _dispose(application.state.reading_engine)


def _chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        yield playwright
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browsers cannot be downloaded)."""
    executable = _chromium_path()
    if not Path(executable).exists():
        pytest.fail(
            "Chromium is not installed: run `scripts/system-deps.sh test` as root "
            "(apt-get install chromium).",
            pytrace=False,
        )
    chromium = _playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), 10 s default timeout."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


# --- SMTP ------------------------------------------------------------------------------------


class SmtpSink:
    """An aiosmtpd server on a free port that keeps every message it accepts."""

    def __init__(self, delay: float = 0.0) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self._lock = threading.Lock()
        self._received: list[tuple[list[str], bytes]] = []
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)  # a slow real server, so tests can act mid-batch
        with self._lock:
            self._received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def messages(self) -> list[Any]:
        """The received messages, parsed (``email.message.EmailMessage``), with ``rcpt_tos``."""
        from email import policy
        from email.parser import BytesParser

        with self._lock:
            received = list(self._received)
        parsed = []
        for rcpt_tos, content in received:
            message = BytesParser(policy=policy.default).parsebytes(content)
            message.rcpt_tos = rcpt_tos  # type: ignore[attr-defined]
            parsed.append(message)
        return parsed


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server for this test; set ``.delay`` to slow each message down."""
    sink = SmtpSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()
