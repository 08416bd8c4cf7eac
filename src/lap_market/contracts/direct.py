"""Direct commissioning: a borough buys a published offer at its tier price, within the
direct-award limit and the offer's capacity."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.catalogue import quotes as catalogue_quotes
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.pricing import load_rate_cards
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.contracts import policy
from lap_market.contracts.documents import render_document, store_document
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.schemas import (
    DirectCommissionCreate,
)
from lap_market.contracts.service import (
    PAYMENT_TERMS,
    Priced,
    get_row,
    record_issued,
    standalone_pence,
)
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.money import from_pence, round_pennies, to_pence


def direct_reference(year: int, sequence: int) -> str:
    """``LAP-DC-2026-0012``: per-year sequence of direct commissions."""
    return f"LAP-DC-{year}-{sequence:04d}"


# --- direct commissioning ----------------------------------------------------------------------


@dataclass
class DirectQuote:
    """A direct commission priced by the catalogue, every rule checked (nothing written)."""

    offer: Offer
    version: OfferVersion
    unit: CategoryUnit
    category: Category
    quantity: Decimal
    tier_min_quantity: Decimal
    days: int
    priced: Priced
    limit: Decimal
    unit_price: Decimal
    value: Decimal
    vat: Decimal
    total: Decimal


def _available(offer: Offer) -> Decimal | None:
    if offer.capacity is None:
        return None
    return Decimal(offer.capacity) - Decimal(offer.capacity_used)


def _limit(settings: Settings) -> Decimal:
    """The direct-award limit, ex VAT."""
    return round_pennies(settings.direct_award_limit)


def _current_version(session: Session, offer: Offer) -> OfferVersion | None:
    """The offer's rates in force (None if it has none)."""
    return session.exec(
        select(OfferVersion).where(
            OfferVersion.offer_id == offer.id, OfferVersion.number == offer.current_version
        )
    ).first()


def _published(session: Session, offer_id: int) -> Offer | None:
    offer = session.get(Offer, offer_id)
    return offer if offer is not None and offer.status == OfferStatus.PUBLISHED else None


@dataclass
class CommissionableOffer:
    """A published offer as the "Commission this service" page shows it."""

    offer: Offer
    provider: Organisation
    category: Category
    unit: CategoryUnit
    tiers: list[tuple[Decimal, Decimal]]  # (from quantity, unit price ex VAT)
    available: Decimal | None  # capacity left, None when unlimited
    limit: Decimal  # the direct-award limit, ex VAT


def _not_own(actor: User, offer: Offer) -> None:
    """A borough that sells may not buy from itself: a conflict of interest, refused."""
    if offer.provider_id == actor.organisation_id:
        raise Conflict(
            "This is your own borough's offer: you cannot commission it.", field="offer_id"
        )


def commissionable_offer(
    session: Session, actor: User, offer_id: int, *, settings: Settings
) -> CommissionableOffer:
    """A published offer's current rates and capacity left, for a borough manager (404 if
    the offer is not published)."""
    policy.require_commissioner(actor)
    offer = _published(session, offer_id)
    if offer is None:
        raise NotFound("No published offer has this id.")
    _not_own(actor, offer)
    version = _current_version(session, offer)
    tiers = (
        session.exec(
            select(OfferTier)
            .where(OfferTier.version_id == version.id)
            .order_by(col(OfferTier.min_quantity))
        ).all()
        if version
        else []
    )
    return CommissionableOffer(
        offer=offer,
        provider=get_row(session, Organisation, offer.provider_id),
        category=get_row(session, Category, offer.category_id),
        unit=get_row(session, CategoryUnit, version.unit_id if version else offer.unit_id),
        tiers=[(Decimal(t.min_quantity), from_pence(t.unit_price_pence)) for t in tiers],
        available=_available(offer),
        limit=_limit(settings),
    )


def quote_direct(
    session: Session, actor: User, *, data: DirectCommissionCreate, settings: Settings
) -> DirectQuote:
    """Price a direct commission and check every rule, writing nothing.

    422 with ``reason`` (``offer``, ``quantity``, ``dates``, ``validity``,
    ``direct_award_limit`` or ``capacity``) when it cannot be commissioned directly.
    """
    policy.require_commissioner(actor)
    offer = _published(session, data.offer_id)
    if offer is None:
        raise Invalid("No published offer has this id.", field="offer_id", reason="offer")
    _not_own(actor, offer)
    version = _current_version(session, offer)
    if version is None:
        raise Invalid("This offer has no published rates.", field="offer_id", reason="offer")
    unit = get_row(session, CategoryUnit, version.unit_id)
    _check_whole(unit, data.quantity)
    _check_dates(offer, data)
    _check_capacity(offer, unit, data.quantity)
    quote = _priced_quote(session, offer, version, unit, data, limit=_limit(settings))
    _check_limit(quote)
    return quote


