"""Call-off by further competition among a framework lot's members.

Only the lot's active members bid (sealed until the deadline, one bid each, replaced in
place); after the deadline the requesting borough or an officer scores quality and awards,
with a reason when not to the top total; the winner's contract is issued at its bid price.
The maths is the tender's (``tenders.evaluation.rank_bids``) with the weights the request set.
"""

from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.errors import Conflict, Forbidden, Invalid
from lap_market.frameworks import contracting, notices, policy
from lap_market.frameworks.models import (
    CallOffRequest,
    CompetitionBid,
    Framework,
    FrameworkMember,
    MemberStatus,
    RequestStatus,
)
from lap_market.frameworks.schemas import CompetitionBidIn, CompetitionBidRead
from lap_market.frameworks.service import get_request, organisation_names
from lap_market.modeling import conditional_update, pk
from lap_market.money import from_pence, to_pence
from lap_market.tenders.evaluation import Ranked, Scored, rank_bids


def is_member(session: Session, actor: User, request: CallOffRequest) -> bool:
    """Whether the actor's organisation is an active member of the request's lot."""
    return session.exec(select(FrameworkMember.id).where(
        FrameworkMember.lot_id == request.lot_id,
        FrameworkMember.supplier_id == actor.organisation_id,
        FrameworkMember.status == MemberStatus.ACTIVE)).first() is not None


def is_closed(request: CallOffRequest) -> bool:
    return _closed(request)


def _closed(request: CallOffRequest) -> bool:
    return request.submission_deadline is not None and clock.now() >= request.submission_deadline


def _member(session: Session, actor: User, request: CallOffRequest) -> FrameworkMember:
    member = session.exec(select(FrameworkMember).where(
        FrameworkMember.lot_id == request.lot_id,
        FrameworkMember.supplier_id == actor.organisation_id,
        FrameworkMember.status == MemberStatus.ACTIVE)).first()
    if member is None:
        raise Forbidden("Only the lot's framework members may bid in this competition.")
    return member


def submit_bid(session: Session, actor: User, request_id: int,
               data: CompetitionBidIn) -> CompetitionBid:
    """A member's sealed bid, replaced in place until the deadline."""
    request = get_request(session, actor, request_id)
    member = _member(session, actor, request)
    policy.require_competing(request)
    if _closed(request):
        raise Conflict("The deadline for bids has passed.", field="submission_deadline")
    bid = session.exec(select(CompetitionBid).where(
        CompetitionBid.request_id == request.id,
        CompetitionBid.supplier_id == member.supplier_id)).first()
    if bid is None:
        bid = CompetitionBid(request_id=pk(request), member_id=pk(member),
                             supplier_id=member.supplier_id, submitted_by_id=pk(actor),
                             unit_price_pence=0, quality_statement="", submitted_at=clock.now())
    bid.unit_price_pence = to_pence(data.unit_price)
    bid.quality_statement = data.quality_statement
    bid.submitted_by_id = pk(actor)
    bid.submitted_at = clock.now()
    session.add(bid)
    try:
        session.flush()
    except IntegrityError as exc:  # the member's other session bid at the same moment
        raise Conflict("Your organisation's bid was just submitted: reload and try again.") \
            from exc
    # Sealed: the audit names neither price nor statement.
    audit.record(session, actor, action="framework.competition_bid", object_type="call_off_request",
                 object_id=request.id, details={"bid_id": bid.public_id})
    return bid


def _bids(session: Session, request: CallOffRequest) -> list[CompetitionBid]:
    return list(session.exec(select(CompetitionBid).where(
        CompetitionBid.request_id == request.id).order_by(col(CompetitionBid.id))).all())


def ranking(request: CallOffRequest, bids: list[CompetitionBid]) -> list[Ranked]:
    assert request.price_weight is not None and request.quality_weight is not None
    return rank_bids([Scored(pk(b), b.unit_price_pence, b.quality_score) for b in bids],
                     request.price_weight, request.quality_weight)


