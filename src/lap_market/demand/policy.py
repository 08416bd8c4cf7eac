"""Who may see and change boroughs' demand, built on the role predicates of accounts."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import acts_for, is_borough_manager, is_officer, require
from lap_market.demand.models import Demand, DemandStatus


def may_view_demand(actor: User) -> bool:
    """Borough managers see their own borough's demand; procurement officers see everyone's."""
    return is_borough_manager(actor) or is_officer(actor)


def sees_only_own(actor: User) -> bool:
    """Whether the actor's demand lists are narrowed to their own borough."""
    return is_borough_manager(actor)


def can_see(actor: User, demand: Demand) -> bool:
    """One line: a manager's own borough's, or any for an officer."""
    return is_officer(actor) or (is_borough_manager(actor) and acts_for(actor, demand.borough_id))


def can_change(actor: User, demand: Demand) -> bool:
    """A borough changes or withdraws its own need until it is pooled into a tender."""
    return (
        is_borough_manager(actor)
        and acts_for(actor, demand.borough_id)
        and demand.status == DemandStatus.SUBMITTED
    )


def require_manager(actor: User) -> None:
    """Only borough managers raise and change demand, for their own borough."""
    require(is_borough_manager(actor), "Only a borough manager may raise or change demand.")


def require_viewer(actor: User) -> None:
    """Borough managers see their own demand; procurement officers see everyone's."""
    require(
        may_view_demand(actor),
        "Only borough managers and procurement officers may see demand.",
    )
