"""Who may see, list and change catalogue offers.

Providers (the LMA and contractors) list offers for their own organisation; everyone signed
in sees what is published or withdrawn; a draft is seen only by its own provider.
"""

from typing import Protocol

from lap_market.accounts.models import User
from lap_market.accounts.policy import acts_for, is_borough_manager, is_provider, require
from lap_market.catalogue.models import Offer, OfferStatus


class OfferLike(Protocol):
    """An offer as stored or as read (``Offer``, ``OfferRead``): what the rules look at."""

    @property
    def status(self) -> str: ...


def can_list_offers(actor: User) -> bool:
    """Only providers (LMA and contractors) list offers."""
    return is_provider(actor)


def require_provider(actor: User) -> None:
    require(can_list_offers(actor), "Only providers may create or change offers.")


def owns(actor: User, offer: Offer) -> bool:
    """A provider changes only its own organisation's offers."""
    return is_provider(actor) and acts_for(actor, offer.provider_id)


def require_owner(actor: User, offer: Offer) -> None:
    require_provider(actor)
    require(owns(actor, offer), "This offer belongs to another provider.")


def can_see(actor: User, offer: Offer) -> bool:
    """Everyone signed in sees published and withdrawn offers; drafts only their provider."""
    return offer.status != OfferStatus.DRAFT or offer.provider_id == actor.organisation_id


def sees_own_drafts(actor: User) -> bool:
    """Whether lists the actor browses include their own organisation's drafts."""
    return is_provider(actor)


def can_change_category(offer: OfferLike) -> bool:
    """A draft's category may change; a published (or withdrawn) offer's may not."""
    return offer.status == OfferStatus.DRAFT


def can_commission(actor: User, offer: OfferLike) -> bool:
    """A borough manager may commission a published offer directly."""
    return is_borough_manager(actor) and offer.status == OfferStatus.PUBLISHED
