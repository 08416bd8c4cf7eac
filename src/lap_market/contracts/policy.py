"""Who may see, issue, commission and accept contracts.

A contract has two parties: its buyer (a borough, acting through its borough managers) and
its supplier (a provider). Procurement officers see every contract and issue call-offs.
Contract management after signature builds its own rules on these (``is_buyer``,
``is_supplier``).
"""

from typing import Any, Literal, Protocol, Self, TypeVar

import sqlalchemy as sa

from lap_market.accounts.models import User
from lap_market.accounts.policy import (
    acts_for,
    is_borough_manager,
    is_officer,
    is_provider,
    is_selling_borough,
    require,
)
from lap_market.contracts.models import Contract
from lap_market.errors import Forbidden

Side = Literal["buyer", "supplier"]


class Filterable(Protocol):
    """A query that can be narrowed (``Select``, SQLModel's ``SelectOfScalar``)."""

    def where(self, *clauses: Any) -> Self: ...


Q = TypeVar("Q", bound=Filterable)


def is_buyer(actor: User, contract: Contract) -> bool:
    """A borough manager of the buying borough."""
    return is_borough_manager(actor) and acts_for(actor, contract.buyer_id)


def is_supplier(actor: User, contract: Contract) -> bool:
    """A provider of the supplying organisation."""
    return is_provider(actor) and acts_for(actor, contract.supplier_id)


def can_see(actor: User, contract: Contract) -> bool:
    """Officers see every contract; otherwise only the buyer's and supplier's people."""
    return is_officer(actor) or is_buyer(actor, contract) or is_supplier(actor, contract)


def acceptance_side(actor: User, contract: Contract) -> Side | None:
    """Which party ``actor`` may accept for: "buyer", "supplier", or None."""
    if is_buyer(actor, contract):
        return "buyer"
    if is_supplier(actor, contract):
        return "supplier"
    return None


def can_issue_call_offs(actor: User) -> bool:
    """Only procurement officers issue (and follow the issuing of) call-off contracts."""
    return is_officer(actor)


def require_officer(
    actor: User, message: str = "Only procurement officers may issue call-off contracts."
) -> None:
    require(can_issue_call_offs(actor), message)


def can_commission(actor: User) -> bool:
    """Only borough managers commission a catalogue offer directly, for their borough."""
    return is_borough_manager(actor)


def require_commissioner(actor: User) -> None:
    require(can_commission(actor), "Only borough managers may commission services directly.")


def can_list(actor: User) -> bool:
    """Contracts are for boroughs, providers and procurement officers."""
    return is_officer(actor) or is_borough_manager(actor) or is_provider(actor)


def scoped(query: Q, actor: User, *, buyer: Any, supplier: Any, refusal: str) -> Q:
    """Filter a query to the rows the actor's organisation is party to (officers: every row),
    ``buyer`` and ``supplier`` being the columns naming the parties; others are refused."""
    if is_selling_borough(actor):  # it buys and sells: both sides are its own
        return query.where(sa.or_(buyer == actor.organisation_id,
                                  supplier == actor.organisation_id))
    if is_borough_manager(actor):
        return query.where(buyer == actor.organisation_id)
    if is_provider(actor):
        return query.where(supplier == actor.organisation_id)
    if not is_officer(actor):
        raise Forbidden(refusal)
    return query


def waiting_side(actor: User) -> Side | None:
    """The side whose acceptance the actor gives for their own organisation's contracts."""
    if is_borough_manager(actor):
        return "buyer"
    if is_provider(actor):
        return "supplier"
    return None
