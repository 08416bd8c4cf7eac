"""Demo framework: a conservation framework awarded to three ranked suppliers two months
ago (through the real services), its pooled demand called off from the top-ranked one, and a
direct-award call-off already made under it, so the record, the cascade and the call-off
form all have something to show."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from lap_market.accounts.models import Role, User
from lap_market.aggregation import service as aggregation
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.contracts import acceptance, call_offs
from lap_market.contracts.models import Contract
from lap_market.demand import service as demand_service
from lap_market.demand.schemas import DemandCreate
from lap_market.demo import DemoContext, at, story
from lap_market.frameworks import cascade, service
from lap_market.frameworks.models import CallOffOffer, Framework
from lap_market.frameworks.schemas import CallOffCreate
from lap_market.modeling import pk
from lap_market.tenders import awards, bids, declarations, drafting, evaluation
from lap_market.tenders.models import Bid, Lot
from lap_market.tenders.schemas import AwardIn, BidIn, DeclarationIn, TenderUpdate

NEEDS = [("E09000007", "120"), ("E09000019", "80"), ("E09000033", "200")]  # hours of conservation
BIDS = [  # provider email, £ per hour, quality score
    ("thames@lap.example", "48.00", "85"),
    ("heritage@lap.example", "52.00", "90"),
    ("lma@lap.example", "55.00", "88"),
    ("bankside@lap.example", "61.00", "70"),
]


def seed(session: Session, ctx: DemoContext) -> None:
    """The demo framework (skipped if one exists)."""
    if session.exec(select(func.count()).select_from(Framework)).one():
        return
    today = clock.today()
    with story("framework could not be set up"):
        _framework(session, ctx, today)


def _framework(session: Session, ctx: DemoContext, today: date) -> None:
    start = today - timedelta(days=60)
    clock.set(at(start))
    officer = ctx.users["officer@lap.example"]
    term = (today + timedelta(days=30), today + timedelta(days=394))
    for gss_code, hours in NEEDS:
        manager = ctx.manager(session, gss_code)
        if manager is not None:
            demand_service.create_demand(session, manager, data=DemandCreate(
                category="conservation", unit="hour", quantity=Decimal(hours),
                start_date=term[0], end_date=term[1],
                specification="Conservation of parchment deeds and bound registers."))
    session.flush()
    tender = aggregation.aggregate_demand(session, officer, filters=AggregateRequest(
        category="conservation", unit="hour", title="Conservation services framework 2026–2029",
        procedure="framework", framework_end=start + timedelta(days=3 * 365)))
    tender_id = tender.id or 0
    drafting.update_tender(session, officer, tender_id, data=TenderUpdate(
        clarification_deadline=at(start + timedelta(days=12), 12),
        submission_deadline=at(start + timedelta(days=14), 12)))
    drafting.publish_tender(session, officer, tender_id, settings=ctx.settings)
    lot = session.exec(select(Lot).where(Lot.tender_id == tender_id)).one()
    clock.set(at(start + timedelta(days=3)))
    for email, price, _score in BIDS:
        if email in ctx.users:
            bids.submit_bid(session, ctx.users[email], tender_id, lot.id or 0, data=BidIn(
                unit_price=Decimal(price), quality_statement="Accredited conservators (ICON), "
                "a dedicated studio and condition reports for every item."))
    clock.set(at(start + timedelta(days=15)))
    # Bids are open: the officer declares (no conflict) before scoring and awarding.
    declarations.declare(session, officer, tender_id, data=DeclarationIn(conflict=False))
    scores = {ctx.users[e].organisation_id: Decimal(s) for e, _p, s in BIDS if e in ctx.users}
    for bid in session.exec(select(Bid).where(Bid.lot_id == lot.id)).all():
        evaluation.score_bid(session, officer, bid.public_id,
                             quality_score=scores.get(bid.provider_id, Decimal("70")))
    rows = evaluation.evaluation_rows(session, tender, lot)
    settings = ctx.settings
    award = awards.award_lot(session, officer, tender_id, lot.id or 0, settings=settings,
                                 data=AwardIn(bid_ids=[r.bid_id for r in rows[:3]]))
    clock.set(at(award.standstill_ends + timedelta(days=1), 9))
    call_offs.issue_call_offs(session, officer, tender_id=tender_id, lot_id=lot.id or 0)
    _direct_award(session, ctx, officer, settings, term)
    _camden_accepts(session, ctx, tender_id)
    session.flush()


def _camden_accepts(session: Session, ctx: DemoContext, tender_id: int) -> None:
    """Camden and its suppliers have accepted Camden's contracts under the framework (the
    other boroughs' wait for them, to show the acceptance step)."""
    camden = ctx.manager(session, "E09000007")
    if camden is None:
        return
    for contract in session.exec(select(Contract).where(
            Contract.tender_id == tender_id, Contract.buyer_id == camden.organisation_id)).all():
        supplier = session.exec(select(User).where(
            User.organisation_id == contract.supplier_id, User.role == Role.PROVIDER)).first()
        if supplier is not None:
            acceptance.accept_contract(session, supplier, pk(contract))
        acceptance.accept_contract(session, camden, pk(contract))


def _direct_award(session: Session, ctx: DemoContext, officer: User, settings: Settings,
                  term: tuple[date, date]) -> None:
    """Camden calls off 40 more hours; the top-ranked supplier declines, the second accepts."""
    framework = session.exec(select(Framework)).one()
    manager = ctx.manager(session, "E09000007")
    if manager is None:
        return
    lot_id = service.framework_read(session, officer, framework.id or 0).lots[0].id
    request = service.request_call_off(session, manager, framework.id or 0, lot_id, CallOffCreate(
        quantity=Decimal("40"), start_date=term[0], end_date=term[1], route="direct_award",
        specification="Repair of two water-damaged rate books."), settings)
    for answer in ("decline", "accept"):
        offer = session.exec(select(CallOffOffer).where(
            CallOffOffer.request_id == request.id, CallOffOffer.status == "pending")).first()
        if offer is None:
            return
        supplier = session.exec(select(User).where(
            User.organisation_id == offer.supplier_id, User.role == Role.PROVIDER)).first()
        if supplier is None:
            return
        if answer == "decline":
            cascade.decline(session, supplier, offer.public_id, "Studio fully booked until "
                            "the spring.", settings)
        else:
            cascade.accept(session, supplier, offer.public_id)