def _check_whole(unit: CategoryUnit, quantity: Decimal) -> None:
    if unit.whole and quantity != quantity.to_integral_value():
        raise Invalid(
            f"Quantity must be a whole number of {unit.name}s.", field="quantity", reason="quantity"
        )


def _check_capacity(offer: Offer, unit: CategoryUnit, quantity: Decimal) -> None:
    """No more than the capacity left (checked again, atomically, when commissioning)."""
    available = _available(offer)
    if available is not None and quantity > available:
        raise _capacity_refusal(
            f"The offer has capacity for only {available.normalize():f} more {unit.name}s.",
            available,
        )


def _capacity_refusal(message: str, available: Decimal) -> Invalid:
    return Invalid(message, field="quantity", reason="capacity", available=f"{available:.2f}")


def _check_dates(offer: Offer, data: DirectCommissionCreate) -> None:
    """Starting no earlier than today (England's) and within the offer's validity."""
    if data.start_date < clock.today():
        raise Invalid("The start date must not be in the past.", field="start_date", reason="dates")
    if data.start_date < offer.valid_from:
        raise Invalid(
            f"The start date is before the offer is valid (from {offer.valid_from.isoformat()}).",
            field="start_date",
            reason="validity",
            valid_from=offer.valid_from.isoformat(),
        )
    if offer.valid_until is not None and data.end_date > offer.valid_until:
        raise Invalid(
            f"The end date is after the offer's validity ends ({offer.valid_until.isoformat()}).",
            field="end_date",
            reason="validity",
            valid_until=offer.valid_until.isoformat(),
        )


def _priced_quote(
    session: Session, offer: Offer, version: OfferVersion, unit: CategoryUnit,
    data: DirectCommissionCreate, *, limit: Decimal,
) -> DirectQuote:
    """The catalogue prices it, so a quote and the contract made from it always agree."""
    quoted = catalogue_quotes.quote_offer(
        session,
        offer_id=data.offer_id,
        quantity=data.quantity,
        start_date=data.start_date,
        end_date=data.end_date,
    )
    if quoted.offer_version_id != version.id:
        raise Conflict(
            "The offer's rates have just changed; please check the price again.", field="offer_id"
        )
    priced = Priced(
        to_pence(quoted.unit_price), to_pence(quoted.value), to_pence(quoted.vat),
        to_pence(quoted.total),
    )
    return DirectQuote(
        offer=offer, version=version, unit=unit,
        category=get_row(session, Category, offer.category_id),
        quantity=data.quantity, tier_min_quantity=quoted.tier_min_quantity,
        days=quoted.term_days, priced=priced, limit=limit,
        unit_price=from_pence(priced.unit_price_pence), value=from_pence(priced.value_pence),
        vat=from_pence(priced.vat_pence), total=from_pence(priced.total_pence),
    )


def _check_limit(quote: DirectQuote) -> None:
    if quote.value > quote.limit:
        raise Invalid(
            f"The value of £{quote.value:,.2f} ex VAT is over the direct-award limit of "
            f"£{quote.limit:,.2f}: raise it as demand for a joint tender instead.",
            field="quantity",
            reason="direct_award_limit",
            value=f"{quote.value:.2f}",
            limit=f"{quote.limit:.2f}",
        )


def _take_capacity(session: Session, offer_id: int, quantity: Decimal) -> bool:
    """Take capacity with one conditional UPDATE, so two buyers cannot share the last unit.

    The 0.004 slack absorbs SQLite's binary NUMERIC on two-decimal quantities; on exact
    numerics it changes nothing, as every quantity is a multiple of 0.01.
    """
    slack = Decimal("0.004")
    return conditional_update(
        session,
        sa.update(Offer)
        .where(
            col(Offer.id) == offer_id,
            col(Offer.status) == OfferStatus.PUBLISHED,
            or_(
                col(Offer.capacity).is_(None),
                col(Offer.capacity_used) + quantity <= col(Offer.capacity) + slack,
            ),
        )
        .values(capacity_used=col(Offer.capacity_used) + quantity),
    ) == 1


def _next_direct_sequence(session: Session, year: int) -> int:
    """One more than the year's highest direct-contract number (numerically: past 9999 too).

    Two commissions may read the same maximum; the unique reference lets only one of them
    insert it, and the other retries with the next number (see ``_insert_numbered``).
    """
    last = session.exec(
        select(func.max(Contract.reference_number)).where(
            Contract.kind == ContractKind.DIRECT,
            col(Contract.reference).startswith(f"LAP-DC-{year}-"),
        )
    ).one()
    return int(last) + 1 if last else 1


