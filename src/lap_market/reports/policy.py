"""Who sees which contracts in the savings report, and whether the savings on them."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager, is_officer, is_provider
from lap_market.errors import Forbidden
from lap_market.reports.schemas import Scope


def report_scope(actor: User) -> Scope:
    """Which contracts ``actor`` may total, and whether they may see the savings on them.

    Officers see every contract; a borough manager only its borough's (as buyer); a provider
    only its own contracts (as supplier). A provider sees the values of its contracts but not
    their standalone values or savings: those are what the boroughs would have paid other
    providers, i.e. the savings of others, so its rows carry null saving fields.
    """
    if is_officer(actor):
        return Scope.PARTNERSHIP
    if is_borough_manager(actor):
        return Scope.BOROUGH
    if is_provider(actor):
        return Scope.PROVIDER
    raise Forbidden("Only procurement officers, borough managers and providers see savings.")


def can_read_report(actor: User) -> bool:
    """Officers, borough managers and providers have a savings report; admins do not."""
    return is_officer(actor) or is_borough_manager(actor) or is_provider(actor)


def sees_partnership(actor: User) -> bool:
    """Whether ``actor``'s figures are the whole partnership's (an officer's) or their own."""
    return is_officer(actor)
