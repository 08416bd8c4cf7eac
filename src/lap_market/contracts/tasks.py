"""Contracts' durable jobs."""

from typing import Any

from sqlmodel import Session

from lap_market import jobs
from lap_market.config import Settings
from lap_market.contracts import call_off_jobs


# Not retried on its own: a broken renderer or a refusal fails the same way again, so the
# batch shows the reason and the officer issues again. A worker that dies is different:
# its lease lapses and another worker runs the job from the start.
@jobs.handler(call_off_jobs.ISSUE_JOB, max_attempts=1)
def issue_call_offs(session: Session, _settings: Settings, payload: dict[str, Any]) -> None:
    """Issue one batch's call-offs."""
    call_off_jobs.run_issue(session, payload)
