"""The durable job queue: one row per piece of work that runs outside a request."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import id_field, json_field, long_text, text, timestamp


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(SQLModel, table=True):
    """A job: queued until ``run_at``, then leased by one worker until done or failed.

    A worker holds a job only while ``lease_until`` is in the future and keeps extending it;
    once the lease lapses (the worker was killed) any worker may take the job over.
    """

    __table_args__ = (sa.Index("ix_job_status_run_at", "status", "run_at"),)

    id: int | None = id_field()
    kind: str = text(80)
    payload: dict[str, Any] = json_field()
    # Idempotent scheduling: a second enqueue with the same key is a no-op.
    key: str | None = Field(default=None, max_length=200, unique=True, nullable=True)
    status: str = text(20, default=JobStatus.QUEUED)
    attempts: int = Field(default=0)
    run_at: datetime = timestamp()
    lease_until: datetime | None = timestamp(nullable=True)
    locked_by: str | None = Field(default=None, max_length=120, nullable=True)
    last_error: str | None = long_text(nullable=True)
    created_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)
