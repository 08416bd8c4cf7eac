"""Issuing a lot's call-offs with visible progress.

The issuing transaction stays open until every PDF is rendered, so progress is written
to a ``CallOffBatch`` row through short sessions of its own that commit at once: pollers
(the page, the progress API, other workers) see "12 of 33" while the work goes on.
"""

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.clock import clock
from lap_market.contracts import call_offs, service
from lap_market.contracts.models import CallOffBatch, Contract
from lap_market.errors import DomainError, Forbidden, NotFound
from lap_market.money import from_pence
from lap_market.tenders.models import Award, Lot, Tender
from lap_market.tenders.workdays import standstill_over

log = logging.getLogger("lap_market.contracts")

RUNNING, DONE, FAILED = "running", "done", "failed"


def engine_of(session: Session) -> Engine:
    """The engine behind a session (tests may bind one to a connection)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


class BatchTracker:
    """A ``CallOffBatch`` row kept up to date through its own committed sessions."""

    def __init__(self, engine: Engine, *, lot_id: int, started_by_id: int, total: int = 0) -> None:
        self.engine = engine
        self.finished = False
        with Session(engine) as session:
            batch = CallOffBatch(lot_id=lot_id, started_by_id=started_by_id, started_at=clock.now(),
                                 status=RUNNING, total=total)
            session.add(batch)
            session.commit()
            self.batch_id: int = batch.id  # type: ignore[assignment]

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

    def finish(self, status: str, error: str | None = None) -> None:
        """Mark the batch done or failed (once)."""
        if self.finished:
            return
        self.finished = True
        self._update(status=status, error=error, finished_at=clock.now())


def latest_batch(session: Session, actor: User, *, tender_id: int, lot_id: int) -> CallOffBatch:
    """The most recent call-off batch of a lot, for officers (404 if none was started)."""
    if not service.is_officer(actor):
        raise Forbidden("Only procurement officers may follow call-off batches.")
    call_offs.load_lot(session, tender_id=tender_id, lot_id=lot_id)
    batch = session.exec(
        select(CallOffBatch)
        .where(CallOffBatch.lot_id == lot_id)
        .order_by(col(CallOffBatch.id).desc())
    ).first()
    if batch is None:
        raise NotFound("No call-offs have been issued for this lot yet.")
    return batch


def _message(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    return f"Issuing failed and nothing was issued: {type(exc).__name__}: {exc}"


def issue_tracked(
    session: Session, actor: User, *, tender_id: int, lot_id: int
) -> call_offs.CallOffResult:
    """Issue a lot's call-offs in the caller's transaction, recording progress.

    The batch is marked done when that transaction commits and failed if it rolls back.
    """
    call_offs.check_call_offs(session, actor, tender_id=tender_id, lot_id=lot_id)
    tracker = BatchTracker(
        engine_of(session), lot_id=lot_id, started_by_id=actor.id,  # type: ignore[arg-type]
        total=call_offs.pending_call_offs(session, lot_id),
    )

    def committed(_session: Session) -> None:
        event.remove(session, "after_rollback", rolled_back)
        tracker.finish(DONE)

    def rolled_back(_session: Session) -> None:
        event.remove(session, "after_commit", committed)
        tracker.finish(FAILED, tracker_error[0] or "Issuing was rolled back; nothing was issued.")

    tracker_error: list[str | None] = [None]
    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)
    try:
        return call_offs.issue_call_offs(
            session, actor, tender_id=tender_id, lot_id=lot_id, progress=tracker
        )
    except BaseException as exc:
        tracker_error[0] = _message(exc)
        raise


def start_background_issue(
    engine: Engine, actor: User, *, tender_id: int, lot_id: int, total: int = 0
) -> int:
    """Start issuing a lot's call-offs in a thread with its own session; returns the batch id.

    The caller checks ``call_offs.check_call_offs`` first so refusals show at once.
    """
    tracker = BatchTracker(
        engine, lot_id=lot_id, started_by_id=actor.id, total=total  # type: ignore[arg-type]
    )
    actor_id = actor.id

    def work() -> None:
        with Session(engine, expire_on_commit=False) as session:
            try:
                user = session.get(User, actor_id)
                if user is None:
                    raise NotFound("The issuing officer no longer exists.")
                call_offs.issue_call_offs(
                    session, user, tender_id=tender_id, lot_id=lot_id, progress=tracker
                )
                session.commit()
            except Exception as exc:  # noqa: BLE001 - any failure ends the batch as failed
                session.rollback()
                if not isinstance(exc, DomainError):
                    log.exception("call-off batch %s failed", tracker.batch_id)
                tracker.finish(FAILED, _message(exc))
                return
        tracker.finish(DONE)

    threading.Thread(target=work, name=f"call-offs-{lot_id}", daemon=True).start()
    return tracker.batch_id


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


def call_off_view(session: Session, actor: User, *, tender_id: int, lot_id: int) -> CallOffView:
    """A lot's award, standstill, pending call-offs, latest batch and contracts, for officers."""
    if not service.is_officer(actor):
        raise Forbidden("Only procurement officers may issue call-off contracts.")
    tender, lot = call_offs.load_lot(session, tender_id=tender_id, lot_id=lot_id)
    award = call_offs.current_award(session, lot_id)
    batch = _latest(session, lot_id)
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


def start_issue(session: Session, engine: Engine, actor: User, *, tender_id: int,
                lot_id: int) -> int | None:
    """Check the lot may be called off (409 if not) and start issuing in the background,
    unless a batch is already running or nothing is pending; returns the new batch id."""
    call_offs.check_call_offs(session, actor, tender_id=tender_id, lot_id=lot_id)
    latest = _latest(session, lot_id)
    pending = call_offs.pending_call_offs(session, lot_id)
    if (latest is not None and latest.status == RUNNING) or not pending:
        return None
    return start_background_issue(engine, actor, tender_id=tender_id, lot_id=lot_id,
                                  total=pending)
