"""Work that survives ``kill -9``: real worker processes (``lap-market worker``) killed in
the middle of issuing 33 call-offs and of an email batch, and two workers sharing 200
messages on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from lap_market.clock import clock
from lap_market.contracts import call_off_jobs
from lap_market.contracts.models import CallOffBatch, Contract, ContractDocument
from lap_market.jobs.models import Job
from lap_market.mail import OutboxMessage, queue_email
from tests.factories import contracts as cf

BOROUGHS = [f"E09{n:06d}" for n in range(1, 34)]  # all 33 London boroughs
LEASE_SECONDS = "2"


class Workers:
    """``lap-market worker`` processes against the test's database, each in its own
    process group so SIGKILL takes its PDF render processes down with it."""

    def __init__(self, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "LAP_ENV": "test", "LAP_DATABASE_URL": self.settings.database_url,
            "LAP_SECRET_KEY": self.settings.secret_key, "LAP_DATA_DIR": str(self.settings.data_dir),
            "LAP_JOB_LEASE_SECONDS": LEASE_SECONDS, "LAP_JOB_POLL_SECONDS": "0.1",
            "LAP_SMTP_TIMEOUT_SECONDS": "1",
            **env,
        }
        log = (self.tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "lap_market.cli", "worker", "--name", name],
            env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no handler, no cleanup, no goodbye."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted(self.tmp_path.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


@pytest.fixture
def workers(settings, tmp_path: Path) -> Iterator[Workers]:  # type: ignore[no-untyped-def]
    started = Workers(settings, tmp_path / "workers")
    started.tmp_path.mkdir()
    try:
        yield started
    finally:
        started.stop_all()


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str,
               workers: Workers, poll: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(poll)


def test_a_worker_killed_mid_batch_leaves_the_lot_to_the_next(app, session, workers) -> None:
    clock.reset()  # the worker processes run on real time
    awarded = cf.awarded_lot(session, demands=[(gss, str(10 + n)) for n, gss in
                                               enumerate(BOROUGHS)],
                             awarded_at=clock.now() - timedelta(days=40))
    session.commit()
    clock.reset()
    batch_id = call_off_jobs.start_issue(session, awarded.officer, tender_id=awarded.tender.id,  # type: ignore[arg-type]
                                         lot_id=awarded.lot.id)  # type: ignore[arg-type]
    session.commit()
    assert batch_id is not None

    def progress() -> CallOffBatch:
        with Session(app.state.engine) as fresh:
            batch = fresh.get(CallOffBatch, batch_id)
            assert batch is not None
            return batch

    first = workers.start("first")
    wait_until(lambda: 1 <= progress().done < 33, timeout=180, what="the first PDFs",
               workers=workers, poll=0.01)
    workers.kill(first)
    killed_at = progress()
    assert killed_at.status == "running" and 1 <= killed_at.done < 33
    with Session(app.state.engine) as fresh:
        assert fresh.exec(select(func.count()).select_from(Contract)).one() == 0  # all or nothing

    started = time.monotonic()
    workers.start("second")
    wait_until(lambda: progress().status != "running", timeout=300, what="the batch to finish",
               workers=workers, poll=0.1)
    resumed_in = time.monotonic() - started
    finished = progress()
    assert (finished.status, finished.done, finished.total) == ("done", 33, 33), workers.logs()
    with Session(app.state.engine) as fresh:
        contracts = fresh.exec(select(Contract).where(Contract.lot_id == awarded.lot.id)).all()
        documents = fresh.exec(select(ContractDocument)).all()
        job = fresh.exec(select(Job).where(Job.key == call_off_jobs.job_key(batch_id))).one()
    assert len(contracts) == 33 and len({c.buyer_id for c in contracts}) == 33
    assert len(documents) == 33 and {d.contract_id for d in documents} == {c.id for c in contracts}
    assert all(d.content.startswith(b"%PDF") for d in documents)
    assert job.status == "done" and job.attempts == 2 and (job.locked_by or "").startswith("second/")
    print(f"\ncall-offs: killed at {killed_at.done}/33; second worker finished 33 in "
          f"{resumed_in:.1f} s (lease {LEASE_SECONDS} s)")


def _queue_messages(session: Session, count: int) -> None:
    for n in range(count):
        queue_email(session, to_address=f"person{n:03d}@borough.example", kind="test.batch",
                    subject=f"Message {n:03d}", text=f"Body {n:03d}", html=f"<p>Body {n:03d}</p>")
    session.commit()


def _outbox(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with Session(app.state.engine) as fresh:
        return list(fresh.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _all_sent(app) -> bool:  # type: ignore[no-untyped-def]
    return all(m.status == "sent" for m in _outbox(app))


def test_a_worker_killed_mid_email_batch_loses_no_message(app, session, workers,
                                                         smtp_server) -> None:
    clock.reset()
    _queue_messages(session, 60)
    smtp_server.delay = 0.05
    env = {"LAP_SMTP_URL": smtp_server.url, "LAP_MAIL_BATCH_SIZE": "5"}
    first = workers.start("first", **env)
    wait_until(lambda: 3 <= smtp_server.count() < 40, timeout=60, what="the first emails",
               workers=workers, poll=0.005)
    workers.kill(first)
    sent_before = smtp_server.count()
    workers.start("second", **env)
    wait_until(lambda: _all_sent(app), timeout=120, what="every email", workers=workers)

    rows = {m.message_id: m for m in _outbox(app)}
    received = smtp_server.messages()
    ids = Counter(m["Message-ID"] for m in received)
    assert set(ids) == set(rows)  # none lost, none invented
    for message in received:  # a second delivery is the same message, same Message-ID
        row = rows[message["Message-ID"]]
        assert (message["To"], message["Subject"]) == (row.to_address, row.subject)
    print(f"\nemail: killed after {sent_before}/60 delivered; {len(received)} deliveries for 60 "
          f"messages ({sum(n - 1 for n in ids.values())} re-sent with the same Message-ID)")


@pytest.mark.postgres_only
def test_two_workers_deliver_200_messages_once_each(app, session, workers, smtp_server) -> None:
    clock.reset()
    _queue_messages(session, 200)
    smtp_server.delay = 0.005
    env = {"LAP_SMTP_URL": smtp_server.url, "LAP_MAIL_BATCH_SIZE": "10",
           "LAP_JOB_LEASE_SECONDS": "60"}
    started = time.monotonic()
    workers.start("one", **env)
    workers.start("two", **env)
    wait_until(lambda: _all_sent(app), timeout=180, what="every email", workers=workers)
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # anything sent twice would arrive now
    ids = Counter(m["Message-ID"] for m in smtp_server.messages())
    assert len(ids) == 200 and set(ids.values()) == {1}, workers.logs()
    assert set(ids) == {m.message_id for m in _outbox(app)}
    print(f"\nemail: two workers delivered 200 messages once each in {elapsed:.1f} s")
