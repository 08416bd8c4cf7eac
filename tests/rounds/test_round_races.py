"""Races on a round end with exactly one winner: two officers pooling the same closed round
at once make one tender; a borough confirming while the close is stored either lands
before it or is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.demand import service as demand
from lap_market.demand.schemas import DemandCreate
from lap_market.errors import DomainError
from lap_market.rounds import returns, service, tendering
from lap_market.rounds.models import DemandRound, RoundReturn
from lap_market.tenders.models import Tender
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.factories.rounds import CLOSES, demand_round

CAMDEN = "E09000007"


def _race(app: Any, user_ids: list[int], act: Callable[[Session, User], object]) -> list[str]:
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def run(user_id: int) -> None:
        with Session(app.state.engine) as own:
            user = own.get(User, user_id)
            assert user is not None
            barrier.wait()
            try:
                act(own, user)
                own.commit()
                outcomes.append("won")
            except DomainError as exc:
                own.rollback()
                outcomes.append(f"refused {exc.status_code}")

    threads = [threading.Thread(target=run, args=(i,)) for i in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def _open_round_with_a_line(session: Session) -> tuple[int, User, list[User]]:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    officers = [f.officer(session), f.officer(session)]
    manager = f.manager(session, CAMDEN)
    make_offer(session, f.lma(session))
    round_ = demand_round(session, officers[0], borough_ids=[manager.organisation_id])
    demand.create_demand(session, manager, data=DemandCreate(
        category="storage", unit="linear_metre_year", quantity="40",  # type: ignore[arg-type]
        start_date=datetime(2027, 4, 1).date(), end_date=datetime(2028, 3, 31).date(),
        round_id=round_.id))
    session.commit()
    return int(round_.id), manager, officers  # type: ignore[arg-type]


@pytest.mark.postgres_only
def test_two_officers_pool_a_round_once(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    rid, manager, officers = _open_round_with_a_line(session)
    returns.confirm_return(session, manager, rid)
    session.commit()
    clock.set(CLOSES + timedelta(minutes=1))
    outcomes = _race(app, [int(o.id) for o in officers],  # type: ignore[arg-type]
                     lambda own, user: tendering.aggregate_round(own, user, rid))
    assert outcomes == ["refused 409", "won"]
    session.expire_all()
    assert len(session.exec(select(Tender)).all()) == 1
    stored = session.get(DemandRound, rid)
    assert stored is not None and stored.status == "tendered" and stored.tender_id is not None


@pytest.mark.postgres_only
def test_a_confirmation_racing_the_close(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    rid, manager, officers = _open_round_with_a_line(session)
    clock.set(CLOSES - timedelta(microseconds=1))

    def act(own: Session, user: User) -> object:
        if user.id == manager.id:
            return returns.confirm_return(own, user, rid)
        clock.set(CLOSES)  # the closing job's moment (shared clock: both see it after here)
        round_ = own.get(DemandRound, rid)
        assert round_ is not None
        return service.persist_closed(own, round_)

    outcomes = _race(app, [int(manager.id), int(officers[0].id)], act)  # type: ignore[arg-type]
    session.expire_all()
    answer = session.exec(select(RoundReturn).where(RoundReturn.round_id == rid)).one()
    stored = session.get(DemandRound, rid)
    assert stored is not None and stored.status == "closed"
    # Either the confirmation landed before the close, or it was refused naming the close.
    assert (outcomes, answer.status) in ((["won", "won"], "confirmed"),
                                         (["refused 409", "won"], "in_progress"))
