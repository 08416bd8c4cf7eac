"""“Needs your action” lists a round awaiting the borough's return (until it answers), and
for officers a round past its close that is not yet pooled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.errors import Conflict
from lap_market.notifications.actions import needs_action
from lap_market.rounds import returns, tendering
from tests.factories import accounts as f
from tests.factories.rounds import CLOSES, demand_round


def test_round_actions(session: Session) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    officer, camden = f.officer(session), f.manager(session, "E09000007")
    round_ = demand_round(session, officer, borough_ids=[camden.organisation_id])
    rid = int(round_.id)  # type: ignore[arg-type]
    assert [(i.label, i.href) for i in needs_action(session, camden)] == [
        ("Confirm your return to RND-2027-001: Storage 2027 to 2030", f"/rounds/{rid}#return")]
    assert needs_action(session, officer) == []
    returns.declare_nil_return(session, camden, rid)
    assert needs_action(session, camden) == []
    clock.set(CLOSES + timedelta(minutes=1))
    assert [(i.label, i.href) for i in needs_action(session, officer)] == [
        ("Pool demand round RND-2027-001 into a tender", f"/rounds/{rid}#pool")]
    with pytest.raises(Conflict) as refused:  # nothing was confirmed: nothing to pool
        tendering.aggregate_round(session, officer, rid)
    assert refused.value.field == "responses"
