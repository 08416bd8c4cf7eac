"""Housekeeping of the job table itself."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.jobs.models import JobStatus
from lap_market.jobs.queue import JOB
from lap_market.jobs.registry import periodic

KEEP_FINISHED = timedelta(days=14)


@periodic("jobs.prune", every=timedelta(hours=6))
def prune_finished(session: Session, _settings: Settings) -> None:
    """Forget jobs that finished a fortnight ago (failed ones stay for inspection)."""
    session.execute(
        sa.delete(JOB).where(JOB.c.status == JobStatus.DONE.value,
                             JOB.c.finished_at < clock.now() - KEEP_FINISHED)
    )
