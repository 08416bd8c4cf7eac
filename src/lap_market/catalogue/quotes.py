"""Quotes: an offer's price for a quantity over a term, with VAT."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.catalogue.models import (
    OfferStatus,
    OfferVersion,
)
from lap_market.catalogue.pricing import Tier, line_value, term_days, tier_for
from lap_market.catalogue.reference import UnitInfo, load_reference
from lap_market.catalogue.service import (
    check_quantity,
    current_version,
    get_offer,
    get_visible_offer,
    version_tiers,
)
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.modeling import pk
from lap_market.money import from_pence, vat_on

# --- quotes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """What a quantity over a term costs on one version of an offer."""

    offer_id: int
    offer_version_id: int
    version: int
    unit: str
    per_year: bool
    quantity: Decimal
    unit_price: Decimal
    tier_min_quantity: Decimal
    start_date: date
    end_date: date
    term_days: int
    value: Decimal
    vat: Decimal
    total: Decimal
    # The asker's own organisation's offer (a borough that sells): shown, never ranked.
    yours: bool = False


def _price(
    offer_id: int,
    version: OfferVersion,
    unit: UnitInfo,
    tiers: list[Tier],
    quantity: Decimal,
    start_date: date,
    end_date: date,
) -> Quote:
    tier = tier_for(tiers, quantity)
    unit_price = from_pence(tier.unit_price_pence)
    days = term_days(start_date, end_date)
    value = line_value(quantity, unit_price, per_year=unit.per_year, days=days)
    vat = vat_on(value)
    return Quote(
        offer_id=offer_id,
        offer_version_id=pk(version),
        version=version.number,
        unit=unit.code,
        per_year=unit.per_year,
        quantity=quantity,
        unit_price=unit_price,
        tier_min_quantity=tier.min_quantity,
        start_date=start_date,
        end_date=end_date,
        term_days=days,
        value=value,
        vat=vat,
        total=value + vat,
    )


def _check_term(start_date: date | None, end_date: date | None) -> tuple[date, date]:
    if start_date is None:
        raise Invalid("Enter a start date.", field="start_date")
    if end_date is None:
        raise Invalid("Enter an end date.", field="end_date")
    if end_date < start_date:
        raise Invalid("The end date must be on or after the start date.", field="end_date")
    return start_date, end_date


def quote_offer(
    session: Session,
    *,
    offer_id: int,
    quantity: Decimal | str,
    start_date: date | None,
    end_date: date | None,
) -> Quote:
    """Price ``quantity`` over start..end (inclusive) on the offer's current version.

    Refuses (422, naming the field) a bad quantity, an end before the start, a term outside
    the offer's validity dates, or more than its remaining capacity.
    """
    offer = get_offer(session, offer_id)
    if offer.status != OfferStatus.PUBLISHED:
        raise Conflict(
            f"Only published offers can be quoted; this one is {offer.status}.", field="offer_id"
        )
    ref = load_reference(session)
    version = current_version(session, offer)
    unit = ref.units[version.unit_id]
    amount = check_quantity(quantity, field="quantity", unit=unit)
    start, end = _check_term(start_date, end_date)
    if start < offer.valid_from:
        raise Invalid(
            f"Outside the validity dates: the offer is valid from {offer.valid_from:%-d %B %Y}.",
            field="start_date",
        )
    if offer.valid_until is not None and end > offer.valid_until:
        raise Invalid(
            f"Outside the validity dates: the offer is valid until {offer.valid_until:%-d %B %Y}.",
            field="end_date",
        )
    if offer.capacity is not None:
        available = Decimal(offer.capacity) - Decimal(offer.capacity_used)
        if amount > available:
            raise Invalid(
                f"Over capacity: only {available.normalize():f} {unit.name} available.",
                field="quantity",
            )
    tiers = version_tiers(session, pk(version))
    return _price(pk(offer), version, unit, tiers, amount, start, end)


def quote_for(
    session: Session,
    actor: User,
    *,
    offer_id: int,
    quantity: Decimal | str,
    start_date: date | None,
    end_date: date | None,
) -> Quote:
    """A quote for someone signed in: another provider's draft is not found (404)."""
    offer = get_visible_offer(session, actor, offer_id)
    quote = quote_offer(
        session, offer_id=offer_id, quantity=quantity, start_date=start_date, end_date=end_date
    )
    return replace(quote, yours=offer.provider_id == actor.organisation_id)


def price_version(
    session: Session, *, version_id: int, quantity: Decimal | str, start_date: date, end_date: date
) -> Quote:
    """Price on one recorded version (what a contract made on it pays), whatever came after."""
    version = session.get(OfferVersion, version_id)
    if version is None:
        raise NotFound("Offer version not found.", field="offer_version_id")
    unit = load_reference(session).units[version.unit_id]
    amount = check_quantity(quantity, field="quantity", unit=unit)
    start, end = _check_term(start_date, end_date)
    return _price(
        version.offer_id, version, unit, version_tiers(session, version_id), amount, start, end
    )
