"""Enqueueing, claiming and finishing jobs, safely across processes and machines.

Claims: PostgreSQL picks a row with ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent
workers never queue behind one another; SQLite (one writer at a time) uses a conditional
``UPDATE … WHERE id = ? AND (queued or lease lapsed)``. Either way the row's ``locked_by``
token names the one claim that may finish the job: a worker whose lease lapsed and was
taken over finds its ``done`` update matches nothing, and rolls its effects back.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.jobs.models import Job, JobStatus
from lap_market.modeling import rowcount, table_of

log = logging.getLogger("lap_market.jobs")
JOB: sa.Table = table_of(Job)
# A job whose worker keeps dying (lease lapsing) is given up after this many extra starts,
# so one poisonous job cannot crash workers for ever.
LOST_LEASE_ALLOWANCE = 5
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Claim:
    """A job this worker holds: its id, kind, payload, start count and lease token."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    token: str


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> None:
    """Add a job in the caller's transaction; with ``key``, only if none has that key yet.

    The insert skips a duplicate key inside the database (``ON CONFLICT DO NOTHING``), so
    two transactions scheduling the same key at once leave exactly one job.
    """
    now = clock.now()
    values = {
        "kind": kind, "payload": payload, "key": key, "status": JobStatus.QUEUED.value,
        "attempts": 0, "run_at": run_at or now, "created_at": now,
    }
    if key is None:
        session.execute(sa.insert(JOB).values(**values))
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(JOB).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    queued = (JOB.c.status == JobStatus.QUEUED.value) & (JOB.c.run_at <= now)
    lapsed = (JOB.c.status == JobStatus.RUNNING.value) & (JOB.c.lease_until < now)
    return queued | lapsed


def claim(
    engine: Engine, worker: str, lease: timedelta, *, job_id: int | None = None
) -> Claim | None:
    """Lease the next due job (or job ``job_id`` if it is due) for ``worker``; commits."""
    token = f"{worker}/{uuid.uuid4().hex[:12]}"
    with Session(engine) as session:
        now = clock.now()
        query = sa.select(JOB.c.id).where(_claimable(now))
        if job_id is not None:
            query = query.where(JOB.c.id == job_id)
        query = query.order_by(JOB.c.run_at, JOB.c.id)
        if engine.dialect.name == "postgresql":
            candidates = session.execute(query.limit(1).with_for_update(skip_locked=True)).scalars()
        else:
            candidates = session.execute(query.limit(5)).scalars()
        for candidate in list(candidates):
            taken = session.execute(
                sa.update(JOB)
                .where(JOB.c.id == candidate, _claimable(now))
                .values(status=JobStatus.RUNNING.value, locked_by=token, lease_until=now + lease,
                        attempts=JOB.c.attempts + 1)
            )
            if rowcount(taken) == 1:
                row = session.execute(
                    sa.select(JOB.c.kind, JOB.c.payload, JOB.c.attempts)
                    .where(JOB.c.id == candidate)
                ).one()
                session.commit()
                return Claim(id=candidate, kind=row.kind, payload=dict(row.payload or {}),
                             attempts=row.attempts, token=token)
        session.rollback()
    return None


def extend_lease(engine: Engine, claim: Claim, lease: timedelta) -> bool:
    """Push the lease forward while the job runs; False if another worker took it over."""
    with Session(engine) as session:
        moved = session.execute(
            sa.update(JOB)
            .where(JOB.c.id == claim.id, JOB.c.locked_by == claim.token,
                   JOB.c.status == JobStatus.RUNNING.value)
            .values(lease_until=clock.now() + lease)
        )
        session.commit()
        return bool(rowcount(moved))


def mark_done(session: Session, claim: Claim) -> bool:
    """Mark the job done in the handler's own transaction; False if the lease was lost."""
    done = session.execute(
        sa.update(JOB)
        .where(JOB.c.id == claim.id, JOB.c.locked_by == claim.token,
               JOB.c.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.DONE.value, finished_at=clock.now(), lease_until=None)
    )
    return bool(rowcount(done))


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped at an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record_failure(
    engine: Engine, claim: Claim, error: str, *, max_attempts: int, retry_seconds: float
) -> bool:
    """After a failed run: queue a retry with backoff, or end ``failed``. True if retrying."""
    now = clock.now()
    retry = claim.attempts < max_attempts
    values: dict[str, Any] = {"last_error": error[:4000], "lease_until": None, "locked_by": None}
    if retry:
        values.update(status=JobStatus.QUEUED.value,
                      run_at=now + backoff(claim.attempts, retry_seconds))
    else:
        values.update(status=JobStatus.FAILED.value, finished_at=now)
    with Session(engine) as session:
        session.execute(
            sa.update(JOB)
            .where(JOB.c.id == claim.id, JOB.c.locked_by == claim.token)
            .values(**values)
        )
        session.commit()
    return retry


def give_up_if_exhausted(engine: Engine, claim: Claim, max_attempts: int) -> bool:
    """A job taken over too many times after its workers died ends ``failed``; True if so."""
    if claim.attempts <= max_attempts + LOST_LEASE_ALLOWANCE:
        return False
    record_failure(engine, claim, f"Gave up after {claim.attempts} starts: its workers kept "
                   "stopping before finishing.", max_attempts=0, retry_seconds=0)
    return True


def job_status(engine: Engine, job_id: int) -> tuple[JobStatus, str | None]:
    """A job's status and last error."""
    with Session(engine) as session:
        row = session.execute(
            sa.select(JOB.c.status, JOB.c.last_error).where(JOB.c.id == job_id)
        ).one()
        return JobStatus(row.status), row.last_error


def job_id_for_key(engine: Engine, key: str) -> int:
    """The id of the job scheduled under ``key``."""
    with Session(engine) as session:
        return int(session.execute(sa.select(JOB.c.id).where(JOB.c.key == key)).scalar_one())


def status_for_key(session: Session, key: str) -> JobStatus | None:
    """The status of the job under ``key`` (None if there is none)."""
    status = session.execute(sa.select(JOB.c.status).where(JOB.c.key == key)).scalar()
    return JobStatus(status) if status else None
