"""The durable job queue: idempotent scheduling, one transaction per run, retries with
backoff, lease takeover, periodic slots — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from lap_market import jobs
from lap_market.audit import service as audit
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.jobs import queue
from lap_market.jobs.models import Job
from lap_market.jobs.registry import HANDLERS, PERIODICS

NOTE = "test.note"
BROKEN = "test.broken"
TICK = "test.tick"
calls: dict[str, int] = {"broken": 0, "tick": 0}


@jobs.handler(NOTE)
def _note(session: Session, _settings: Any, payload: dict[str, Any]) -> None:
    audit.record(session, None, action="test.noted", object_type="test", object_id=payload["n"])


@jobs.handler(BROKEN, max_attempts=2)
def _broken(session: Session, _settings: Any, payload: dict[str, Any]) -> None:
    calls["broken"] += 1
    # Written, then rolled back with the failed run.
    audit.record(session, None, action="test.half_done", object_type="test", object_id=1)
    session.flush()
    raise RuntimeError("printer on fire")


def _events(session: Session, action: str) -> int:
    session.expire_all()
    return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _job(session: Session) -> Job:
    session.expire_all()
    return session.exec(select(Job).where(col(Job.kind).like("test.%"))).one()


def test_a_keyed_job_is_scheduled_once_even_by_racing_transactions(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def schedule() -> None:
        try:
            with Session(app.state.engine) as own:
                barrier.wait()
                jobs.enqueue(own, NOTE, {"n": 1}, key="note-once")
                own.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _job(session).key == "note-once"

    assert jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False) == 1
    assert _job(session).status == "done" and _job(session).attempts == 1
    assert _events(session, "test.noted") == 1
    # Done is done: another round finds nothing, and the key still blocks a second job.
    jobs.enqueue(session, NOTE, {"n": 2}, key="note-once")
    session.commit()
    assert jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False) == 0
    assert _events(session, "test.noted") == 1


def test_a_job_waits_for_its_time(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    jobs.enqueue(session, NOTE, {"n": 1}, run_at=clock.now() + timedelta(hours=2))
    session.commit()
    assert jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False) == 0
    clock.advance(timedelta(hours=2))
    assert jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False) == 1
    assert _events(session, "test.noted") == 1


def test_failures_roll_back_retry_with_backoff_then_fail(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    settings = app.state.settings.model_copy(update={"job_retry_seconds": 30})
    calls["broken"] = 0
    jobs.enqueue(session, BROKEN, {})
    session.commit()
    jobs.run_until_idle(app.state.engine, settings, periodic=False)
    job = _job(session)
    assert (job.status, job.attempts, calls["broken"]) == ("queued", 1, 1)
    assert as_utc(job.run_at) == clock.now() + timedelta(seconds=30)
    assert "printer on fire" in (job.last_error or "")
    assert _events(session, "test.half_done") == 0

    clock.advance(timedelta(seconds=29))
    jobs.run_until_idle(app.state.engine, settings, periodic=False)
    assert calls["broken"] == 1  # not yet due
    clock.advance(timedelta(seconds=1))
    jobs.run_until_idle(app.state.engine, settings, periodic=False)
    job = _job(session)
    assert (job.status, job.attempts, calls["broken"]) == ("failed", 2, 2)
    assert job.finished_at is not None and "RuntimeError: printer on fire" in (job.last_error or "")
    assert _events(session, "test.half_done") == 0


def test_a_lapsed_lease_is_taken_over_and_the_late_worker_loses(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    engine, settings = app.state.engine, app.state.settings
    jobs.enqueue(session, NOTE, {"n": 7})
    session.commit()
    lease = timedelta(seconds=settings.job_lease_seconds)
    slow = queue.claim(engine, "slow", lease)
    assert slow is not None
    assert queue.claim(engine, "other", lease) is None  # held
    clock.advance(lease + timedelta(seconds=1))  # the slow worker stopped renewing
    fast = queue.claim(engine, "fast", lease)
    assert fast is not None and fast.id == slow.id and fast.attempts == 2
    assert jobs.run_claimed(engine, settings, fast) is True
    # The slow worker wakes up and runs the job too: its "done" matches nothing, so its
    # effects roll back and the job's effects happen once.
    assert jobs.run_claimed(engine, settings, slow) is False
    assert _events(session, "test.noted") == 1
    job = _job(session)
    assert job.status == "done" and (job.locked_by or "").startswith("fast/")


def test_periodic_work_runs_once_per_slot_across_workers(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, 0, 30, tzinfo=UTC))
    calls["tick"] = 0

    @jobs.periodic(TICK, every=timedelta(hours=1))
    def tick(_session: Session, _settings: Any) -> None:
        calls["tick"] += 1

    try:
        workers = [jobs.Worker(app.state.engine, app.state.settings, name=f"w{n}")
                   for n in range(2)]

        def work() -> None:
            # Other domains' periodic jobs share the slots: tick until both workers idle.
            for _ in range(100):
                if not any([worker.tick() for worker in workers]):
                    return

        work()
        work()
        assert calls["tick"] == 1
        clock.advance(timedelta(minutes=59))
        work()
        assert calls["tick"] == 1
        clock.advance(timedelta(minutes=1))
        work()
        assert calls["tick"] == 2
        keys = session.exec(select(Job.key).where(Job.kind == TICK)).all()
        assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    finally:
        PERIODICS.pop(TICK, None)
        HANDLERS.pop(TICK, None)
