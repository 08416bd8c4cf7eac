"""What each role is, as predicates every domain's policy builds on.

A domain's own ``policy.py`` says who may do what to its objects ("only officers award");
these say what a user *is* ("an officer", "acts for a provider"), so that a change to the
role model (a borough that also sells) is made here once.
"""

from lap_market.accounts.models import Role, User
from lap_market.errors import Forbidden


def is_admin(actor: User) -> bool:
    return actor.role == Role.ADMIN


def is_officer(actor: User) -> bool:
    """A procurement officer of the partnership."""
    return actor.role == Role.PROCUREMENT_OFFICER


def is_provider(actor: User) -> bool:
    """Someone who sells for their organisation: lists offers, bids, signs as supplier."""
    return actor.role == Role.PROVIDER


def is_borough_manager(actor: User) -> bool:
    """Someone who buys for their borough: raises demand, signs as buyer."""
    return actor.role == Role.BOROUGH_MANAGER


def acts_for(actor: User, organisation_id: int | None) -> bool:
    """Whether ``actor`` belongs to the organisation (never true of a missing one)."""
    return organisation_id is not None and actor.organisation_id == organisation_id


def require(allowed: bool, message: str) -> None:
    """Refuse with 403 and ``message`` unless ``allowed``."""
    if not allowed:
        raise Forbidden(message)


def require_admin(actor: User) -> None:
    """Only admins manage organisations and users."""
    require(is_admin(actor), "Only an admin may manage organisations and users.")
