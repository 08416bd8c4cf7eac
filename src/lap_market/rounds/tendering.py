"""One step from a closed round to a joint tender: its confirmed lines pooled into a draft."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.aggregation.planning import Line
from lap_market.aggregation.service import pool_lines
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict
from lap_market.modeling import pk, rowcount
from lap_market.rounds import policy
from lap_market.rounds.grid import origin
from lap_market.rounds.models import DemandRound, ReturnStatus, RoundReturn, RoundStatus
from lap_market.rounds.service import get_round, persist_closed
from lap_market.tenders.models import Tender


def confirmed_lines(session: Session, round_id: int) -> list[Line]:
    """The round's submitted lines of confirmed returns (never those of any other return)."""
    confirmed = select(RoundReturn.borough_id).where(
        RoundReturn.round_id == round_id, RoundReturn.status == ReturnStatus.CONFIRMED)
    rows = session.execute(
        sa.select(col(Demand.id), col(Demand.borough_id), col(Demand.unit_id),
                  col(Demand.quantity), col(Demand.start_date), col(Demand.end_date))
        .where(col(Demand.round_id) == round_id, col(Demand.status) == DemandStatus.SUBMITTED,
               col(Demand.borough_id).in_(confirmed))
    ).all()
    return [Line._make(row) for row in rows]


def _claim(session: Session, round_: DemandRound) -> None:
    """Move the round from closed to tendered: of two requests at once, exactly one wins."""
    result = session.execute(
        sa.update(DemandRound)
        .where(col(DemandRound.id) == round_.id, col(DemandRound.status) == RoundStatus.CLOSED)
        .values(status=RoundStatus.TENDERED, tendered_at=clock.now(), updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        session.refresh(round_)
        raise Conflict(f"Demand round {round_.reference} has already been pooled into a tender.",
                       field="status")


def aggregate_round(session: Session, actor: User, round_id: int) -> Tender:
    """Pool the confirmed lines of a closed round into a draft tender linked to the round."""
    policy.require_officer(actor)
    round_ = get_round(session, actor, round_id)
    now = clock.now()
    if policy.effective_status(round_, now) == RoundStatus.OPEN:
        raise Conflict(f"Demand round {round_.reference} is open until its close; it can be "
                       "pooled once closed.", field="closes_at")
    persist_closed(session, round_)
    _claim(session, round_)
    lines = confirmed_lines(session, round_id)
    if not lines:
        raise Conflict(f"No borough confirmed lines in demand round {round_.reference}; there "
                       "is nothing to pool.", field="responses")
    tender = pool_lines(session, actor, lines=lines, title=round_.title,
                        source={"round_id": round_id, "round": round_.reference})
    tender.description = origin(round_)
    session.add(tender)
    session.execute(
        sa.update(DemandRound).where(col(DemandRound.id) == round_id)
        .values(tender_id=tender.id).execution_options(synchronize_session=False)
    )
    session.refresh(round_)
    audit.record(session, actor, action="round.tendered", object_type="demand_round",
                 object_id=round_id, details={"reference": round_.reference,
                                              "tender": tender.reference,
                                              "tender_id": pk(tender), "lines": len(lines)})
    return tender
