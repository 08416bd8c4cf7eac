"""Whose "needs your action" list holds what: each role has its own kinds of waiting work."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager, is_officer, is_provider


def accepts_as_buyer(actor: User) -> bool:
    """A contract waits on ``actor``'s acceptance as buyer (a borough) or else as supplier."""
    return is_borough_manager(actor)


def sees_partnership_work(actor: User) -> bool:
    """Officers see the partnership's queue: bids to score, call-offs, questions, rounds."""
    return is_officer(actor)


def sees_buyer_work(actor: User) -> bool:
    """Borough managers see their returns due and contracts to accept as buyer."""
    return is_borough_manager(actor)


def sees_supplier_work(actor: User) -> bool:
    """Providers see contracts to accept as supplier and tenders closing soon."""
    return is_provider(actor)
