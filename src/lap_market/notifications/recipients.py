"""Who is told: the people (active users) behind each organisation an event concerns."""

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, and_, col, or_, select

from lap_market.accounts.models import Organisation, Role, User
from lap_market.catalogue.models import Offer, OfferStatus
from lap_market.demand.models import Demand
from lap_market.tenders.models import Bid, BidStatus, Lot, Question


def people(session: Session, organisation_ids: Iterable[int], role: Role) -> list[User]:
    """Active users with ``role`` in any of the organisations."""
    wanted = sorted(set(organisation_ids))
    if not wanted:
        return []
    has_role: Any = User.role == role
    if role == Role.PROVIDER:  # a selling borough's managers are its providers too
        selling = select(Organisation.id).where(Organisation.can_provide == True)  # noqa: E712
        has_role = or_(has_role, and_(User.role == Role.BOROUGH_MANAGER,
                                      col(User.organisation_id).in_(selling)))
    return list(
        session.exec(
            select(User)
            .where(col(User.organisation_id).in_(wanted), has_role,
                   User.is_active == True)  # noqa: E712
            .order_by(col(User.id))
        ).all()
    )


def people_by_org(session: Session, organisation_ids: Iterable[int],
                  role: Role) -> dict[int, list[User]]:
    """``people`` grouped by organisation, in one query."""
    grouped: dict[int, list[User]] = {}
    for user in people(session, organisation_ids, role):
        grouped.setdefault(user.organisation_id, []).append(user)
    return grouped


def officers(session: Session) -> list[User]:
    """Every active procurement officer."""
    return list(
        session.exec(
            select(User)
            .where(User.role == Role.PROCUREMENT_OFFICER, User.is_active == True)  # noqa: E712
            .order_by(col(User.id))
        ).all()
    )


def tender_category_ids(session: Session, tender_id: int) -> set[int]:
    return set(session.exec(select(Lot.category_id).where(Lot.tender_id == tender_id)).all())


def offering_org_ids(session: Session, category_ids: Iterable[int]) -> set[int]:
    """Providers with a published offer in any of the categories."""
    wanted = sorted(set(category_ids))
    if not wanted:
        return set()
    return set(
        session.exec(
            select(Offer.provider_id).where(
                col(Offer.category_id).in_(wanted), Offer.status == OfferStatus.PUBLISHED
            )
        ).all()
    )


def bidder_org_ids(session: Session, tender_id: int, lot_id: int | None = None) -> set[int]:
    """Organisations holding an active bid in the tender (or one lot of it)."""
    query = select(Bid.provider_id).where(Bid.tender_id == tender_id,
                                          Bid.status == BidStatus.ACTIVE)
    if lot_id is not None:
        query = query.where(Bid.lot_id == lot_id)
    return set(session.exec(query).all())


def asker_org_ids(session: Session, tender_id: int) -> set[int]:
    return set(
        session.exec(select(Question.asked_by_org_id).where(Question.tender_id == tender_id)).all()
    )


def interested_provider_ids(session: Session, tender_id: int) -> set[int]:
    """Providers a tender concerns: those offering its categories, its bidders and askers."""
    return (
        offering_org_ids(session, tender_category_ids(session, tender_id))
        | bidder_org_ids(session, tender_id)
        | asker_org_ids(session, tender_id)
    )


def borough_ids_in(session: Session, *, tender_id: int, lot_id: int | None = None) -> set[int]:
    """Boroughs with demand in the tender (or one lot of it)."""
    query = select(Demand.borough_id).where(Demand.tender_id == tender_id)
    if lot_id is not None:
        query = query.where(Demand.lot_id == lot_id)
    return set(session.exec(query).all())
