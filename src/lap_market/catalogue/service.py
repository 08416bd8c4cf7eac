"""Providers' offers: who may change them, the input rules, and each change (versioned
rates once published)."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.audit import service as audit
from lap_market.catalogue import policy
from lap_market.catalogue.models import (
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.pricing import Tier
from lap_market.catalogue.reference import CategoryInfo, UnitInfo, load_reference
from lap_market.catalogue.schemas import (
    OfferCreate,
    OfferUpdate,
    TierIn,
    parse_quantity,
)
from lap_market.clock import clock
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.money import from_pence, to_pence

# --- input checks ---------------------------------------------------------------------


def check_quantity(
    value: Decimal | str | int | None, *, field: str, unit: UnitInfo | None = None
) -> Decimal:
    """A positive quantity with at most 2 places; whole for whole-unit units."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid("Enter a quantity.", field=field)
    try:
        quantity = parse_quantity(value)
    except ValueError as exc:
        raise Invalid(f"Quantity {exc}.", field=field) from exc
    if unit is not None and unit.whole and quantity != quantity.to_integral_value():
        raise Invalid(f"{unit.name.capitalize()} is bought in whole units only.", field=field)
    return quantity


def check_tiers(tiers: Sequence[TierIn], unit: UnitInfo) -> None:
    """First tier at 1, minimums strictly increasing, prices never rising with volume."""
    for index, tier in enumerate(tiers):
        where = f"tiers.{index}"
        if index == 0 and tier.min_quantity != 1:
            raise Invalid(
                "The first tier must start at a minimum quantity of 1.",
                field=f"{where}.min_quantity",
            )
        if unit.whole and tier.min_quantity != tier.min_quantity.to_integral_value():
            raise Invalid(
                f"{unit.name.capitalize()} is bought in whole units only.",
                field=f"{where}.min_quantity",
            )
        if index == 0:
            continue
        previous = tiers[index - 1]
        if tier.min_quantity <= previous.min_quantity:
            raise Invalid(
                f"Tier {index + 1}'s minimum quantity must be more than tier {index}'s "
                f"({previous.min_quantity.normalize():f}).",
                field=f"{where}.min_quantity",
            )
        if tier.unit_price > previous.unit_price:
            raise Invalid(
                f"Tier {index + 1}'s unit price must not be more than tier {index}'s "
                f"(£{previous.unit_price}): prices never rise with volume.",
                field=f"{where}.unit_price",
            )


def _check_dates(valid_from: date, valid_until: date | None) -> None:
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("The end of validity must be on or after its start.", field="valid_until")


def _check_capacity(capacity: Decimal | None, unit: UnitInfo, used: Decimal) -> None:
    if capacity is None:
        return
    if unit.whole and capacity != capacity.to_integral_value():
        raise Invalid(f"{unit.name.capitalize()} is bought in whole units only.", field="capacity")
    if capacity < used:
        raise Invalid(
            f"Capacity cannot be less than the {used.normalize():f} already taken by contracts.",
            field="capacity",
        )


# --- changing offers ---------------------------------------------------------------------


