"""Who may pool demand and shape a draft's lots: the one place these rules live."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_officer, require
from lap_market.tenders.models import Tender, TenderStatus


def may_aggregate(actor: User) -> bool:
    """Only procurement officers pool demand, edit lots and delete drafts."""
    return is_officer(actor)


def require_officer(actor: User) -> None:
    """Refuse (403) anyone who may not pool demand or edit lots."""
    require(may_aggregate(actor), "Only a procurement officer may aggregate demand or edit lots.")


def can_edit_lots(tender: Tender) -> bool:
    """A tender's lots change only while it is a draft (and it is deleted only then)."""
    return tender.status == TenderStatus.DRAFT
