"""The worker: schedules periodic jobs, runs due jobs under a lease, and drives pollers."""

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.jobs import queue
from lap_market.jobs.models import JobStatus
from lap_market.jobs.registry import HANDLERS, PERIODICS, POLLERS, Handler, HandlerSpec, discover

log = logging.getLogger("lap_market.jobs")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def worker_name() -> str:
    """``host:pid``, so a job's ``locked_by`` says which process holds it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _Heartbeat:
    """Extends a claim's lease every third of the lease while the job runs."""

    def __init__(self, engine: Engine, claim: queue.Claim, lease: timedelta) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(engine, claim, lease), name=f"lease-{claim.id}", daemon=True
        )
        self._thread.start()

    def _beat(self, engine: Engine, claim: queue.Claim, lease: timedelta) -> None:
        interval = max(lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            try:
                if not queue.extend_lease(engine, claim, lease):
                    # Finished meanwhile, or taken over after a stall: nothing to renew.
                    log.info("job %s: lease no longer ours", claim.id)
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
                log.exception("job %s: could not extend the lease", claim.id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _describe(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None)
    summary = f"{type(exc).__name__}: {detail or exc}"
    return summary + "\n" + "".join(traceback.format_exception(exc))[-3000:]


def run_claimed(
    engine: Engine, settings: Settings, claim: queue.Claim, *, reraise: bool = False
) -> bool:
    """Run a claimed job in one transaction that also marks it done; True if it finished.

    A failure rolls the transaction back and queues a retry with backoff (or ends the job
    ``failed``); ``reraise`` passes the exception on, for a caller running the job inline.
    """
    discover()
    spec = HANDLERS.get(claim.kind) or HandlerSpec(fn=_unknown(claim.kind), max_attempts=1)
    if queue.give_up_if_exhausted(engine, claim, spec.max_attempts):
        return False
    heartbeat = _Heartbeat(engine, claim, lease_of(settings))
    try:
        with Session(engine, expire_on_commit=False) as session:
            try:
                spec.fn(session, settings, claim.payload)
                if not queue.mark_done(session, claim):
                    # Our lease lapsed and another worker took the job: its run counts.
                    session.rollback()
                    return False
                session.commit()
                return True
            except Exception as exc:
                session.rollback()
                retrying = queue.record_failure(
                    engine, claim, _describe(exc), max_attempts=spec.max_attempts,
                    retry_seconds=settings.job_retry_seconds,
                )
                log.warning("job %s (%s) failed%s: %s", claim.id, claim.kind,
                            ", will retry" if retrying else "", exc)
                if reraise:
                    raise
                return False
    finally:
        heartbeat.stop()


def _unknown(kind: str) -> Handler:
    def fail(*_args: object) -> None:
        raise LookupError(f"No handler is registered for jobs of kind {kind!r}.")

    return fail


def schedule_periodic(engine: Engine, seen: dict[str, int] | None = None) -> None:
    """Enqueue each periodic job for the current time slot (a no-op if already there).

    ``seen`` remembers the slots this worker scheduled, so an idle worker does not write
    every tick (on SQLite every write takes the one write lock).
    """
    now = clock.now()
    due: list[tuple[str, int, float]] = []
    for spec in PERIODICS.values():
        period = spec.every.total_seconds()
        slot = int((now - EPOCH).total_seconds() // period)
        if seen is None or seen.get(spec.kind) != slot:
            due.append((spec.kind, slot, period))
    if not due:
        return
    with Session(engine) as session:
        for kind, slot, period in due:
            queue.enqueue(session, kind, {"slot": slot}, key=f"{kind}@{slot}",
                          run_at=EPOCH + timedelta(seconds=slot * period))
        session.commit()
    if seen is not None:
        seen.update({kind: slot for kind, slot, _period in due})


class Worker:
    """One worker loop; several may run in one process, across processes and machines."""

    def __init__(self, engine: Engine, settings: Settings, *, name: str | None = None,
                 periodic: bool = True) -> None:
        discover()
        self.engine = engine
        self.settings = settings
        self.name = name or worker_name()
        self.periodic = periodic
        self._slots: dict[str, int] = {}

    def tick(self) -> int:
        """Do one round of work: pollers, then at most one job. Returns how much was done."""
        if self.periodic:
            schedule_periodic(self.engine, self._slots)
        done = 0
        for name, poll in POLLERS.items():
            try:
                done += poll(self.engine, self.settings)
            except Exception:  # noqa: BLE001 - one broken poller must not stop the jobs
                log.exception("poller %s failed", name)
        claim = queue.claim(self.engine, self.name, lease_of(self.settings))
        if claim is not None:
            run_claimed(self.engine, self.settings, claim)
            done += 1
        return done

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, resting ``job_poll_seconds`` whenever idle."""
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                busy = self.tick()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: rest and retry
                log.exception("worker %s: tick failed", self.name)
                busy = 0
            if not busy:
                stop.wait(self.settings.job_poll_seconds)
        log.info("worker %s stopped", self.name)


def lease_of(settings: Settings) -> timedelta:
    """How long a claim holds a job before others may take it over."""
    return timedelta(seconds=settings.job_lease_seconds)


def wait_for(engine: Engine, job_id: int, *, timeout: float, poll: float = 0.2) -> JobStatus:
    """Wait (real time) until a job is done or failed, for a caller that must answer with
    its result; returns the final status, or the current one at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        status, _error = queue.job_status(engine, job_id)
        if status in (JobStatus.DONE, JobStatus.FAILED) or time.monotonic() > deadline:
            return status
        time.sleep(poll)


def run_until_idle(
    engine: Engine, settings: Settings, *, max_ticks: int = 10_000, periodic: bool = True
) -> int:
    """Work in this thread until nothing is due; returns the number of ticks that did work."""
    worker = Worker(engine, settings, periodic=periodic)
    for busy in range(max_ticks):
        if not worker.tick():
            return busy
    raise RuntimeError(f"Still busy after {max_ticks} ticks.")


def start_embedded(engine: Engine, settings: Settings) -> Callable[[], None]:
    """Run a worker in a daemon thread of this process; returns the function that stops it."""
    stop = threading.Event()
    worker = Worker(engine, settings, name=f"{worker_name()}:embedded")
    thread = threading.Thread(target=worker.run, args=(stop,), name="lap-worker", daemon=True)
    thread.start()

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=60)

    return stop_worker
