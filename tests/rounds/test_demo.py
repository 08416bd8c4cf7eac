"""The demo has an open demand round with some returns, loaded once."""

from sqlmodel import Session, func, select

from lap_market.demo import load_demo
from lap_market.rounds.models import DemandRound, RoundReturn


def test_demo_round_with_returns(app) -> None:  # type: ignore[no-untyped-def]
    with Session(app.state.engine) as session:
        load_demo(session)
        session.commit()
        load_demo(session)
        session.commit()
        rounds = session.exec(select(DemandRound)).all()
        assert [(r.reference[:4], r.status) for r in rounds] == [("RND-", "open")]
        statuses = dict(session.exec(select(RoundReturn.status, func.count())
                                     .group_by(RoundReturn.status)).all())
        assert statuses == {"confirmed": 1, "in_progress": 1, "nil_return": 1,
                            "not_responded": 30}
