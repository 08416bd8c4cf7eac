"""Frameworks as people read them, and call-off requests (either route) made under them."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.accounts.policy import is_provider
from lap_market.audit import service as audit
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.catalogue.pricing import term_days
from lap_market.clock import as_utc, clock
from lap_market.config import Settings
from lap_market.contracts.models import Contract
from lap_market.contracts.service import price
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.frameworks import cascade, notices, policy
from lap_market.frameworks.models import (
    CallOffOffer,
    CallOffRequest,
    Framework,
    FrameworkMember,
    MemberStatus,
    RequestStatus,
    Route,
)
from lap_market.frameworks.schemas import (
    CallOffCreate,
    CallOffRead,
    CallOffSummary,
    FrameworkLotRead,
    FrameworkRead,
    FrameworkSummary,
    MemberRead,
    OfferRead,
)
from lap_market.modeling import conditional_update, pk
from lap_market.money import from_pence
from lap_market.tenders.models import Award, AwardStatus, Lot, Tender
from lap_market.tenders.workdays import standstill_over

MIN_COMPETITION = timedelta(hours=24)  # members need at least a day to bid


# --- reading -------------------------------------------------------------------------------


def _members(session: Session, framework_ids: Sequence[int]) -> list[FrameworkMember]:
    return list(session.exec(
        select(FrameworkMember).where(col(FrameworkMember.framework_id).in_(framework_ids))
        .order_by(col(FrameworkMember.lot_id), col(FrameworkMember.rank))).all())


def get_framework(session: Session, actor: User, framework_id: int) -> Framework:
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("No such framework.")
    suppliers = {m.supplier_id for m in _members(session, [framework_id])}
    if not policy.can_see(actor, suppliers):
        raise NotFound("No such framework.")
    return framework


def organisation_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    return {pk(o): o.name for o in rows}


def _call_offs(session: Session, framework_ids: Sequence[int]) -> list[CallOffRequest]:
    return list(session.exec(
        select(CallOffRequest).where(col(CallOffRequest.framework_id).in_(framework_ids))
        .order_by(col(CallOffRequest.created_at).desc(), col(CallOffRequest.id).desc())).all())


def _contracts(session: Session, requests: Sequence[CallOffRequest]) -> dict[int, Contract]:
    ids = [r.contract_id for r in requests if r.contract_id is not None]
    if not ids:
        return {}
    rows = session.exec(select(Contract).where(col(Contract.id).in_(ids))).all()
    return {pk(c): c for c in rows}


def list_frameworks(session: Session, actor: User) -> list[FrameworkSummary]:
    """Every framework the actor may see, newest first, with its call-offs' total value."""
    frameworks = session.exec(select(Framework).order_by(col(Framework.id).desc())).all()
    ids = [pk(f) for f in frameworks]
    members = _members(session, ids)
    requests = _call_offs(session, ids)
    contracts = _contracts(session, requests)
    tenders = {pk(t): t for t in session.exec(
        select(Tender).where(col(Tender.id).in_([f.tender_id for f in frameworks]))).all()}
    today = clock.today()
    out = []
    for framework in frameworks:
        suppliers = {m.supplier_id for m in members if m.framework_id == framework.id}
        if not policy.can_see(actor, suppliers):
            continue
        own = [r for r in requests if r.framework_id == framework.id]
        value = sum((contracts[r.contract_id].value_pence for r in own
                     if r.contract_id in contracts), 0)
        out.append(FrameworkSummary(
            id=pk(framework), reference=framework.reference,
            title=tenders[framework.tender_id].title, start_date=framework.start_date,
            end_date=framework.end_date, status=policy.status(framework, today),
            call_off_count=sum(1 for r in own if r.contract_id is not None),
            call_off_value=from_pence(value)))
    return out


def framework_read(session: Session, actor: User, framework_id: int) -> FrameworkRead:
    framework = get_framework(session, actor, framework_id)
    tender = session.get(Tender, framework.tender_id)
    assert tender is not None
    members = _members(session, [framework_id])
    lots = {pk(lot): lot for lot in session.exec(
        select(Lot).where(col(Lot.id).in_({m.lot_id for m in members}))
        .order_by(col(Lot.number))).all()}
    requests = _call_offs(session, [framework_id])
    contracts = _contracts(session, requests)
    names = organisation_names(
        session, {m.supplier_id for m in members} | {r.borough_id for r in requests})
    categories = {pk(c): c.name for c in session.exec(select(Category)).all()}
    units = {pk(u): u.name for u in session.exec(select(CategoryUnit)).all()}
    lot_reads = [FrameworkLotRead(
        id=lot_id, number=lot.number, title=lot.title, category=categories[lot.category_id],
        unit=units[lot.unit_id],
        members=[member_read(m, names) for m in members if m.lot_id == lot_id])
        for lot_id, lot in lots.items()]
    summaries = [_summary(r, contracts, names) for r in requests]
    total = sum((contracts[r.contract_id].value_pence for r in requests
                 if r.contract_id in contracts), 0)
    return FrameworkRead(
        id=framework_id, reference=framework.reference, tender_id=framework.tender_id,
        title=tender.title, start_date=framework.start_date, end_date=framework.end_date,
        status=policy.status(framework, clock.today()),
        lots=lot_reads, call_offs=summaries, call_off_value=from_pence(total))


