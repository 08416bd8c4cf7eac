"""Call-off by direct award: the cascade.

A request goes to the lot's top-ranked active member at its framework price; the member
accepts or declines within ``cascade_working_days`` working days; on a decline or when the
offer lapses it goes to the next member, each step recorded and told; when no member is left
the request ends ``no_supplier``. Every move of an offer or a request is a conditional
UPDATE on its state, so an answer racing the lapse (or two answers) ends with one winner.
"""

from datetime import datetime, time

from sqlalchemy import update
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import LONDON, as_utc, clock, in_london
from lap_market.config import Settings
from lap_market.errors import Conflict, Forbidden, NotFound
from lap_market.frameworks import contracting, notices, policy
from lap_market.frameworks.models import (
    CallOffOffer,
    CallOffRequest,
    Framework,
    FrameworkMember,
    MemberStatus,
    OfferStatus,
    RequestStatus,
)
from lap_market.modeling import conditional_update, pk
from lap_market.tenders.workdays import add_working_days


def lapses_at(offered_at: datetime, working_days: int) -> datetime:
    """The same London time of day, ``working_days`` working days after the offer."""
    local = in_london(offered_at)
    day = add_working_days(local.date(), working_days)
    moment = datetime.combine(day, time(local.hour, local.minute, local.second), tzinfo=LONDON)
    return as_utc(moment)


def next_member(session: Session, request: CallOffRequest) -> FrameworkMember | None:
    """The best-ranked active member not yet asked for this request."""
    asked = select(CallOffOffer.member_id).where(CallOffOffer.request_id == request.id)
    return session.exec(
        select(FrameworkMember)
        .where(FrameworkMember.lot_id == request.lot_id,
               FrameworkMember.status == MemberStatus.ACTIVE,
               col(FrameworkMember.id).not_in(asked))
        .order_by(col(FrameworkMember.rank))
    ).first()


def offer_next(session: Session, framework: Framework, request: CallOffRequest,
               settings: Settings) -> CallOffOffer | None:
    """Offer the request to the next member, or end it ``no_supplier`` when none is left."""
    member = next_member(session, request)
    now = clock.now()
    if member is None:
        _finish(session, request, RequestStatus.NO_SUPPLIER)
        audit.record(session, None, action="framework.call_off_no_supplier",
                     object_type="call_off_request", object_id=request.id,
                     organisation_id=request.borough_id,
                     details={"framework": framework.reference})
        notices.no_supplier(session, framework, request)
        return None
    steps = session.exec(select(CallOffOffer.id).where(
        CallOffOffer.request_id == request.id)).all()
    offer = CallOffOffer(
        request_id=pk(request), member_id=pk(member), supplier_id=member.supplier_id,
        step=len(steps) + 1, unit_price_pence=member.unit_price_pence, offered_at=now,
        expires_at=lapses_at(now, settings.cascade_working_days),
    )
    session.add(offer)
    session.flush()
    audit.record(session, None, action="framework.call_off_offered", object_type="call_off_offer",
                 object_id=offer.public_id, organisation_id=request.borough_id,
                 details={"request_id": request.id, "step": offer.step, "rank": member.rank,
                          "supplier_id": member.supplier_id,
                          "expires_at": offer.expires_at.isoformat()})
    notices.offer_made(session, framework, offer)
    return offer


def _finish(session: Session, request: CallOffRequest, status: RequestStatus) -> None:
    if not conditional_update(session, update(CallOffRequest).where(
            col(CallOffRequest.id) == request.id,
            col(CallOffRequest.status).in_([RequestStatus.OFFERED, RequestStatus.COMPETING]))
            .values(status=status, updated_at=clock.now())):
        raise Conflict("This call-off has just been settled another way.")
    session.refresh(request)


def get_offer(session: Session, actor: User, public_id: str) -> CallOffOffer:
    """The offer, for the member it was made to (and officers, and the borough)."""
    offer = session.exec(select(CallOffOffer).where(CallOffOffer.public_id == public_id)).first()
    if offer is None:
        raise NotFound("No such call-off offer.")
    request = session.get(CallOffRequest, offer.request_id)
    assert request is not None
    if not (policy.can_answer(actor, offer) or policy.can_manage_request(actor, request)):
        raise NotFound("No such call-off offer.")
    return offer


