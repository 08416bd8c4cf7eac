"""The demo demand gives aggregation something real to pool: 12+ boroughs, four categories."""

from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation
from lap_market.catalogue.models import Category
from lap_market.demand import demo
from lap_market.demand.models import Demand
from lap_market.demo import DemoContext


def test_demo_demand_spans_boroughs_and_categories(session: Session) -> None:
    ctx = DemoContext(orgs={o.gss_code or o.name: o for o in session.exec(select(Organisation))})
    demo.seed(session, ctx)
    demo.seed_pipeline(session, ctx)
    session.flush()
    lines = session.exec(select(func.count()).select_from(Demand)).one()
    boroughs = session.exec(select(func.count(func.distinct(Demand.borough_id)))).one()
    categories = set(
        session.exec(
            select(Category.code).join(Demand, col(Demand.category_id) == col(Category.id))
        ).all()
    )
    statuses = set(session.exec(select(Demand.status)).all())
    assert boroughs >= 12
    assert categories == {"storage", "conservation", "digitisation", "training"}
    assert statuses == {"submitted"}
    # Idempotent: a second run (even with a fresh context) adds nothing.
    fresh = DemoContext(orgs=ctx.orgs)
    demo.seed(session, fresh)
    demo.seed_pipeline(session, fresh)
    assert session.exec(select(func.count()).select_from(Demand)).one() == lines