def bids_read(session: Session, actor: User, request_id: int) -> list[CompetitionBidRead]:
    """Before the deadline a member sees only its own bid; after it, the borough and officers
    see every bid ranked; members keep seeing only their own."""
    request = get_request(session, actor, request_id)
    bids = _bids(session, request)
    manager = policy.can_manage_request(actor, request) and _closed(request)
    ranked = {r.bid_id: r for r in ranking(request, bids)} if manager else {}
    labels = organisation_names(session, {b.supplier_id for b in bids})
    out = []
    for bid in bids:
        own = actor.organisation_id == bid.supplier_id
        if not (own or manager):
            continue
        r = ranked.get(pk(bid))
        out.append(CompetitionBidRead(
            id=bid.public_id, supplier=labels.get(bid.supplier_id),
            unit_price=from_pence(bid.unit_price_pence), quality_statement=bid.quality_statement,
            quality_score=bid.quality_score, total_score=r.total_score if r else None,
            rank=r.rank if r else None, submitted_at=bid.submitted_at, won=bid.won))
    return out


def _managed(session: Session, actor: User, request_id: int) -> CallOffRequest:
    request = get_request(session, actor, request_id)
    if not policy.can_manage_request(actor, request):
        raise Forbidden("Only the borough that called off, or an officer, evaluates it.")
    policy.require_competing(request)
    if not _closed(request):
        raise Conflict("Bids stay sealed until the deadline.", field="submission_deadline")
    return request


def _bid(session: Session, request: CallOffRequest, public_id: str) -> CompetitionBid:
    bid = session.exec(select(CompetitionBid).where(
        CompetitionBid.request_id == request.id, CompetitionBid.public_id == public_id)).first()
    if bid is None:
        raise Invalid("That bid is not a bid in this competition.", field="bid_id")
    return bid


def score(session: Session, actor: User, request_id: int, bid_id: str,
          quality_score: Decimal) -> CompetitionBid:
    request = _managed(session, actor, request_id)
    bid = _bid(session, request, bid_id)
    bid.quality_score = quality_score
    session.add(bid)
    session.flush()
    audit.record(session, actor, action="framework.competition_scored",
                 object_type="call_off_request", object_id=request.id,
                 details={"bid_id": bid.public_id, "quality_score": str(quality_score)})
    return bid


def award(session: Session, actor: User, request_id: int, bid_id: str,
          reason: str | None) -> CallOffRequest:
    """Award the competition and issue the winner's call-off (one award wins a race)."""
    request = _managed(session, actor, request_id)
    bids = _bids(session, request)
    if any(b.quality_score is None for b in bids):
        raise Conflict("Score every bid before awarding.")
    chosen = _bid(session, request, bid_id)
    rank = {r.bid_id: r.rank for r in ranking(request, bids)}[pk(chosen)]
    reason = (reason or "").strip() or None
    if rank != 1 and reason is None:
        raise Invalid("Give a reason for awarding to a bid that is not ranked first.",
                      field="reason")
    if not conditional_update(session, update(CallOffRequest).where(
            col(CallOffRequest.id) == request.id,
            col(CallOffRequest.status) == RequestStatus.COMPETING).values(
            status=RequestStatus.CALLED_OFF, award_reason=reason, updated_at=clock.now())):
        raise Conflict("This competition has just been awarded by someone else.")
    session.refresh(request)
    chosen.won = True
    session.add(chosen)
    framework = session.get(Framework, request.framework_id)
    member = session.get(FrameworkMember, chosen.member_id)
    assert framework is not None and member is not None
    audit.record(session, actor, action="framework.competition_awarded",
                 object_type="call_off_request", object_id=request.id,
                 details={"bid_id": chosen.public_id, "rank": rank, "reason": reason,
                          "unit_price": str(from_pence(chosen.unit_price_pence))})
    contract = contracting.issue(session, actor, framework, request, member,
                                 chosen.unit_price_pence)
    notices.called_off(session, framework, request, member.supplier_id, contract.reference)
    return request


def close_empty(session: Session) -> int:
    """Competitions past their deadline with no bid end ``no_supplier``; how many."""
    due = session.exec(select(CallOffRequest).where(
        CallOffRequest.status == RequestStatus.COMPETING,
        col(CallOffRequest.submission_deadline) <= clock.now(),
        col(CallOffRequest.id).not_in(select(CompetitionBid.request_id)))).all()
    for request in due:
        if conditional_update(session, update(CallOffRequest).where(
                col(CallOffRequest.id) == request.id,
                col(CallOffRequest.status) == RequestStatus.COMPETING).values(
                status=RequestStatus.NO_SUPPLIER, updated_at=clock.now())):
            session.refresh(request)
            framework = session.get(Framework, request.framework_id)
            assert framework is not None
            audit.record(session, None, action="framework.call_off_no_supplier",
                         object_type="call_off_request", object_id=request.id,
                         organisation_id=request.borough_id, details={"route": request.route})
            notices.no_supplier(session, framework, request)
    return len(due)
