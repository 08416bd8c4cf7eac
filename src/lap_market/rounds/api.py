"""JSON routes for demand rounds: open, read, answer, remind, extend, estimate, pool."""

from typing import Annotated

from fastapi import Body

from lap_market.accounts.deps import CurrentUser, api_router
from lap_market.db import SessionDep
from lap_market.rounds import estimate, grid, returns, service, tendering
from lap_market.rounds.schemas import (
    EstimateRead,
    ReminderResult,
    RoundConfirm,
    RoundCreate,
    RoundExtend,
    RoundRead,
    RoundSummary,
)

router = api_router("demand rounds")


def _read(session: SessionDep, user: CurrentUser, round_id: int) -> RoundRead:
    return grid.round_read(session, user, service.get_round(session, user, round_id))


@router.post("/demand-rounds", response_model=RoundRead, status_code=201)
def open_round(session: SessionDep, user: CurrentUser, data: RoundCreate) -> RoundRead:
    """Open a call for demand (officers). Every invited borough's managers are told."""
    round_ = service.open_round(session, user, data=data)
    return grid.round_read(session, user, round_)


@router.get("/demand-rounds", response_model=list[RoundSummary])
def list_rounds(session: SessionDep, user: CurrentUser) -> list[RoundSummary]:
    """Rounds you may see: all (officers) or those your borough is invited to."""
    return grid.summaries(session, user, service.list_rounds(session, user))


@router.get("/demand-rounds/{round_id}", response_model=RoundRead)
def get_round(session: SessionDep, user: CurrentUser, round_id: int) -> RoundRead:
    """One round with its response grid (a borough sees its own row)."""
    return _read(session, user, round_id)


@router.post("/demand-rounds/{round_id}/confirm", response_model=RoundRead)
def confirm(
    session: SessionDep, user: CurrentUser, round_id: int,
    data: Annotated[RoundConfirm | None, Body()] = None,
) -> RoundRead:
    """Confirm your borough's lines as its return (optionally with a budget reference)."""
    budget = data.budget_reference if data else None
    returns.confirm_return(session, user, round_id, budget_reference=budget)
    return _read(session, user, round_id)


@router.post("/demand-rounds/{round_id}/nil-return", response_model=RoundRead)
def nil_return(session: SessionDep, user: CurrentUser, round_id: int) -> RoundRead:
    """Declare that your borough needs nothing in this round."""
    returns.declare_nil_return(session, user, round_id)
    return _read(session, user, round_id)


@router.post("/demand-rounds/{round_id}/remind", response_model=ReminderResult)
def remind(session: SessionDep, user: CurrentUser, round_id: int) -> ReminderResult:
    """Remind every invited borough that has not confirmed (officers): one message each."""
    boroughs = service.remind(session, user, round_id)
    return ReminderResult(reminded=len(boroughs), boroughs=[b.gss_code or b.name for b in boroughs])


@router.post("/demand-rounds/{round_id}/extend", response_model=RoundRead)
def extend(session: SessionDep, user: CurrentUser, round_id: int, data: RoundExtend) -> RoundRead:
    """Move the close later, with a reason (officers); the boroughs are told."""
    service.extend(session, user, round_id, data=data)
    return _read(session, user, round_id)


@router.get("/demand-rounds/{round_id}/estimate", response_model=EstimateRead)
def get_estimate(session: SessionDep, user: CurrentUser, round_id: int) -> EstimateRead:
    """Per borough and category/unit: standalone value, pooled value, saving."""
    return estimate.estimate(session, user, service.get_round(session, user, round_id))


@router.post("/demand-rounds/{round_id}/aggregate", response_model=RoundRead, status_code=201)
def aggregate(session: SessionDep, user: CurrentUser, round_id: int) -> RoundRead:
    """Pool a closed round's confirmed lines into a draft tender linked to the round."""
    tendering.aggregate_round(session, user, round_id)
    return _read(session, user, round_id)
