"""Who may see and do what with tenders: the one place these rules live."""

from typing import Any

from sqlmodel import Session, col, select

from lap_market.accounts.models import Role, User
from lap_market.accounts.policy import is_provider
from lap_market.demand.models import Demand
from lap_market.errors import Forbidden
from lap_market.tenders.models import Declaration, Tender

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


def pools_own_demand(session: Session, user: User, lot_id: int) -> bool:
    """Whether the lot pools demand of ``user``'s own organisation (a borough that sells
    may not bid for what it is itself buying)."""
    own = select(Demand.id).where(
        Demand.lot_id == lot_id, Demand.borough_id == user.organisation_id
    )
    return session.exec(own.limit(1)).first() is not None


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


# --- conflicts of interest (Procurement Act 2023 s.81–83) -----------------------------------


def declaration_clears(declaration: Declaration | None) -> bool:
    """Declared, and either no conflict or a conflict another officer has mitigated."""
    if declaration is None:
        return False
    return not declaration.conflict or declaration.mitigated_at is not None


def can_score(officer: User, declaration: Declaration | None) -> bool:
    """An officer scores a tender's bids only once their own declaration clears them."""
    return is_officer(officer) and declaration_clears(declaration)


def can_award(officer: User, declaration: Declaration | None) -> bool:
    """The awarding officer, like every scorer, must be cleared by their declaration."""
    return can_score(officer, declaration)


def can_read_declarations(actor: User) -> bool:
    """Officers and admins read a tender's declarations (part of its record)."""
    return actor.role in READ_ALL_ROLES


def can_mitigate(officer: User, declaration: Declaration) -> bool:
    """Another officer (never the one conflicted) records how a conflict is managed, once."""
    return (
        is_officer(officer)
        and declaration.conflict
        and declaration.mitigated_at is None
        and declaration.officer_id != officer.id
    )