def get_offer(session: Session, offer_id: int) -> Offer:
    """An offer by id, or 404."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("Offer not found.", field="offer_id")
    return offer


def get_visible_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """An offer the actor may see, or 404 (another provider's draft is not found)."""
    offer = session.get(Offer, offer_id)
    if offer is None or not policy.can_see(actor, offer):
        raise NotFound("Offer not found.", field="offer_id")
    return offer


def get_own_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """An offer the actor's organisation owns, to change it. Visibility comes first, so
    another provider's draft is 404 on every verb (as on GET); a visible one not theirs 403."""
    offer = get_visible_offer(session, actor, offer_id)
    policy.require_owner(actor, offer)
    return offer


def _add_tiers(session: Session, version_id: int, tiers: Sequence[TierIn]) -> None:
    for tier in tiers:
        session.add(
            OfferTier(
                version_id=version_id,
                min_quantity=tier.min_quantity,
                unit_price_pence=to_pence(tier.unit_price),
            )
        )


def _flush(session: Session) -> None:
    """Flush, turning a lost race on a unique key into a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "The offer was changed by someone else at the same time; try again."
        ) from exc


def _tier_dump(tiers: Iterable[TierIn]) -> list[dict[str, str]]:
    return [
        {"min_quantity": f"{t.min_quantity}", "unit_price": f"{t.unit_price:.2f}"} for t in tiers
    ]


def create_offer(session: Session, actor: User, *, data: OfferCreate) -> Offer:
    """A provider adds a draft offer for its own organisation."""
    policy.require_provider(actor)
    ref = load_reference(session)
    category = ref.category(data.category)
    unit = ref.unit(category, data.unit)
    check_tiers(data.tiers, unit)
    _check_capacity(data.capacity, unit, Decimal(0))
    _check_dates(data.valid_from, data.valid_until)
    provider = session.get(Organisation, actor.organisation_id)
    assert provider is not None
    now = clock.now()
    offer = Offer(
        provider_id=actor.organisation_id,
        category_id=pk(category),
        unit_id=unit.id,
        title=data.title,
        description=data.description,
        capacity=data.capacity,
        lead_time_days=data.lead_time_days,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        status=OfferStatus.DRAFT,
        # The City's commissioned service: set from who the provider is, never by hand.
        commissioned=provider.kind == OrgKind.LMA,
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(offer)
    session.flush()
    version = OfferVersion(
        offer_id=pk(offer),
        number=1,
        unit_id=unit.id,
        created_at=now,
    )
    session.add(version)
    session.flush()
    _add_tiers(session, pk(version), data.tiers)
    _flush(session)
    audit.record(
        session,
        actor,
        action="offer.created",
        object_type="offer",
        object_id=offer.id,
        details={
            "title": offer.title,
            "category": category.code,
            "unit": unit.code,
            "tiers": _tier_dump(data.tiers),
            "commissioned": offer.commissioned,
        },
    )
    return offer


def current_version(session: Session, offer: Offer) -> OfferVersion:
    version = session.exec(
        select(OfferVersion).where(
            OfferVersion.offer_id == offer.id, OfferVersion.number == offer.current_version
        )
    ).one()
    return version


def version_tiers(session: Session, version_id: int) -> list[Tier]:
    rows = session.exec(
        select(OfferTier)
        .where(OfferTier.version_id == version_id)
        .order_by(col(OfferTier.min_quantity))
    ).all()
    return [
        Tier(min_quantity=Decimal(t.min_quantity), unit_price_pence=t.unit_price_pence)
        for t in rows
    ]


def update_offer(session: Session, actor: User, offer_id: int, *, data: OfferUpdate) -> Offer:
    """Change an offer. A draft changes in place; new rates or a new unit on a published offer
    become a new version (the old one stays for everything priced on it)."""
    offer = get_own_offer(session, actor, offer_id)
    if offer.status == OfferStatus.WITHDRAWN:
        raise Conflict("A withdrawn offer cannot be changed.", field="status")
    changes = data.model_dump(exclude_unset=True)
    _refuse_blanks(changes)
    category, unit = _category_and_unit(session, offer, data)
    version = current_version(session, offer)
    old_tiers = version_tiers(session, pk(version))
    tiers = data.tiers if data.tiers is not None else [
        TierIn(min_quantity=t.min_quantity, unit_price=from_pence(t.unit_price_pence))
        for t in old_tiers
    ]
    check_tiers(tiers, unit)
    _check_capacity(changes.get("capacity", offer.capacity), unit, Decimal(offer.capacity_used))
    _check_dates(data.valid_from or offer.valid_from, changes.get("valid_until", offer.valid_until))
    rates_changed = unit.id != version.unit_id or [
        (t.min_quantity, to_pence(t.unit_price)) for t in tiers
    ] != [(t.min_quantity, t.unit_price_pence) for t in old_tiers]
    details: dict[str, Any] = {k: v for k, v in changes.items() if k != "tiers"}
    if data.tiers is not None:
        details["tiers"] = _tier_dump(data.tiers)
    now = clock.now()
    _apply(offer, data, changes, category_id=pk(category), now=now)
    if rates_changed and offer.status == OfferStatus.PUBLISHED:
        details["new_version"] = _add_version(session, offer, unit, tiers, now=now)
    elif rates_changed:
        _reprice_draft(session, offer, version, unit, tiers, now=now)
    session.add(offer)
    _flush(session)
    audit.record(
        session, actor, action="offer.updated", object_type="offer", object_id=offer.id,
        details=details,
    )
    return offer


def _refuse_blanks(changes: dict[str, Any]) -> None:
    """Fields every offer has may change but not be emptied."""
    for name in ("category", "title", "unit", "tiers", "lead_time_days", "valid_from"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name.replace('_', ' ').capitalize()} cannot be empty.", field=name)


def _category_and_unit(
    session: Session, offer: Offer, data: OfferUpdate
) -> tuple[CategoryInfo, UnitInfo]:
    """The category and unit the offer will have (a published offer keeps its category)."""
    ref = load_reference(session)
    category = next(c for c in ref.categories.values() if c.id == offer.category_id)
    if data.category is not None and data.category != category.code:
        if not policy.can_change_category(offer):
            raise Invalid("The category of a published offer cannot change.", field="category")
        category = ref.category(data.category)
    unit_code = data.unit if data.unit is not None else ref.units[offer.unit_id].code
    unit = ref.unit(category, unit_code, field="unit" if data.unit is not None else "category")
    return category, unit


def _apply(
    offer: Offer, data: OfferUpdate, changes: dict[str, Any], *, category_id: int, now: datetime
) -> None:
    """The offer's own fields as changed (rates are versioned separately)."""
    offer.category_id = category_id
    offer.title = data.title if data.title is not None else offer.title
    if data.description is not None:
        offer.description = data.description
    offer.capacity = changes.get("capacity", offer.capacity)
    if data.lead_time_days is not None:
        offer.lead_time_days = data.lead_time_days
    offer.valid_from = data.valid_from or offer.valid_from
    offer.valid_until = changes.get("valid_until", offer.valid_until)
    offer.updated_at = now


def _add_version(
    session: Session, offer: Offer, unit: UnitInfo, tiers: Sequence[TierIn], *, now: datetime
) -> int:
    """New rates on a published offer: version n+1, published at once; returns n+1."""
    number = offer.current_version + 1
    # Conditional: of two concurrent re-pricings exactly one makes version n+1.
    moved = conditional_update(
        session,
        update(Offer)
        .where(
            col(Offer.id) == offer.id,
            col(Offer.current_version) == offer.current_version,
            col(Offer.status) == OfferStatus.PUBLISHED,
        )
        .values(current_version=number, unit_id=unit.id),
    )
    if moved != 1:
        raise Conflict("The offer was changed by someone else at the same time; try again.")
    offer.current_version, offer.unit_id = number, unit.id
    version = OfferVersion(
        offer_id=pk(offer), number=number, unit_id=unit.id, created_at=now, published_at=now,
    )
    session.add(version)
    _flush(session)
    _add_tiers(session, pk(version), tiers)
    return number


def _reprice_draft(
    session: Session, offer: Offer, version: OfferVersion, unit: UnitInfo,
    tiers: Sequence[TierIn], *, now: datetime,
) -> None:
    """New rates on a draft replace its rates in place."""
    # Conditional: if the draft was published meanwhile, its rates must not change in place.
    in_place = conditional_update(
        session,
        update(Offer)
        .where(col(Offer.id) == offer.id, col(Offer.status) == OfferStatus.DRAFT)
        .values(unit_id=unit.id, updated_at=now),
    )
    if in_place != 1:
        raise Conflict(
            "The offer was published by someone else at the same time; try again.",
            field="status",
        )
    offer.unit_id = unit.id
    version.unit_id = unit.id
    session.add(version)
    session.execute(delete(OfferTier).where(col(OfferTier.version_id) == version.id))
    _add_tiers(session, pk(version), tiers)


def _transition(
    session: Session,
    actor: User,
    offer_id: int,
    *,
    to: OfferStatus,
    allowed_from: tuple[OfferStatus, ...],
    stamp: str,
    action: str,
) -> Offer:
    offer = get_own_offer(session, actor, offer_id)
    if offer.status not in allowed_from:
        raise Conflict(f"A {offer.status} offer cannot be {to}.", field="status")
    now = clock.now()
    previous = offer.status
    # Conditional: of two concurrent requests exactly one changes the status.
    changed = conditional_update(
        session,
        update(Offer)
        .where(col(Offer.id) == offer.id, col(Offer.status) == previous)
        .values(status=to, updated_at=now, **{stamp: now}),
    )
    if changed != 1:
        raise Conflict(
            "The offer was changed by someone else at the same time; try again.", field="status"
        )
    session.refresh(offer)
    audit.record(
        session,
        actor,
        action=action,
        object_type="offer",
        object_id=offer.id,
        details={"from": previous, "to": str(to), "version": offer.current_version},
    )
    return offer


def publish_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """A draft goes live in the catalogue."""
    offer = get_own_offer(session, actor, offer_id)
    if offer.valid_until is not None and offer.valid_until < clock.today():
        raise Invalid(
            "The offer's validity has already ended; change the dates first.", field="valid_until"
        )
    published = _transition(
        session,
        actor,
        offer_id,
        to=OfferStatus.PUBLISHED,
        allowed_from=(OfferStatus.DRAFT,),
        stamp="published_at",
        action="offer.published",
    )
    version = current_version(session, published)
    version.published_at = published.published_at
    session.add(version)
    return published


def withdraw_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """Take an offer out of the catalogue; contracts made on it keep their rates."""
    return _transition(
        session,
        actor,
        offer_id,
        to=OfferStatus.WITHDRAWN,
        allowed_from=(OfferStatus.DRAFT, OfferStatus.PUBLISHED),
        stamp="withdrawn_at",
        action="offer.withdrawn",
    )
