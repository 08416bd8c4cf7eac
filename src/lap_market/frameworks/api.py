"""JSON routes for frameworks: the record, call-offs by either route, offers, competitions."""

from fastapi import APIRouter

from lap_market.accounts.deps import CurrentUser, SettingsDep
from lap_market.db import SessionDep
from lap_market.frameworks import cascade, competition, service
from lap_market.frameworks.schemas import (
    CallOffCreate,
    CallOffRead,
    CompetitionAwardIn,
    CompetitionBidIn,
    CompetitionBidRead,
    CompetitionScoreIn,
    DeclineIn,
    FrameworkRead,
    FrameworkSummary,
    MemberRead,
    OfferRead,
    WithdrawMemberIn,
)
from lap_market.primitives import Id, Line

router = APIRouter(prefix="/api/v1", tags=["frameworks"])


@router.get("/frameworks", response_model=list[FrameworkSummary])
def list_frameworks(session: SessionDep, user: CurrentUser) -> list[FrameworkSummary]:
    """Frameworks you may see (officers and boroughs: all; suppliers: those they are on)."""
    return service.list_frameworks(session, user)


@router.get("/frameworks/{framework_id}", response_model=FrameworkRead)
def get_framework(session: SessionDep, user: CurrentUser, framework_id: Id) -> FrameworkRead:
    """Lots with members in rank order, prices and scores, and the call-offs made under it."""
    return service.framework_read(session, user, framework_id)


@router.post("/frameworks/{framework_id}/lots/{lot_id}/call-offs", response_model=CallOffRead,
             status_code=201)
def call_off(session: SessionDep, settings: SettingsDep, user: CurrentUser, framework_id: Id,
             lot_id: Id, data: CallOffCreate) -> CallOffRead:
    """Call off by direct award (the cascade) or by further competition among the members."""
    request = service.request_call_off(session, user, framework_id, lot_id, data, settings)
    return service.request_read(session, user, request.id or 0)


@router.post("/frameworks/{framework_id}/members/{member_id}/withdraw",
             response_model=MemberRead)
def withdraw_member(session: SessionDep, user: CurrentUser, framework_id: Id, member_id: Id,
                    data: WithdrawMemberIn) -> MemberRead:
    """Take a supplier off the framework with a reason (officers); the cascade skips it."""
    member = service.withdraw_member(session, user, framework_id, member_id, data.reason)
    names = service.organisation_names(session, {member.supplier_id})
    return service.member_read(member, names)


@router.get("/framework-call-offs/{request_id}", response_model=CallOffRead)
def get_call_off(session: SessionDep, user: CurrentUser, request_id: Id) -> CallOffRead:
    """A call-off request with the steps of its cascade (a member sees its own step)."""
    return service.request_read(session, user, request_id)


@router.get("/call-off-offers", response_model=list[OfferRead])
def my_offers(
    session: SessionDep, user: CurrentUser, status: Line | None = None
) -> list[OfferRead]:
    """Offers made to your organisation (suppliers), newest first."""
    return service.offers_for(session, user, status)


@router.get("/call-off-offers/{offer_id}", response_model=OfferRead)
def get_offer(session: SessionDep, user: CurrentUser, offer_id: Line) -> OfferRead:
    return service.offer_read(session, cascade.get_offer(session, user, offer_id))


@router.post("/call-off-offers/{offer_id}/accept", response_model=OfferRead)
def accept_offer(session: SessionDep, user: CurrentUser, offer_id: Line) -> OfferRead:
    """Take the call-off at your framework price: its contract is issued."""
    return service.offer_read(session, cascade.accept(session, user, offer_id))


@router.post("/call-off-offers/{offer_id}/decline", response_model=OfferRead)
def decline_offer(session: SessionDep, settings: SettingsDep, user: CurrentUser,
                  offer_id: Line, data: DeclineIn) -> OfferRead:
    """Decline with a reason: the call-off goes to the next supplier on the framework."""
    offer = cascade.decline(session, user, offer_id, data.reason, settings)
    return service.offer_read(session, offer)


@router.post("/framework-call-offs/{request_id}/bids", response_model=CompetitionBidRead)
def submit_bid(session: SessionDep, user: CurrentUser, request_id: Id,
               data: CompetitionBidIn) -> CompetitionBidRead:
    """A member's sealed bid in a further competition (replaced in place until the deadline)."""
    bid = competition.submit_bid(session, user, request_id, data)
    return next(b for b in competition.bids_read(session, user, request_id)
                if b.id == bid.public_id)


@router.get("/framework-call-offs/{request_id}/bids", response_model=list[CompetitionBidRead])
def list_bids(session: SessionDep, user: CurrentUser, request_id: Id) -> list[CompetitionBidRead]:
    """Your own bid; after the deadline, the borough and officers see all, ranked."""
    return competition.bids_read(session, user, request_id)


@router.post("/framework-call-offs/{request_id}/scores", response_model=list[CompetitionBidRead])
def score_bid(session: SessionDep, user: CurrentUser, request_id: Id,
              data: CompetitionScoreIn) -> list[CompetitionBidRead]:
    competition.score(session, user, request_id, data.bid_id, data.quality_score)
    return competition.bids_read(session, user, request_id)


@router.post("/framework-call-offs/{request_id}/award", response_model=CallOffRead)
def award_competition(session: SessionDep, user: CurrentUser, request_id: Id,
                      data: CompetitionAwardIn) -> CallOffRead:
    """Award the competition (a reason when not to the top total); the call-off is issued."""
    competition.award(session, user, request_id, data.bid_id, data.reason)
    return service.request_read(session, user, request_id)



