"""Who may see and do what with frameworks, and the rules a framework keeps."""

from datetime import date

from lap_market.accounts.models import User
from lap_market.accounts.policy import (
    acts_for,
    is_admin,
    is_borough_manager,
    is_officer,
    is_provider,
    require,
)
from lap_market.errors import Conflict, Invalid
from lap_market.frameworks.models import (
    CallOffOffer,
    CallOffRequest,
    Framework,
    FrameworkMember,
    MemberStatus,
    OfferStatus,
    Procedure,
    RequestStatus,
)
from lap_market.tenders.models import Tender

MAX_YEARS = 4  # Procurement Act 2023 s.47: a framework lasts at most four years


def is_framework(tender: Tender) -> bool:
    return tender.procedure == Procedure.FRAMEWORK


def check_terms(tender: Tender, today: date) -> None:
    """A framework tender names an end, after today and at most four years ahead (so at most
    four years after any award made later)."""
    if not is_framework(tender):
        return
    if tender.framework_end is None:
        raise Invalid("A framework needs an end date.", field="framework_end")
    if tender.framework_end <= today:
        raise Invalid("The framework must end after today.", field="framework_end")
    if tender.framework_end > latest_end(today):
        raise Invalid(
            f"A framework lasts at most {MAX_YEARS} years: end it by "
            f"{latest_end(today):%-d %B %Y}.", field="framework_end",
        )


def latest_end(start: date) -> date:
    """Four years on; from 29 February, the 28th (the anniversary that exists)."""
    try:
        return start.replace(year=start.year + MAX_YEARS)
    except ValueError:
        return start.replace(year=start.year + MAX_YEARS, day=28)


def status(framework: Framework, today: date) -> str:
    return "active" if today <= framework.end_date else "expired"


def require_live(framework: Framework, today: date) -> None:
    """No call-off once the framework has ended (contracts made before run to their own end)."""
    if today > framework.end_date:
        raise Conflict(
            f"Framework {framework.reference} ended on {framework.end_date:%-d %B %Y} "
            "(framework_end): no more call-offs can be made under it.",
            field="framework_end",
        )


def can_see(actor: User, member_supplier_ids: set[int]) -> bool:
    """Officers, admins, every borough of the partnership, and the framework's members."""
    if is_officer(actor) or is_admin(actor) or is_borough_manager(actor):
        return True
    return is_provider(actor) and actor.organisation_id in member_supplier_ids


def require_caller(actor: User, borough_id: int | None) -> int:
    """The borough a call-off is for: a manager's own, or the one an officer names."""
    if is_borough_manager(actor):
        require(borough_id in (None, actor.organisation_id),
                "A borough manager calls off for their own borough only.")
        assert actor.organisation_id is not None
        return actor.organisation_id
    require(is_officer(actor), "Only borough managers and officers make call-offs.")
    if borough_id is None:
        raise Invalid("Name the borough this call-off is for.", field="borough_id")
    return borough_id


def can_withdraw_member(actor: User) -> bool:
    return is_officer(actor)


def can_call_off(actor: User) -> bool:
    return is_borough_manager(actor) or is_officer(actor)


def can_see_request(actor: User, request: CallOffRequest, member_ids: set[int]) -> bool:
    if is_officer(actor) or is_admin(actor):
        return True
    if is_borough_manager(actor):
        return acts_for(actor, request.borough_id)
    return is_provider(actor) and actor.organisation_id in member_ids


def can_manage_request(actor: User, request: CallOffRequest) -> bool:
    """The requesting borough's managers and officers evaluate and award a competition."""
    return is_officer(actor) or (is_borough_manager(actor) and acts_for(actor, request.borough_id))


def can_answer(actor: User, offer: CallOffOffer) -> bool:
    return is_provider(actor) and acts_for(actor, offer.supplier_id)


def require_pending(offer: CallOffOffer) -> None:
    if offer.status != OfferStatus.PENDING:
        raise Conflict(f"This offer has already been {offer.status}.")


def is_active(member: FrameworkMember) -> bool:
    return member.status == MemberStatus.ACTIVE


def require_competing(request: CallOffRequest) -> None:
    if request.status != RequestStatus.COMPETING:
        raise Conflict(f"This call-off is {request.status.replace('_', ' ')}, not in competition.")


def weights_within(framework_tender: Tender, price_weight: int, quality_weight: int) -> None:
    """A further competition's weights sum to 100 and stay within the range the tender set."""
    if price_weight + quality_weight != 100:
        raise Invalid("The price and quality weights must add up to 100.", field="price_weight")
    spread = framework_tender.framework_weight_range
    if abs(price_weight - framework_tender.price_weight) > spread:
        low = max(0, framework_tender.price_weight - spread)
        high = min(100, framework_tender.price_weight + spread)
        raise Invalid(f"The framework allows a price weight from {low} to {high}.",
                      field="price_weight")
