"""Issuing a lot's call-offs as a durable job, with visible progress.

The issuing transaction stays open until every PDF is rendered, so progress is written
to a ``CallOffBatch`` row through short sessions of its own that commit at once: pollers
(the page, the progress API, other workers) see "12 of 33" while the work goes on.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from lap_market import jobs
from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.contracts import call_offs, policy, service
from lap_market.contracts.call_offs import Progress
from lap_market.contracts.models import CallOffBatch, Contract
from lap_market.errors import DomainError, NotFound
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.tenders.models import Award, Lot, Tender
from lap_market.tenders.workdays import standstill_over

log = logging.getLogger("lap_market.contracts")

RUNNING, DONE, FAILED = "running", "done", "failed"


def engine_of(session: Session) -> Engine:
    """The engine behind a session (tests may bind one to a connection)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


# Someone in this process waiting on a batch it runs itself (the CLI's progress bar), by
# batch id: told of each rendered contract as the batch row is.
_watchers: dict[int, Progress] = {}


class BatchTracker:
    """A ``CallOffBatch`` row kept up to date through its own committed sessions."""

    def __init__(self, engine: Engine, batch_id: int) -> None:
        self.engine, self.finished, self.batch_id = engine, False, batch_id

    def _update(self, **values: Any) -> None:
        with Session(self.engine) as session:
            batch = session.get(CallOffBatch, self.batch_id)
            if batch is None:
                return
            for key, value in values.items():
                setattr(batch, key, value)
            session.add(batch)
            session.commit()

    def __call__(self, done: int, total: int) -> None:
        self._update(done=done, total=total)
        watcher = _watchers.get(self.batch_id)
        if watcher is not None:
            watcher(done, total)

    def finish(self, status: str, error: str | None = None) -> None:
        """Mark the batch done or failed (once)."""
        if self.finished:
            return
        self.finished = True
        self._update(status=status, error=error, finished_at=clock.now())


def latest_batch(session: Session, actor: User, *, tender_id: int, lot_id: int) -> CallOffBatch:
    """The most recent call-off batch of a lot, for officers (404 if none was started)."""
    policy.require_officer(actor, "Only procurement officers may follow call-off batches.")
    call_offs.load_lot(session, tender_id=tender_id, lot_id=lot_id)
    batch = session.exec(
        select(CallOffBatch)
        .where(CallOffBatch.lot_id == lot_id)
        .order_by(col(CallOffBatch.id).desc())
    ).first()
    if batch is None:
        raise NotFound("No call-offs have been issued for this lot yet.")
    return _as_seen(session, batch)