def commission_offer(
    session: Session, actor: User, *, data: DirectCommissionCreate, settings: Settings
) -> Contract:
    """Make a direct-commissioning contract at the offer's tier price (422 saying why not)."""
    quote = quote_direct(session, actor, data=data, settings=settings)
    offer = quote.offer
    standalone = standalone_pence(
        session, category_id=offer.category_id, unit=quote.unit, quantity=quote.quantity,
        days=quote.days,
    )
    _take_capacity_or_refuse(session, quote)
    contract = _direct_contract(actor, quote, data, standalone=standalone)
    content = _insert_numbered(session, contract)
    store_document(session, contract, content)
    record_issued(
        session, actor, contract,
        offer_id=offer.id, offer_version_id=quote.version.id, quantity=quote.quantity,
        value=quote.value, supplier_id=offer.provider_id,
    )
    audit.record(
        session,
        actor,
        action="offer.capacity_taken",
        object_type="offer",
        object_id=offer.id,
        details={
            "quantity": quote.quantity,
            "contract_id": contract.id,
            "capacity_used": offer.capacity_used,
        },
    )
    return contract


def _take_capacity_or_refuse(session: Session, quote: DirectQuote) -> None:
    offer = quote.offer
    taken = _take_capacity(session, pk(offer), quote.quantity)
    session.refresh(offer)
    if not taken:
        available = _available(offer) or Decimal(0)
        raise _capacity_refusal(
            f"Another buyer has just taken this capacity: the offer has capacity for only "
            f"{available.normalize():f} more {quote.unit.name}s.",
            available,
        )


def _direct_contract(
    actor: User, quote: DirectQuote, data: DirectCommissionCreate, *, standalone: int | None
) -> Contract:
    """The unsaved contract for a quote (its reference is given when it is inserted)."""
    offer, priced = quote.offer, quote.priced
    return Contract(
        reference="",
        kind=ContractKind.DIRECT,
        buyer_id=actor.organisation_id,
        supplier_id=offer.provider_id,
        offer_id=offer.id,
        offer_version_id=quote.version.id,
        category_id=offer.category_id,
        unit_id=pk(quote.unit),
        description=offer.title,
        quantity=quote.quantity,
        unit_price_pence=priced.unit_price_pence,
        value_pence=priced.value_pence,
        vat_pence=priced.vat_pence,
        total_pence=priced.total_pence,
        standalone_value_pence=standalone,
        start_date=data.start_date,
        end_date=data.end_date,
        payment_terms=PAYMENT_TERMS,
        status=ContractStatus.ISSUED,
        issued_at=clock.now(),
        issued_by_id=pk(actor),
    )


def _insert_numbered(session: Session, contract: Contract) -> bytes:
    """Insert the contract under the year's next reference, taking the one after when a
    concurrent commission took it first; the PDF rendered for the reference it got."""
    year = contract.issued_at.year
    for _attempt in range(10):
        contract.reference_number = _next_direct_sequence(session, year)
        contract.reference = direct_reference(year, contract.reference_number)
        content = render_document(session, contract)
        try:
            with session.begin_nested():
                session.add(contract)
                session.flush()
        except IntegrityError:
            continue  # another commission took this reference: take the next one
        return content
    raise Conflict("Could not allocate a contract reference; please try again.")


@dataclass(frozen=True)
class CheaperOffer:
    """Another live offer that prices the same quantity and term lower (for a warning)."""

    offer_id: int
    title: str
    provider: str
    unit_price: Decimal


def cheaper_offer(
    session: Session, quote: DirectQuote, *, start_date: date, end_date: date
) -> CheaperOffer | None:
    """The cheapest other published offer in the same category and unit, valid for the
    whole term and with room for the quantity, when its unit price is below the quote's."""
    key = (pk(quote.category), pk(quote.unit))
    card = load_rate_cards(session, keys=[key], on=start_date)[key]
    best = card.best(quote.quantity)
    if best is None or best.offer_id == quote.offer.id:
        return None
    if best.unit_price_pence >= quote.priced.unit_price_pence:
        return None
    offer = get_row(session, Offer, best.offer_id)
    if offer.valid_until is not None and offer.valid_until < end_date:
        return None
    provider = get_row(session, Organisation, offer.provider_id)
    return CheaperOffer(
        offer_id=best.offer_id, title=offer.title, provider=provider.name,
        unit_price=best.unit_price,
    )
