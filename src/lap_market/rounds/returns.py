"""A borough's return to a round: the rules its demand lines must meet, un-confirming on
every change, confirming and declaring a nil return.

The demand service calls ``rules_for_lines`` and ``line_changed`` for lines with a
``round_id``; this module reads demand rows but never imports the demand service, so the
two stay free of import cycles.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.catalogue.models import Category
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import Conflict, Forbidden, NotFound
from lap_market.modeling import pk, rowcount
from lap_market.rounds import policy
from lap_market.rounds.models import (
    DemandRound,
    DemandRoundCategory,
    ReturnStatus,
    RoundReturn,
    RoundStatus,
)


@dataclass(frozen=True)
class LineRules:
    """What a line of one round must meet: one of its categories, a term inside its own."""

    round: DemandRound
    categories: dict[int, str]  # category id -> code

    def problems(self, category_id: int | None, start: date | None,
                 end: date | None) -> list[tuple[str, str]]:
        """(field, message) for each rule the line breaks."""
        found: list[tuple[str, str]] = []
        if category_id is not None and category_id not in self.categories:
            asked = ", ".join(sorted(self.categories.values()))
            found.append(("category", f"is not asked for by round {self.round.reference}; "
                                      f"use one of {asked}"))
        if start is not None and start < self.round.term_start:
            found.append(("start_date", f"must be on or after {self.round.term_start}, "
                                        f"the start of round {self.round.reference}'s term"))
        if end is not None and end > self.round.term_end:
            found.append(("end_date", f"must be on or before {self.round.term_end}, "
                                      f"the end of round {self.round.reference}'s term"))
        return found


def round_categories(session: Session, round_id: int) -> dict[int, str]:
    rows = session.exec(
        select(Category.id, Category.code)
        .join(DemandRoundCategory, col(DemandRoundCategory.category_id) == col(Category.id))
        .where(DemandRoundCategory.round_id == round_id)
    ).all()
    return {int(i): code for i, code in rows if i is not None}


def invitation(session: Session, round_id: int, borough_id: int) -> RoundReturn | None:
    return session.exec(
        select(RoundReturn).where(RoundReturn.round_id == round_id,
                                  RoundReturn.borough_id == borough_id)
    ).first()


def own_return(session: Session, actor: User, round_id: int) -> tuple[DemandRound, RoundReturn]:
    """The round and the manager's borough's return (404 no round, 403 not invited)."""
    policy.require_manager(actor)
    round_ = session.get(DemandRound, round_id)
    if round_ is None:
        raise NotFound(f"Demand round {round_id} not found.", field="round_id")
    answer = invitation(session, round_id, actor.organisation_id)
    if answer is None:
        raise Forbidden(f"Your borough is not invited to demand round {round_.reference}.",
                        field="round_id")
    return round_, answer


def rules_for_lines(session: Session, actor: User, round_id: int) -> LineRules:
    """The rules for adding or changing the manager's lines in a round; refuses a round
    that does not exist (404), one the borough is not invited to (403) or a closed one (409)."""
    round_, _answer = own_return(session, actor, round_id)
    policy.require_open(round_, clock.now())
    return LineRules(round=round_, categories=round_categories(session, round_id))


def hold_open(session: Session, round_: DemandRound) -> None:
    """Touch the round only while it is open: the row lock orders this change against the
    closing job (PostgreSQL), and the condition refuses a change the close beat (409)."""
    now = clock.now()
    result = session.execute(
        sa.update(DemandRound)
        .where(col(DemandRound.id) == round_.id, col(DemandRound.status) == RoundStatus.OPEN,
               col(DemandRound.closes_at) > now)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise policy.closed_conflict(round_)


def line_changed(session: Session, actor: User, round_id: int) -> None:
    """A line of the borough's return was added, changed or withdrawn: the return is
    ``in_progress`` again until it is confirmed again."""
    round_, answer = own_return(session, actor, round_id)
    hold_open(session, round_)
    was = answer.status
    session.execute(
        sa.update(RoundReturn)
        .where(col(RoundReturn.id) == answer.id)
        .values(status=ReturnStatus.IN_PROGRESS, confirmed_by_id=None, confirmed_at=None,
                updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if was in (ReturnStatus.CONFIRMED, ReturnStatus.NIL_RETURN):
        audit.record(session, actor, action="round.return_unconfirmed", object_type="demand_round",
                     object_id=round_id, details={"reference": round_.reference, "was": was})
    session.refresh(answer)


def live_lines(session: Session, round_id: int, borough_id: int) -> int:
    """The borough's lines in the round that are not withdrawn."""
    return int(session.exec(
        select(func.count()).select_from(Demand).where(
            Demand.round_id == round_id, Demand.borough_id == borough_id,
            col(Demand.status) != DemandStatus.WITHDRAWN)
    ).one())


def confirm_return(session: Session, actor: User, round_id: int, *,
                   budget_reference: str | None = None) -> RoundReturn:
    """Confirm the borough's lines as its return, recording who and when."""
    round_, answer = own_return(session, actor, round_id)
    hold_open(session, round_)
    lines = live_lines(session, round_id, actor.organisation_id)
    if lines == 0:
        raise Conflict("The return has no lines to confirm: add your needs, or declare a nil "
                       "return if your borough needs nothing.", field="lines")
    _answer(session, answer, ReturnStatus.CONFIRMED, actor, budget_reference)
    audit.record(session, actor, action="round.return_confirmed", object_type="demand_round",
                 object_id=round_id, details={"reference": round_.reference, "lines": lines,
                                              "budget_reference": budget_reference})
    return answer


def declare_nil_return(session: Session, actor: User, round_id: int) -> RoundReturn:
    """Declare that the borough needs nothing in this round."""
    round_, answer = own_return(session, actor, round_id)
    hold_open(session, round_)
    lines = live_lines(session, round_id, actor.organisation_id)
    if lines:
        raise Conflict(f"The return has {lines} line{'s' if lines != 1 else ''}: withdraw "
                       "them before declaring a nil return.", field="lines")
    _answer(session, answer, ReturnStatus.NIL_RETURN, actor, None)
    audit.record(session, actor, action="round.nil_return", object_type="demand_round",
                 object_id=round_id, details={"reference": round_.reference})
    return answer


def _answer(session: Session, answer: RoundReturn, status: ReturnStatus, actor: User,
            budget_reference: str | None) -> None:
    now = clock.now()
    session.execute(
        sa.update(RoundReturn)
        .where(col(RoundReturn.id) == answer.id)
        .values(status=status, confirmed_by_id=pk(actor), confirmed_at=now,
                budget_reference=budget_reference, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(answer)
