"""Who may see and do what with tenders: the one place these rules live."""

from typing import Any

from sqlmodel import Session, col, select

from lap_market.accounts.models import Role, User
from lap_market.accounts.policy import is_provider
from lap_market.demand.models import Demand
from lap_market.errors import Forbidden
from lap_market.tenders.models import Tender

# Admins may read tenders as officers do, but only officers act on them.
READ_ALL_ROLES = frozenset({Role.PROCUREMENT_OFFICER, Role.ADMIN})


def is_officer(user: User) -> bool:
    return user.role == Role.PROCUREMENT_OFFICER


def require_officer(user: User) -> None:
    """Only procurement officers run tenders."""
    if not is_officer(user):
        raise Forbidden("Only procurement officers may do this.")


def require_provider(user: User) -> None:
    """Only providers ask questions and bid."""
    if not is_provider(user):
        raise Forbidden("Only providers may do this.")


def visible_tenders(query: Any, user: User) -> Any:
    """Filter a ``select(Tender)`` to what ``user`` may see.

    Officers see every tender; providers every tender ever published (never drafts);
    borough managers the published tenders that hold their demand.
    """
    if user.role in READ_ALL_ROLES:
        return query
    if is_provider(user):  # a selling borough too: every tender it might bid for
        return query.where(col(Tender.published_at).is_not(None))
    if user.role == Role.BOROUGH_MANAGER:
        holding = select(Demand.tender_id).where(
            Demand.borough_id == user.organisation_id, col(Demand.tender_id).is_not(None)
        )
        return query.where(col(Tender.published_at).is_not(None), col(Tender.id).in_(holding))
    return query.where(col(Tender.id).is_(None))


def can_see_tender(session: Session, user: User, tender: Tender) -> bool:
    """Whether ``user`` may see ``tender`` at all."""
    query = visible_tenders(select(Tender.id).where(Tender.id == tender.id), user)
    return session.exec(query).first() is not None
