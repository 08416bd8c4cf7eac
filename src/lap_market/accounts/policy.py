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
    """Someone who sells for their organisation: lists offers, bids, signs as supplier.

    A provider's people, and the managers of a borough an admin lets sell (``can_provide``):
    one account both buys and sells for its borough, so nobody keeps a second login.
    """
    if actor.role == Role.PROVIDER:
        return True
    return actor.role == Role.BOROUGH_MANAGER and actor.organisation.can_provide


def is_selling_borough(actor: User) -> bool:
    """A borough manager whose borough also sells (so both buyer and seller rules apply)."""
    return actor.role == Role.BOROUGH_MANAGER and actor.organisation.can_provide


def provider_roles() -> frozenset[Role]:
    """The roles whose holders may be providers (a borough manager only if it sells)."""
    return frozenset({Role.PROVIDER, Role.BOROUGH_MANAGER})


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
