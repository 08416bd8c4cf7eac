"""Demo contracts: a joint tender taken all the way to call-offs (in the past, through the
real services of every domain), and direct commissions of LMA's catalogue offers."""

import logging
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Role, User
from lap_market.aggregation import service as aggregation
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.catalogue.models import Category, CategoryUnit, Offer, OfferStatus
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.contracts import acceptance, call_offs, direct
from lap_market.contracts.models import Contract
from lap_market.contracts.schemas import DirectCommissionCreate
from lap_market.demand import service as demand_service
from lap_market.demand.schemas import DemandCreate
from lap_market.demo import DemoContext, at, story
from lap_market.errors import DomainError
from lap_market.modeling import pk
from lap_market.tenders import awards, bids, declarations, drafting, evaluation
from lap_market.tenders.models import Award, AwardStatus, Bid, Lot, LotStatus, Tender
from lap_market.tenders.schemas import AwardIn, BidIn, DeclarationIn, TenderUpdate

log = logging.getLogger("lap_market.demo")

# Borough needs for joint digitisation (gss code, images).
DIGITISATION_NEEDS = [
    ("E09000007", "18000"), ("E09000012", "12500"), ("E09000019", "9000"),
    ("E09000022", "15000"), ("E09000028", "7500"), ("E09000033", "21000"),
]
BIDS = [  # (provider email, unit price per image, quality score)
    ("capital@lap.example", "0.38", "78"),
    ("lma@lap.example", "0.42", "90"),
]


def seed(session: Session, ctx: DemoContext) -> None:
    """Call-offs from a completed joint tender, and direct commissions (skipped if any exist)."""
    if session.exec(select(func.count()).select_from(Contract)).one():
        return
    officer = ctx.users["officer@lap.example"]
    today = clock.today()
    with story("tender could not reach call-offs"):
        _tender_to_call_offs(session, ctx, officer, today)
    _direct_commissions(session, ctx, today)
    _issue_ready_lots(session, officer)


def _tender_to_call_offs(session: Session, ctx: DemoContext, officer: User, today: date) -> None:
    """Raise demand 45 days ago, tender and award it, and issue call-offs after standstill."""
    start = today - timedelta(days=45)
    clock.set(at(start))
    _raise_demand(session, ctx, service_start=today + timedelta(days=60))
    tender = _published_tender(session, officer, start, ctx.settings)
    lots = list(session.exec(select(Lot).where(Lot.tender_id == tender.id)).all())
    clock.set(at(start + timedelta(days=2)))
    _bid(session, ctx, tender, lots)
    clock.set(at(start + timedelta(days=11)))
    _award(session, ctx, officer, tender, lots)
    _call_off(session, officer, tender, lots)
    # Camden has accepted its call-off; the supplier has accepted every one.
    clock.set(clock.now() + timedelta(days=1))
    _accept_call_offs(session, ctx, tender)


def _raise_demand(session: Session, ctx: DemoContext, *, service_start: date) -> None:
    for gss_code, images in DIGITISATION_NEEDS:
        manager = ctx.manager(session, gss_code)
        if manager is None:
            continue
        demand_service.create_demand(session, manager, data=DemandCreate(
            category="digitisation", unit="image", quantity=Decimal(images),
            start_date=service_start, end_date=service_start + timedelta(days=364),
            specification="Digitisation of <fragile> bound volumes at 400 ppi, TIFF masters.",
        ))
    session.flush()


def _published_tender(session: Session, officer: User, start: date, settings: Settings) -> Tender:
    tender = aggregation.aggregate_demand(session, officer, filters=AggregateRequest(
        category="digitisation", unit="image", title="Joint digitisation of archive volumes 2027",
    ))
    drafting.update_tender(session, officer, pk(tender), data=TenderUpdate(
        clarification_deadline=at(start + timedelta(days=5), 12),
        submission_deadline=at(start + timedelta(days=10), 12),
    ))
    drafting.publish_tender(session, officer, pk(tender), settings=settings)
    session.flush()
    return tender


def _bid(session: Session, ctx: DemoContext, tender: Tender, lots: list[Lot]) -> None:
    for email, price, _score in BIDS:
        provider = ctx.users.get(email)
        if provider is None:
            continue
        for lot in lots:
            bids.submit_bid(session, provider, pk(tender), pk(lot), data=BidIn(
                unit_price=Decimal(price),
                quality_statement="Accredited studio, conservation-grade handling, "
                                  "FADGI 3-star imaging and weekly delivery of masters.",
            ))
    session.flush()