def _message(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    return f"Issuing failed and nothing was issued: {type(exc).__name__}: {exc}"


# --- the job -----------------------------------------------------------------------------
# Issuing runs as a durable job (lap_market.jobs), whether the page or the API asked: the
# batch row and its job are written together, a worker renders every PDF and writes the
# whole lot in one transaction that also marks the job done. A worker killed midway leaves
# nothing written; once its lease lapses the next worker issues the lot from the start.

ISSUE_JOB = "contracts.issue_call_offs"


def job_key(batch_id: int) -> str:
    """The job key of a batch (one job per batch)."""
    return f"call-offs:batch:{batch_id}"


def _new_batch(session: Session, actor: User, *, tender_id: int, lot_id: int,
               total: int) -> CallOffBatch:
    """Add a running batch and its job to ``session`` (committed by the caller)."""
    batch = CallOffBatch(lot_id=lot_id, started_by_id=pk(actor), started_at=clock.now(),
                         status=RUNNING, total=total)
    session.add(batch)
    session.flush()
    payload = {"batch_id": batch.id, "tender_id": tender_id, "lot_id": lot_id,
               "actor_id": actor.id}
    jobs.enqueue(session, ISSUE_JOB, payload, key=job_key(pk(batch)))
    audit.record(session, actor, action="call_offs.requested", object_type="lot",
                 object_id=lot_id, details={"tender_id": tender_id, "batch_id": batch.id,
                                            "pending": total})
    return batch


def run_issue(session: Session, payload: dict[str, Any]) -> None:
    """Issue a batch's lot and mark the batch done in the job's transaction (the handler
    in ``contracts.tasks``); a refusal or failure ends the batch ``failed`` with the reason."""
    tracker = BatchTracker(engine_of(session), payload["batch_id"])
    try:
        actor = session.get(User, payload["actor_id"])
        if actor is None:
            raise NotFound("The issuing officer no longer exists.")
        result = call_offs.issue_call_offs(
            session, actor, tender_id=payload["tender_id"], lot_id=payload["lot_id"],
            progress=tracker,
        )
    except Exception as exc:
        session.rollback()  # first: on SQLite the batch update would wait for our write lock
        tracker.finish(FAILED, _message(exc))
        raise
    batch = session.get(CallOffBatch, payload["batch_id"])
    if batch is not None:
        issued = len(result.issued)
        batch.status, batch.done, batch.total = DONE, issued, issued
        batch.finished_at = clock.now()
        session.add(batch)


@dataclass
class IssueOutcome:
    """What the API reports after issuing: the batch, how many were new, all contracts."""

    tender: Tender
    lot: Lot
    batch: CallOffBatch
    issued: int
    contracts: list[Contract]


def issue_now(session: Session, engine: Engine, settings: Settings, actor: User, *,
              tender_id: int, lot_id: int, progress: Progress | None = None) -> IssueOutcome:
    """Issue through the job and wait for it (the API and the CLI): this process runs the
    job itself unless a worker was quicker, telling ``progress`` as each contract renders.
    Refusals (403/404/409) come first and write nothing."""
    tender, lot, _award = call_offs.check_call_offs(session, actor, tender_id=tender_id,
                                                    lot_id=lot_id)
    pending = call_offs.pending_call_offs(session, lot_id)
    with Session(engine, expire_on_commit=False) as own:
        batch_id = pk(_new_batch(own, actor, tender_id=tender_id, lot_id=lot_id,
                                     total=pending))
        own.commit()
    _run_or_wait(engine, settings, batch_id, progress)
    session.expire_all()
    batch = session.get(CallOffBatch, batch_id)
    if batch is None or batch.status != DONE:
        raise RuntimeError(batch.error if batch else "The call-off batch vanished.")
    session.refresh(lot)
    session.refresh(tender)
    return IssueOutcome(tender=tender, lot=lot, batch=batch, issued=batch.done,
                        contracts=service.list_contracts(session, actor, lot_id=lot_id))


def _run_or_wait(
    engine: Engine, settings: Settings, batch_id: int, progress: Progress | None
) -> None:
    """Run the batch's job here, or wait for the worker that claimed it first."""
    job_id = jobs.job_id_for_key(engine, job_key(batch_id))
    claimed = jobs.claim(engine, f"{jobs.worker_name()}:api", jobs.lease_of(settings),
                         job_id=job_id)
    if claimed is None:
        jobs.wait_for(engine, job_id, timeout=settings.job_lease_seconds * 10)
        return
    if progress is not None:
        _watchers[batch_id] = progress
    try:
        jobs.run_claimed(engine, settings, claimed, reraise=True)
    finally:
        _watchers.pop(batch_id, None)


@dataclass
class CallOffView:
    """Everything the call-offs page shows for one lot."""

    tender: Tender
    lot: Lot
    award: Award | None
    supplier: Organisation | None
    unit_price: Decimal | None
    standstill_over: bool
    can_issue: bool  # awarded, not closed, something pending and no batch running
    pending: int
    batch: CallOffBatch | None
    contracts: list[Contract]


def _latest(session: Session, lot_id: int) -> CallOffBatch | None:
    return session.exec(
        select(CallOffBatch).where(CallOffBatch.lot_id == lot_id)
        .order_by(col(CallOffBatch.id).desc())
    ).first()


def _running(session: Session, batch: CallOffBatch | None) -> bool:
    """A batch runs while its job may still run; one whose job was given up does not."""
    if batch is None or batch.status != RUNNING:
        return False
    status = jobs.status_for_key(session, job_key(pk(batch)))
    return status is None or status in (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING)


GIVEN_UP = ("The workers issuing this lot kept stopping before they finished, so nothing was "
            "issued. Issue the call-offs again.")


def _as_seen(session: Session, batch: CallOffBatch) -> CallOffBatch:
    """The batch as people should see it: one whose job was given up shows as failed
    (a copy, not saved: reading a page changes nothing)."""
    if batch.status != RUNNING or _running(session, batch):
        return batch
    return CallOffBatch(**{**batch.model_dump(), "status": FAILED, "error": GIVEN_UP})


def call_off_view(session: Session, actor: User, *, tender_id: int, lot_id: int) -> CallOffView:
    """A lot's award, standstill, pending call-offs, latest batch and contracts, for officers."""
    policy.require_officer(actor)
    tender, lot = call_offs.load_lot(session, tender_id=tender_id, lot_id=lot_id)
    award = call_offs.current_award(session, lot_id)
    latest = _latest(session, lot_id)
    batch = _as_seen(session, latest) if latest is not None else None
    pending = call_offs.pending_call_offs(session, lot_id)
    running = batch is not None and batch.status == RUNNING
    return CallOffView(
        tender=tender, lot=lot, award=award,
        supplier=session.get(Organisation, award.supplier_id) if award else None,
        unit_price=from_pence(award.unit_price_pence) if award else None,
        standstill_over=award is not None and standstill_over(
            award.standstill_ends, clock.now(), awarded_at=award.awarded_at),
        can_issue=(award is not None and pending > 0 and not running
                   and lot.status not in call_offs.LOT_CLOSED_STATES),
        pending=pending, batch=batch,
        contracts=service.list_contracts(session, actor, lot_id=lot_id),
    )


def start_issue(session: Session, actor: User, *, tender_id: int, lot_id: int) -> int | None:
    """Check the lot may be called off (409 if not) and queue the issuing job in the
    caller's transaction, unless a batch is already running or nothing is pending;
    returns the new batch id."""
    call_offs.check_call_offs(session, actor, tender_id=tender_id, lot_id=lot_id)
    pending = call_offs.pending_call_offs(session, lot_id)
    if _running(session, _latest(session, lot_id)) or not pending:
        return None
    return pk(_new_batch(session, actor, tender_id=tender_id, lot_id=lot_id, total=pending))