def member_read(member: FrameworkMember, names: dict[int, str]) -> MemberRead:
    return MemberRead(
        id=pk(member), rank=member.rank, supplier_id=member.supplier_id,
        supplier=names.get(member.supplier_id, ""),
        unit_price=from_pence(member.unit_price_pence), quality_score=member.quality_score,
        total_score=member.total_score, status=member.status,
        withdrawn_reason=member.withdrawn_reason)


def _summary(request: CallOffRequest, contracts: dict[int, Contract],
             names: dict[int, str]) -> CallOffSummary:
    contract = contracts.get(request.contract_id) if request.contract_id else None
    return CallOffSummary(
        id=pk(request), lot_id=request.lot_id, borough=names.get(request.borough_id, ""),
        route=request.route, status=request.status, quantity=request.quantity,
        contract_id=request.contract_id,
        contract_reference=contract.reference if contract else None,
        value=from_pence(contract.value_pence) if contract else None)


# --- requesting a call-off -----------------------------------------------------------------


def _lot_members(session: Session, framework: Framework, lot_id: int) -> list[FrameworkMember]:
    members = [m for m in _members(session, [pk(framework)]) if m.lot_id == lot_id]
    if not members:
        raise NotFound("This framework has no such lot.")
    return members


def _require_appointed(session: Session, members: Sequence[FrameworkMember]) -> None:
    """Members are appointed once the lot's standstill is over."""
    award = session.get(Award, members[0].award_id)
    assert award is not None
    if award.status != AwardStatus.STANDSTILL or not standstill_over(
            award.standstill_ends, clock.now(), awarded_at=award.awarded_at):
        raise Conflict("The lot's standstill period has not ended: its suppliers are not yet "
                       "appointed.")


def _check_terms(data: CallOffCreate) -> None:
    if data.start_date < clock.today():
        raise Invalid("The call-off cannot start in the past.", field="start_date")
    if data.end_date < data.start_date:
        raise Invalid("The end date must be on or after the start date.", field="end_date")


def _borough(session: Session, borough_id: int) -> None:
    organisation = session.get(Organisation, borough_id)
    if organisation is None or organisation.kind != OrgKind.BOROUGH:
        raise Invalid("No such borough.", field="borough_id")


def request_call_off(session: Session, actor: User, framework_id: int, lot_id: int,
                     data: CallOffCreate, settings: Settings) -> CallOffRequest:
    """Start a call-off by either route (see ``cascade`` and ``competition``)."""
    framework = get_framework(session, actor, framework_id)
    borough_id = policy.require_caller(actor, data.borough_id)
    _borough(session, borough_id)
    policy.require_live(framework, clock.today())
    members = _lot_members(session, framework, lot_id)
    _require_appointed(session, members)
    _check_terms(data)
    tender = session.get(Tender, framework.tender_id)
    assert tender is not None
    request = CallOffRequest(
        framework_id=framework_id, lot_id=lot_id, borough_id=borough_id,
        requested_by_id=pk(actor), route=data.route, quantity=Decimal(data.quantity),
        start_date=data.start_date, end_date=data.end_date, specification=data.specification,
        created_at=clock.now(), updated_at=clock.now(),
    )
    if data.route == "further_competition":
        _competition_terms(tender, data, request)
    session.add(request)
    session.flush()
    audit.record(session, actor, action="framework.call_off_requested",
                 object_type="call_off_request", object_id=request.id,
                 details={"framework": framework.reference, "lot_id": lot_id,
                          "borough_id": borough_id, "route": data.route,
                          "quantity": str(request.quantity)})
    if data.route == "direct_award":
        cascade.offer_next(session, framework, request, settings)
    else:
        active = {m.supplier_id for m in members if policy.is_active(m)}
        notices.competition_opened(session, framework, request, active)
    session.refresh(request)
    return request


def _competition_terms(tender: Tender, data: CallOffCreate, request: CallOffRequest) -> None:
    price_weight = tender.price_weight if data.price_weight is None else data.price_weight
    quality_weight = 100 - price_weight if data.quality_weight is None else data.quality_weight
    policy.weights_within(tender, price_weight, quality_weight)
    if data.submission_deadline is None:
        raise Invalid("Give the deadline for members' bids.", field="submission_deadline")
    deadline = as_utc(data.submission_deadline)
    if deadline < clock.now() + MIN_COMPETITION:
        raise Invalid("Give members at least 24 hours to bid.", field="submission_deadline")
    request.route = Route.FURTHER_COMPETITION
    request.status = RequestStatus.COMPETING
    request.price_weight, request.quality_weight = price_weight, quality_weight
    request.submission_deadline = deadline


