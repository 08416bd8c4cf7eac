"""A demo demand round, open for a month: Camden has confirmed its return, Hackney is still
adding lines, Islington needs nothing, and the rest of London has yet to answer."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from lap_market.accounts.models import Role, User
from lap_market.clock import clock
from lap_market.demand import service as demand
from lap_market.demand.schemas import DemandCreate
from lap_market.demo import DemoContext, ensure_user
from lap_market.modeling import pk
from lap_market.rounds import returns, service
from lap_market.rounds.models import DemandRound
from lap_market.rounds.schemas import RoundCreate

TERM = (date(2027, 4, 1), date(2030, 3, 31))
TITLE = "Storage and conservation 2027 to 2030"


def _manager(session: Session, ctx: DemoContext, gss_code: str, slug: str, name: str) -> User:
    email = f"{slug}@lap.example"
    user = ctx.users.get(email) or ensure_user(
        session, email=email, name=name, role=Role.BOROUGH_MANAGER,
        organisation=ctx.borough(gss_code))
    ctx.users[email] = user
    return user


def _line(category: str, unit: str, quantity: str, start: date, end: date) -> DemandCreate:
    return DemandCreate(category=category, unit=unit, quantity=Decimal(quantity), start_date=start,
                        end_date=end, specification="Demo return line.")


def seed(session: Session, ctx: DemoContext) -> None:
    """One open round with a few returns (skipped once any round exists)."""
    if session.exec(select(func.count()).select_from(DemandRound)).one():
        return
    officer = ctx.users["officer@lap.example"]
    round_ = service.open_round(session, officer, data=RoundCreate(
        title=TITLE, categories=["storage", "conservation"], term_start=TERM[0],
        term_end=TERM[1], closes_at=clock.now() + timedelta(days=30),
        guidance="Tell us the storage and conservation your service needs from April 2027. "
        "Confirm your return, or declare a nil return, before the close."))
    rid = pk(round_)
    camden = _manager(session, ctx, "E09000007", "camden", "Chloe Camden")
    for need in (_line("storage", "linear_metre_year", "120", *TERM),
                 _line("conservation", "hour", "80", TERM[0], date(2028, 3, 31))):
        demand.create_demand(session, camden, data=need.model_copy(update={"round_id": rid}))
    returns.confirm_return(session, camden, rid, budget_reference="CAM-ARC-2027-04")
    hackney = _manager(session, ctx, "E09000012", "hackney", "Hamid Hackney")
    demand.create_demand(session, hackney, data=_line(
        "storage", "linear_metre_year", "60", *TERM).model_copy(update={"round_id": rid}))
    islington = _manager(session, ctx, "E09000019", "islington", "Imogen Ismail")
    returns.declare_nil_return(session, islington, rid)
