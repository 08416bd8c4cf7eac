"""Durable jobs: work that runs outside a request and survives the process running it.

``enqueue`` in a transaction, ``@handler(kind)`` to run it, ``@periodic(kind, every)`` for
schedules; ``lap-market worker`` (or the embedded worker of ``lap-market serve``) works them.
"""

from lap_market.jobs.models import Job, JobStatus
from lap_market.jobs.queue import Claim, claim, enqueue, job_id_for_key, status_for_key
from lap_market.jobs.registry import discover, handler, periodic, poller
from lap_market.jobs.worker import (
    Worker,
    lease_of,
    run_claimed,
    run_until_idle,
    start_embedded,
    wait_for,
    worker_name,
)

__all__ = [
    "Claim", "Job", "JobStatus", "Worker", "claim", "discover", "enqueue", "handler",
    "job_id_for_key", "lease_of", "periodic", "poller", "run_claimed", "run_until_idle",
    "start_embedded", "status_for_key", "wait_for", "worker_name",
]