def get_request(session: Session, actor: User, request_id: int) -> CallOffRequest:
    request = session.get(CallOffRequest, request_id)
    if request is None:
        raise NotFound("No such call-off.")
    members = {m.supplier_id for m in session.exec(select(FrameworkMember).where(
        FrameworkMember.lot_id == request.lot_id)).all()}
    if not policy.can_see_request(actor, request, members):
        if request.route == Route.FURTHER_COMPETITION:
            raise Forbidden("Only the lot's framework members may see this competition.")
        raise NotFound("No such call-off.")
    return request


def request_read(session: Session, actor: User, request_id: int) -> CallOffRead:
    request = get_request(session, actor, request_id)
    offers = session.exec(select(CallOffOffer).where(CallOffOffer.request_id == request.id)
                          .order_by(col(CallOffOffer.step))).all()
    # A member sees its own step of the cascade only; the borough and officers see them all.
    visible = [o for o in offers if policy.can_manage_request(actor, request)
               or policy.can_answer(actor, o)]
    names = organisation_names(session, {request.borough_id})
    return CallOffRead(
        id=pk(request), framework_id=request.framework_id, lot_id=request.lot_id,
        borough_id=request.borough_id, borough=names.get(request.borough_id, ""),
        route=request.route, status=request.status, quantity=request.quantity,
        start_date=request.start_date, end_date=request.end_date,
        specification=request.specification, created_at=request.created_at,
        contract_id=request.contract_id, offers=[offer_read(session, o) for o in visible],
        price_weight=request.price_weight, quality_weight=request.quality_weight,
        submission_deadline=request.submission_deadline, award_reason=request.award_reason)


def offer_read(session: Session, offer: CallOffOffer) -> OfferRead:
    request = session.get(CallOffRequest, offer.request_id)
    assert request is not None
    framework = session.get(Framework, request.framework_id)
    lot = session.get(Lot, request.lot_id)
    assert framework is not None and lot is not None
    names = organisation_names(session, {request.borough_id, offer.supplier_id})
    unit = session.get(CategoryUnit, lot.unit_id)
    assert unit is not None
    # The contract's own sum, shown to the member before it answers.
    priced = price(Decimal(request.quantity), offer.unit_price_pence, per_year=unit.per_year,
                   days=term_days(request.start_date, request.end_date))
    return OfferRead(
        id=offer.public_id, request_id=pk(request), framework_id=pk(framework),
        framework_reference=framework.reference, lot_id=pk(lot), lot_number=lot.number,
        lot_title=lot.title, borough=names.get(request.borough_id, ""),
        supplier=names.get(offer.supplier_id, ""), step=offer.step,
        unit_price=from_pence(offer.unit_price_pence), quantity=request.quantity,
        value=from_pence(priced.value_pence), start_date=request.start_date,
        end_date=request.end_date, specification=request.specification, status=offer.status,
        offered_at=offer.offered_at, expires_at=offer.expires_at,
        responded_at=offer.responded_at, reason=offer.reason)


def offers_for(session: Session, actor: User, status: str | None = None) -> list[OfferRead]:
    """Offers made to the actor's organisation (suppliers), newest first."""
    if not is_provider(actor):
        return []
    query = select(CallOffOffer).where(CallOffOffer.supplier_id == actor.organisation_id)
    if status:
        query = query.where(CallOffOffer.status == status)
    offers = session.exec(query.order_by(col(CallOffOffer.offered_at).desc())).all()
    return [offer_read(session, o) for o in offers]


# --- members -------------------------------------------------------------------------------


def withdraw_member(session: Session, actor: User, framework_id: int, member_id: int,
                    reason: str) -> FrameworkMember:
    """Take a member off the framework (officers, with a reason): the cascade skips it."""
    if not policy.can_withdraw_member(actor):
        raise Forbidden("Only procurement officers withdraw framework members.")
    framework = get_framework(session, actor, framework_id)
    member = session.get(FrameworkMember, member_id)
    if member is None or member.framework_id != framework.id:
        raise NotFound("No such framework member.")
    if not conditional_update(session, update(FrameworkMember).where(
            col(FrameworkMember.id) == member_id,
            col(FrameworkMember.status) == MemberStatus.ACTIVE).values(
            status=MemberStatus.WITHDRAWN, withdrawn_at=clock.now(),
            withdrawn_by_id=actor.id, withdrawn_reason=reason.strip())):
        raise Conflict("This member has already been withdrawn.")
    session.refresh(member)
    audit.record(session, actor, action="framework.member_withdrawn",
                 object_type="framework_member", object_id=member_id,
                 details={"framework": framework.reference, "lot_id": member.lot_id,
                          "supplier_id": member.supplier_id, "reason": member.withdrawn_reason})
    return member