def _settle(session: Session, offer: CallOffOffer, status: OfferStatus, actor: User | None,
            reason: str | None) -> None:
    """Move a pending offer on; refused if it was answered or lapsed meanwhile."""
    now = clock.now()
    query = update(CallOffOffer).where(col(CallOffOffer.id) == offer.id,
                                       col(CallOffOffer.status) == OfferStatus.PENDING)
    if status != OfferStatus.EXPIRED:  # an answer counts only before the offer lapses
        query = query.where(col(CallOffOffer.expires_at) > now)
    if not conditional_update(session, query.values(
            status=status, responded_at=now, reason=reason,
            responded_by_id=actor.id if actor else None)):
        session.refresh(offer)
        if offer.status == OfferStatus.PENDING:
            raise Conflict("This offer lapsed before your answer arrived.")
        raise Conflict(f"This offer has already been {offer.status}.")
    session.refresh(offer)


def _context(session: Session, offer: CallOffOffer) -> tuple[CallOffRequest, Framework]:
    request = session.get(CallOffRequest, offer.request_id)
    assert request is not None
    framework = session.get(Framework, request.framework_id)
    assert framework is not None
    return request, framework


def accept(session: Session, actor: User, public_id: str) -> CallOffOffer:
    """The member takes the call-off: its contract is issued at the framework price."""
    offer = get_offer(session, actor, public_id)
    if not policy.can_answer(actor, offer):
        raise Forbidden("Only the supplier the offer was made to may accept it.")
    policy.require_pending(offer)
    _settle(session, offer, OfferStatus.ACCEPTED, actor, None)
    request, framework = _context(session, offer)
    _finish(session, request, RequestStatus.CALLED_OFF)
    member = session.get(FrameworkMember, offer.member_id)
    assert member is not None
    audit.record(session, actor, action="framework.call_off_accepted",
                 object_type="call_off_offer", object_id=offer.public_id,
                 details={"request_id": request.id, "step": offer.step})
    contract = contracting.issue(session, actor, framework, request, member,
                                 offer.unit_price_pence)
    notices.called_off(session, framework, request, member.supplier_id, contract.reference)
    return offer


def decline(session: Session, actor: User, public_id: str, reason: str,
            settings: Settings) -> CallOffOffer:
    """The member declines with a reason; the request goes to the next member."""
    offer = get_offer(session, actor, public_id)
    if not policy.can_answer(actor, offer):
        raise Forbidden("Only the supplier the offer was made to may decline it.")
    policy.require_pending(offer)
    _settle(session, offer, OfferStatus.DECLINED, actor, reason.strip())
    audit.record(session, actor, action="framework.call_off_declined",
                 object_type="call_off_offer", object_id=offer.public_id,
                 details={"request_id": offer.request_id, "step": offer.step,
                          "reason": offer.reason})
    _pass_on(session, offer, settings)
    return offer


def _pass_on(session: Session, offer: CallOffOffer, settings: Settings) -> None:
    request, framework = _context(session, offer)
    notices.offer_passed_on(session, framework, request, offer)
    offer_next(session, framework, request, settings)


def lapse_due(session: Session, settings: Settings) -> int:
    """Expire every pending offer past its time and pass each request on; how many lapsed."""
    due = session.exec(
        select(CallOffOffer).where(CallOffOffer.status == OfferStatus.PENDING,
                                   col(CallOffOffer.expires_at) <= clock.now())
        .order_by(col(CallOffOffer.id))
    ).all()
    for offer in due:
        _settle(session, offer, OfferStatus.EXPIRED, None, None)
        audit.record(session, None, action="framework.call_off_lapsed",
                     object_type="call_off_offer", object_id=offer.public_id,
                     organisation_id=offer.supplier_id,
                     details={"request_id": offer.request_id, "step": offer.step})
        _pass_on(session, offer, settings)
    return len(due)