def _award(
    session: Session, ctx: DemoContext, officer: User, tender: Tender, lots: list[Lot]
) -> None:
    """Score every bid as planned and award each lot to its best."""
    scores = {ctx.users[email].organisation_id: Decimal(score) for email, _p, score in BIDS
              if email in ctx.users}
    # Bids are open: the officer declares (no conflict) before scoring and awarding.
    declarations.declare(session, officer, pk(tender),
                         data=DeclarationIn(conflict=False))
    for lot in lots:
        for bid in session.exec(select(Bid).where(Bid.lot_id == lot.id)).all():
            evaluation.score_bid(session, officer, bid.public_id,
                                 quality_score=scores.get(bid.provider_id, Decimal("70")))
        rows = evaluation.evaluation_rows(session, tender, lot)
        if rows:
            awards.award_lot(session, officer, pk(tender), pk(lot),
                                 data=AwardIn(bid_id=rows[0].bid_id), settings=ctx.settings)
    session.flush()


def _call_off(session: Session, officer: User, tender: Tender, lots: list[Lot]) -> None:
    """Issue each awarded lot's call-offs the day after its standstill."""
    for lot in lots:
        award = session.exec(
            select(Award).where(Award.lot_id == lot.id, Award.status == AwardStatus.STANDSTILL)
        ).first()
        if award is None:
            continue
        clock.set(at(award.standstill_ends + timedelta(days=1), 9))
        call_offs.issue_call_offs(session, officer, tender_id=pk(tender), lot_id=pk(lot))
        session.flush()


def _accept_call_offs(session: Session, ctx: DemoContext, tender: Tender) -> None:
    contracts = session.exec(select(Contract).where(Contract.tender_id == tender.id)).all()
    camden = ctx.manager(session, "E09000007")
    for contract in contracts:
        supplier = session.exec(
            select(User).where(User.organisation_id == contract.supplier_id,
                               User.role == Role.PROVIDER).order_by(col(User.id))
        ).first()
        if supplier is not None:
            acceptance.accept_contract(session, supplier, pk(contract))
        if camden is not None and contract.buyer_id == camden.organisation_id:
            acceptance.accept_contract(session, camden, pk(contract))
    session.flush()


def _lma_offer(session: Session, category: str, unit: str) -> Offer | None:
    lma = session.exec(select(Offer.provider_id).where(Offer.commissioned)).first()
    query = (
        select(Offer)
        .join(Category, col(Category.id) == Offer.category_id)
        .join(CategoryUnit, col(CategoryUnit.id) == Offer.unit_id)
        .where(Offer.status == OfferStatus.PUBLISHED, Category.code == category,
               CategoryUnit.code == unit)
        .order_by(col(Offer.id))
    )
    if lma is not None:
        query = query.where(Offer.provider_id == lma)
    return session.exec(query).first()


def _direct_commissions(session: Session, ctx: DemoContext, today: date) -> None:
    """Camden and Hackney commission LMA's conservation hours and items directly."""
    plans = [
        ("E09000007", "conservation", "hour", Decimal("120"), True),
        ("E09000012", "conservation", "item", Decimal("40"), False),
        ("E09000019", "conservation", "hour", Decimal("60"), False),
    ]
    lma_provider = ctx.users.get("lma@lap.example")
    for gss_code, category, unit, quantity, accepted in plans:
        manager = ctx.manager(session, gss_code)
        offer = _lma_offer(session, category, unit)
        if manager is None or offer is None:
            continue
        start = max(today + timedelta(days=14), offer.valid_from)
        end = start + timedelta(days=120)
        if offer.valid_until is not None:
            end = min(end, offer.valid_until)
        try:
            with session.begin_nested():
                contract = direct.commission_offer(
                    session, manager, settings=ctx.settings, data=DirectCommissionCreate(
                        offer_id=pk(offer), quantity=quantity, start_date=start, end_date=end,
                    ),
                )
        except DomainError as exc:
            log.warning("demo direct commission skipped: %s", exc.detail)
            continue
        if accepted:
            acceptance.accept_contract(session, manager, pk(contract))
            if lma_provider is not None and lma_provider.organisation_id == contract.supplier_id:
                acceptance.accept_contract(session, lma_provider, pk(contract))
    session.flush()


def _issue_ready_lots(session: Session, officer: User) -> None:
    """Issue call-offs for any other demo lot whose standstill has already ended."""
    for item in call_offs.lots_awaiting_call_offs(session, officer):
        if item.ready and item.lot.status == LotStatus.AWARDED:
            try:
                with session.begin_nested():
                    call_offs.issue_call_offs(
                        session, officer, tender_id=pk(item.tender), lot_id=pk(item.lot)
                    )
            except DomainError as exc:
                log.warning("demo call-offs for %s skipped: %s", item.tender.reference, exc.detail)
