"""Demo framework: a conservation framework awarded to three ranked suppliers two months
ago (through the real services), its pooled demand called off from the top-ranked one, and a
direct-award call-off already made under it, so the record, the cascade and the call-off
form all have something to show."""

import logging
from datetime import UTC, date, datetime, time, timedelta
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
from lap_market.demo import DemoContext
from lap_market.errors import DomainError
from lap_market.frameworks import cascade, service
from lap_market.frameworks.models import CallOffOffer, Framework
from lap_market.frameworks.schemas import CallOffCreate
from lap_market.modeling import pk
from lap_market.tenders import bids, declarations, evaluation
from lap_market.tenders import service as tenders
from lap_market.tenders.models import Bid, Lot
from lap_market.tenders.schemas import AwardIn, BidIn, DeclarationIn, TenderUpdate

log = logging.getLogger("lap_market.demo")

NEEDS = [("E09000007", "120"), ("E09000019", "80"), ("E09000033", "200")]  # hours of conservation
BIDS = [  # provider email, £ per hour, quality score
    ("thames@lap.example", "48.00", "85"),
    ("heritage@lap.example", "52.00", "90"),
    ("lma@lap.example", "55.00", "88"),
    ("bankside@lap.example", "61.00", "70"),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def seed(session: Session, ctx: DemoContext) -> None:
    """The demo framework (skipped if one exists)."""
    if session.exec(select(func.count()).select_from(Framework)).one():
        return
    frozen = getattr(clock, "_frozen", None)
    today = clock.today()
    try:
        _framework(session, ctx, today)
    except DomainError as exc:  # the demo must load even if another domain's rules moved on
        log.warning("demo framework could not be set up: %s", exc.detail)
    finally:
        if frozen is None:
            clock.reset()
        else:
            clock.set(frozen)


def _manager(session: Session, ctx: DemoContext, gss_code: str) -> User | None:
    borough = ctx.orgs.get(gss_code)
    if borough is None:
        return None
    return session.exec(select(User).where(User.organisation_id == borough.id,
                                           User.role == Role.BOROUGH_MANAGER)).first()


def _framework(session: Session, ctx: DemoContext, today: date) -> None:
    start = today - timedelta(days=60)
    clock.set(_at(start))
    officer = ctx.users["officer@lap.example"]
    term = (today + timedelta(days=30), today + timedelta(days=394))
    for gss_code, hours in NEEDS:
        manager = _manager(session, ctx, gss_code)
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
    tenders.update_tender(session, officer, tender_id, data=TenderUpdate(
        clarification_deadline=_at(start + timedelta(days=12), 12),
        submission_deadline=_at(start + timedelta(days=14), 12)))
    tenders.publish_tender(session, officer, tender_id, settings=ctx.settings)
    lot = session.exec(select(Lot).where(Lot.tender_id == tender_id)).one()
    clock.set(_at(start + timedelta(days=3)))
    for email, price, _score in BIDS:
        if email in ctx.users:
            bids.submit_bid(session, ctx.users[email], tender_id, lot.id or 0, data=BidIn(
                unit_price=Decimal(price), quality_statement="Accredited conservators (ICON), "
                "a dedicated studio and condition reports for every item."))
    clock.set(_at(start + timedelta(days=15)))
    # Bids are open: the officer declares (no conflict) before scoring and awarding.
    declarations.declare(session, officer, tender_id, data=DeclarationIn(conflict=False))
    scores = {ctx.users[e].organisation_id: Decimal(s) for e, _p, s in BIDS if e in ctx.users}
    for bid in session.exec(select(Bid).where(Bid.lot_id == lot.id)).all():
        evaluation.score_bid(session, officer, bid.public_id,
                             quality_score=scores.get(bid.provider_id, Decimal("70")))
    rows = evaluation.evaluation_rows(session, tender, lot)
    settings = ctx.settings
    award = evaluation.award_lot(session, officer, tender_id, lot.id or 0, settings=settings,
                                 data=AwardIn(bid_ids=[r.bid_id for r in rows[:3]]))
    clock.set(_at(award.standstill_ends + timedelta(days=1), 9))
    call_offs.issue_call_offs(session, officer, tender_id=tender_id, lot_id=lot.id or 0)
    _direct_award(session, ctx, officer, settings, term)
    _camden_accepts(session, ctx, tender_id)
    session.flush()


def _camden_accepts(session: Session, ctx: DemoContext, tender_id: int) -> None:
    """Camden and its suppliers have accepted Camden's contracts under the framework (the
    other boroughs' wait for them, to show the acceptance step)."""
    camden = _manager(session, ctx, "E09000007")
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
    manager = _manager(session, ctx, "E09000007")
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
