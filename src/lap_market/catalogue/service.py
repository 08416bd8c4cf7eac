"""The catalogue: categories, providers' offers with versioned rates, browsing and quotes."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from lap_market.accounts.models import Organisation, OrgKind, Role, User
from lap_market.audit import service as audit
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.pricing import Tier, line_value, term_days, tier_for
from lap_market.catalogue.schemas import (
    CategoryRead,
    OfferCreate,
    OfferPage,
    OfferRead,
    OfferSummary,
    OfferUpdate,
    TierIn,
    TierRead,
    UnitRead,
    VersionRead,
    parse_quantity,
)
from lap_market.clock import as_utc, clock
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.money import from_pence, to_pence, vat_on

SortKey = Literal["name", "price"]
MAX_PAGE_SIZE = 100
MAX_SEARCH_WORDS = 10


def _pk(row: Any) -> int:
    """A flushed row's id."""
    assert row.id is not None, "flush before reading the id"
    return int(row.id)


# --- reference data ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    per_year: bool
    whole: bool
    category_id: int
    category_code: str
    category_name: str


@dataclass
class Reference:
    """The categories and their units, loaded in one query."""

    categories: dict[str, Category]
    units: dict[int, UnitInfo]

    def category(self, code: str, *, field: str = "category") -> Category:
        found = self.categories.get(code)
        if found is None:
            known = ", ".join(self.categories)
            raise Invalid(f"Unknown category {code!r}; choose one of {known}.", field=field)
        return found

    def unit(self, category: Category, code: str, *, field: str = "unit") -> UnitInfo:
        for info in self.units.values():
            if info.category_id == category.id and info.code == code:
                return info
        allowed = ", ".join(u.code for u in self.units_of(category))
        raise Invalid(
            f"Unit {code!r} is not allowed for {category.code}; choose one of {allowed}.",
            field=field,
        )

    def units_of(self, category: Category) -> list[UnitInfo]:
        return [u for u in self.units.values() if u.category_id == category.id]

    def unit_codes(self) -> set[str]:
        return {u.code for u in self.units.values()}


def load_reference(session: Session) -> Reference:
    """Categories and units, by code and id."""
    rows = session.exec(
        select(Category, CategoryUnit)
        .join(CategoryUnit, col(CategoryUnit.category_id) == col(Category.id))
        .order_by(col(Category.id), col(CategoryUnit.id))
    ).all()
    categories: dict[str, Category] = {}
    units: dict[int, UnitInfo] = {}
    for category, unit in rows:
        categories.setdefault(category.code, category)
        units[_pk(unit)] = UnitInfo(
            id=_pk(unit),
            code=unit.code,
            name=unit.name,
            per_year=unit.per_year,
            whole=unit.whole,
            category_id=_pk(category),
            category_code=category.code,
            category_name=category.name,
        )
    return Reference(categories=categories, units=units)


def list_categories(session: Session) -> list[CategoryRead]:
    """Every category with its CPV code and the units it may be bought in."""
    ref = load_reference(session)
    return [
        CategoryRead(
            code=c.code,
            name=c.name,
            cpv_code=c.cpv_code,
            cpv_description=c.cpv_description,
            units=[
                UnitRead(code=u.code, name=u.name, per_year=u.per_year, whole=u.whole)
                for u in ref.units_of(c)
            ],
        )
        for c in ref.categories.values()
    ]


# --- policy -----------------------------------------------------------------------------


def require_provider(actor: User) -> None:
    """Only providers (LMA and contractors) list offers."""
    if actor.role != Role.PROVIDER:
        raise Forbidden("Only providers may create or change offers.")


def require_owner(actor: User, offer: Offer) -> None:
    """A provider changes only its own organisation's offers."""
    require_provider(actor)
    if offer.provider_id != actor.organisation_id:
        raise Forbidden("This offer belongs to another provider.")


def can_see(actor: User, offer: Offer) -> bool:
    """Everyone signed in sees published and withdrawn offers; drafts only their provider."""
    return offer.status != OfferStatus.DRAFT or offer.provider_id == actor.organisation_id


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
    require_provider(actor)
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
        category_id=_pk(category),
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
        offer_id=_pk(offer),
        number=1,
        unit_id=unit.id,
        created_at=now,
    )
    session.add(version)
    session.flush()
    _add_tiers(session, _pk(version), data.tiers)
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


def _current_version(session: Session, offer: Offer) -> OfferVersion:
    version = session.exec(
        select(OfferVersion).where(
            OfferVersion.offer_id == offer.id, OfferVersion.number == offer.current_version
        )
    ).one()
    return version


def _version_tiers(session: Session, version_id: int) -> list[Tier]:
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
    offer = get_offer(session, offer_id)
    require_owner(actor, offer)
    if offer.status == OfferStatus.WITHDRAWN:
        raise Conflict("A withdrawn offer cannot be changed.", field="status")
    changes = data.model_dump(exclude_unset=True)
    for name in ("category", "title", "unit", "tiers", "lead_time_days", "valid_from"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name.replace('_', ' ').capitalize()} cannot be empty.", field=name)
    ref = load_reference(session)
    category = next(c for c in ref.categories.values() if c.id == offer.category_id)
    if data.category is not None and data.category != category.code:
        if offer.status != OfferStatus.DRAFT:
            raise Invalid("The category of a published offer cannot change.", field="category")
        category = ref.category(data.category)
    current_unit = ref.units[offer.unit_id]
    unit_code = data.unit if data.unit is not None else current_unit.code
    unit = ref.unit(category, unit_code, field="unit" if data.unit is not None else "category")
    version = _current_version(session, offer)
    old_tiers = _version_tiers(session, _pk(version))
    tiers: Sequence[TierIn] = (
        data.tiers
        if data.tiers is not None
        else [
            TierIn(min_quantity=t.min_quantity, unit_price=from_pence(t.unit_price_pence))
            for t in old_tiers
        ]
    )
    check_tiers(tiers, unit)
    capacity = changes.get("capacity", offer.capacity)
    _check_capacity(capacity, unit, Decimal(offer.capacity_used))
    valid_from = data.valid_from or offer.valid_from
    valid_until = changes.get("valid_until", offer.valid_until)
    _check_dates(valid_from, valid_until)

    new_rates = [(t.min_quantity, to_pence(t.unit_price)) for t in tiers] != [
        (t.min_quantity, t.unit_price_pence) for t in old_tiers
    ]
    rates_changed = new_rates or unit.id != version.unit_id
    now = clock.now()
    details: dict[str, Any] = {k: v for k, v in changes.items() if k not in ("tiers",)}
    if data.tiers is not None:
        details["tiers"] = _tier_dump(data.tiers)
    offer.category_id = _pk(category)
    offer.title = data.title if data.title is not None else offer.title
    if data.description is not None:
        offer.description = data.description
    offer.capacity = capacity
    if data.lead_time_days is not None:
        offer.lead_time_days = data.lead_time_days
    offer.valid_from = valid_from
    offer.valid_until = valid_until
    offer.updated_at = now
    if rates_changed and offer.status == OfferStatus.PUBLISHED:
        number = offer.current_version + 1
        # Conditional: of two concurrent re-pricings exactly one makes version n+1.
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Offer)
                .where(
                    col(Offer.id) == offer.id,
                    col(Offer.current_version) == offer.current_version,
                    col(Offer.status) == OfferStatus.PUBLISHED,
                )
                .values(current_version=number, unit_id=unit.id)
            ),
        )
        if result.rowcount != 1:
            raise Conflict("The offer was changed by someone else at the same time; try again.")
        new_version = OfferVersion(
            offer_id=_pk(offer),
            number=number,
            unit_id=unit.id,
            created_at=now,
            published_at=now,
        )
        session.add(new_version)
        _flush(session)
        _add_tiers(session, _pk(new_version), tiers)
        details["new_version"] = number
    elif rates_changed:
        # Conditional: if the draft was published meanwhile, its rates must not change in place.
        in_place = cast(
            CursorResult[Any],
            session.execute(
                update(Offer)
                .where(col(Offer.id) == offer.id, col(Offer.status) == OfferStatus.DRAFT)
                .values(unit_id=unit.id, updated_at=now)
            ),
        )
        if in_place.rowcount != 1:
            raise Conflict(
                "The offer was published by someone else at the same time; try again.",
                field="status",
            )
        offer.unit_id = unit.id
        version.unit_id = unit.id
        session.add(version)
        session.execute(delete(OfferTier).where(col(OfferTier.version_id) == version.id))
        _add_tiers(session, _pk(version), tiers)
    session.add(offer)
    _flush(session)
    audit.record(
        session,
        actor,
        action="offer.updated",
        object_type="offer",
        object_id=offer.id,
        details=details,
    )
    return offer


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
    offer = get_offer(session, offer_id)
    require_owner(actor, offer)
    if offer.status not in allowed_from:
        raise Conflict(f"A {offer.status} offer cannot be {to}.", field="status")
    now = clock.now()
    previous = offer.status
    # Conditional: of two concurrent requests exactly one changes the status.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Offer)
            .where(col(Offer.id) == offer.id, col(Offer.status) == previous)
            .values(status=to, updated_at=now, **{stamp: now})
        ),
    )
    if result.rowcount != 1:
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
    offer = get_offer(session, offer_id)
    require_owner(actor, offer)
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
    version = _current_version(session, published)
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


# --- reading offers -------------------------------------------------------------------


def _tier_reads(tiers: Sequence[Tier]) -> list[TierRead]:
    return [
        TierRead(min_quantity=t.min_quantity, unit_price=from_pence(t.unit_price_pence))
        for t in tiers
    ]


def _summary(
    offer: Offer,
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    tiers: list[Tier],
    quantity: Decimal | None,
) -> OfferSummary:
    available = (
        None if offer.capacity is None else Decimal(offer.capacity) - Decimal(offer.capacity_used)
    )
    summary = OfferSummary(
        id=offer.id,
        title=offer.title,
        provider_id=offer.provider_id,
        provider_name=provider_name,
        category=unit.category_code,
        category_name=unit.category_name,
        unit=unit.code,
        unit_name=unit.name,
        per_year=unit.per_year,
        status=offer.status,
        commissioned=offer.commissioned,
        version=offer.current_version,
        version_id=version_id,
        tiers=_tier_reads(tiers),
        from_price=from_pence(min(t.unit_price_pence for t in tiers)) if tiers else Decimal(0),
        capacity=offer.capacity,
        available=available,
        lead_time_days=offer.lead_time_days,
        valid_from=offer.valid_from,
        valid_until=offer.valid_until,
    )
    if quantity is not None and tiers:
        tier = tier_for(tiers, quantity)
        summary.quantity = quantity
        summary.unit_price_at_quantity = from_pence(tier.unit_price_pence)
        summary.tier_min_quantity = tier.min_quantity
        summary.value_at_quantity = line_value(
            quantity, from_pence(tier.unit_price_pence), per_year=unit.per_year, days=365
        )
        summary.has_capacity = available is None or available >= quantity
    return summary


def _tiers_by_version(session: Session, version_ids: Iterable[int]) -> dict[int, list[Tier]]:
    ids = list(set(version_ids))
    by_version: dict[int, list[Tier]] = defaultdict(list)
    if not ids:
        return by_version
    rows = session.exec(
        select(OfferTier)
        .where(col(OfferTier.version_id).in_(ids))
        .order_by(col(OfferTier.version_id), col(OfferTier.min_quantity))
    ).all()
    for tier in rows:
        by_version[tier.version_id].append(
            Tier(min_quantity=Decimal(tier.min_quantity), unit_price_pence=tier.unit_price_pence)
        )
    return by_version


def _summaries(
    session: Session, ref: Reference, offer_ids: list[int], quantity: Decimal | None
) -> list[OfferSummary]:
    """Summaries of these offers, in this order, in two queries (no N+1)."""
    if not offer_ids:
        return []
    rows = session.exec(
        select(Offer, OfferVersion.id, Organisation.name)
        .join(
            OfferVersion,
            and_(
                col(OfferVersion.offer_id) == col(Offer.id),
                col(OfferVersion.number) == col(Offer.current_version),
            ),
        )
        .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
        .where(col(Offer.id).in_(offer_ids))
    ).all()
    typed: list[tuple[Offer, int, str]] = [(r[0], r[1] or 0, r[2]) for r in rows]
    tiers = _tiers_by_version(session, [r[1] for r in typed])
    by_id = {
        _pk(offer): _summary(
            offer, version_id, name, ref.units[offer.unit_id], tiers[version_id], quantity
        )
        for offer, version_id, name in typed
    }
    return [by_id[i] for i in offer_ids if i in by_id]


def get_visible_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """An offer the actor may see, or 404 (another provider's draft is not found)."""
    offer = session.get(Offer, offer_id)
    if offer is None or not can_see(actor, offer):
        raise NotFound("Offer not found.", field="offer_id")
    return offer


def get_offer_for_read(session: Session, actor: User, offer_id: int) -> OfferRead:
    """One offer with its current tiers and every version's rates (drafts: own provider only)."""
    return offer_read(session, get_visible_offer(session, actor, offer_id))


def offer_read(session: Session, offer: Offer) -> OfferRead:
    """The full view of an offer, with no permission check (callers decide who may see it)."""
    ref = load_reference(session)
    versions = session.exec(
        select(OfferVersion)
        .where(OfferVersion.offer_id == offer.id)
        .order_by(col(OfferVersion.number))
    ).all()
    tiers = _tiers_by_version(session, [_pk(v) for v in versions])
    provider = session.get(Organisation, offer.provider_id)
    current = next(v for v in versions if v.number == offer.current_version)
    summary = _summary(
        offer,
        _pk(current),
        provider.name if provider else "",
        ref.units[offer.unit_id],
        tiers[_pk(current)],
        None,
    )
    return OfferRead(
        **summary.model_dump(),
        description=offer.description,
        capacity_used=offer.capacity_used,
        created_at=as_utc(offer.created_at),
        updated_at=as_utc(offer.updated_at),
        published_at=as_utc(offer.published_at) if offer.published_at else None,
        withdrawn_at=as_utc(offer.withdrawn_at) if offer.withdrawn_at else None,
        versions=[
            VersionRead(
                id=_pk(v),
                number=v.number,
                unit=ref.units[v.unit_id].code,
                tiers=_tier_reads(tiers[_pk(v)]),
                created_at=as_utc(v.created_at),
                published_at=as_utc(v.published_at) if v.published_at else None,
            )
            for v in versions
        ],
    )


def _search_words(q: str | None) -> list[str]:
    if not q:
        return []
    if len(q) > 200:
        raise Invalid("Search text must be at most 200 characters.", field="q")
    return [w.lower() for w in q.split()][:MAX_SEARCH_WORDS]


def browse_offers(
    session: Session,
    actor: User,
    *,
    category: str | None = None,
    unit: str | None = None,
    q: str | None = None,
    provider_id: int | None = None,
    commissioned: bool | None = None,
    quantity: Decimal | str | None = None,
    sort: SortKey = "name",
    page: int = 1,
    page_size: int = 20,
) -> OfferPage:
    """Published, currently valid offers (plus the caller's own drafts), filtered and sorted.

    With ``quantity`` every item carries its unit price at that quantity, and ``sort=price``
    orders by it; without, ``sort=price`` orders by the lowest tier price.
    """
    if page < 1:
        raise Invalid("Page must be 1 or more.", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"Page size must be between 1 and {MAX_PAGE_SIZE}.", field="page_size")
    if sort not in ("name", "price"):
        raise Invalid("Sort by price or name.", field="sort")
    ref = load_reference(session)
    query = _browse_query(
        actor,
        ref,
        category=category,
        unit=unit,
        q=q,
        provider_id=provider_id,
        commissioned=commissioned,
    )
    unit_info = None
    if category and unit:
        unit_info = ref.unit(ref.category(category), unit)
    amount = (
        check_quantity(quantity, field="quantity", unit=unit_info)
        if quantity not in (None, "")
        else None
    )
    start = (page - 1) * page_size
    if sort == "price":
        ranked = _rank_by_price(session, query, amount)
        total = len(ranked)
        page_ids = ranked[start : start + page_size]
    else:
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        page_ids = list(
            session.exec(
                query.order_by(func.lower(col(Offer.title)), col(Offer.id))
                .offset(start)
                .limit(page_size)
            ).all()
        )
    return OfferPage(items=_summaries(session, ref, page_ids, amount), total=total)


def _browse_query(
    actor: User,
    ref: Reference,
    *,
    category: str | None,
    unit: str | None,
    q: str | None,
    provider_id: int | None,
    commissioned: bool | None,
) -> SelectOfScalar[int]:
    today = clock.today()
    live = and_(
        col(Offer.status) == OfferStatus.PUBLISHED,
        col(Offer.valid_from) <= today,
        or_(col(Offer.valid_until).is_(None), col(Offer.valid_until) >= today),
    )
    visible = live
    if actor.role == Role.PROVIDER:
        own_drafts = and_(
            col(Offer.status) == OfferStatus.DRAFT, col(Offer.provider_id) == actor.organisation_id
        )
        visible = or_(live, own_drafts)
    query = select(Offer.id).where(visible)
    if category:
        query = query.where(Offer.category_id == ref.category(category).id)
    if unit:
        if unit not in ref.unit_codes():
            raise Invalid(f"Unknown unit {unit!r}.", field="unit")
        unit_ids = [u.id for u in ref.units.values() if u.code == unit]
        if category:
            unit_ids = [ref.unit(ref.category(category), unit).id]
        query = query.where(col(Offer.unit_id).in_(unit_ids))
    if provider_id is not None:
        query = query.where(Offer.provider_id == provider_id)
    if commissioned is not None:
        query = query.where(Offer.commissioned == commissioned)
    for word in _search_words(q):
        query = query.where(
            or_(
                func.lower(col(Offer.title)).contains(word, autoescape=True),
                func.lower(col(Offer.description)).contains(word, autoescape=True),
            )
        )
    return query  # type: ignore[return-value]


def _rank_by_price(
    session: Session, query: SelectOfScalar[int], quantity: Decimal | None
) -> list[int]:
    """Matching offers' ids, cheapest first at ``quantity`` (else by lowest price); one query."""
    matching = query.subquery()
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Offer.id, Offer.title, OfferTier.min_quantity, OfferTier.unit_price_pence
        )
        .join(matching, matching.c.id == col(Offer.id))
        .join(
            OfferVersion,
            and_(
                col(OfferVersion.offer_id) == col(Offer.id),
                col(OfferVersion.number) == col(Offer.current_version),
            ),
        )
        .join(OfferTier, col(OfferTier.version_id) == col(OfferVersion.id))
        .order_by(col(Offer.id), col(OfferTier.min_quantity))
    ).all()
    tiers: dict[int, list[Tier]] = defaultdict(list)
    titles: dict[int, str] = {}
    for offer_id, title, min_quantity, price in rows:
        titles[offer_id] = title
        tiers[offer_id].append(Tier(min_quantity=Decimal(min_quantity), unit_price_pence=price))

    def price_of(offer_id: int) -> int:
        offer_tiers = tiers[offer_id]
        if quantity is None:
            return min(t.unit_price_pence for t in offer_tiers)
        return tier_for(offer_tiers, quantity).unit_price_pence

    return sorted(titles, key=lambda i: (price_of(i), titles[i].lower(), i))


def compare_offers(
    session: Session, actor: User, *, category: str, unit: str, quantity: Decimal | str
) -> list[OfferSummary]:
    """Every live offer in one category and unit, cheapest first at ``quantity``."""
    ref = load_reference(session)
    unit_info = ref.unit(ref.category(category), unit)
    amount = check_quantity(quantity, field="quantity", unit=unit_info)
    query = _browse_query(
        actor, ref, category=category, unit=unit, q=None, provider_id=None, commissioned=None
    )
    query = query.where(col(Offer.status) == OfferStatus.PUBLISHED)
    return _summaries(session, ref, _rank_by_price(session, query, amount), amount)


def list_own_offers(session: Session, actor: User) -> list[OfferSummary]:
    """Every offer of the provider's organisation, in any status, newest first."""
    require_provider(actor)
    ids = list(
        session.exec(
            select(Offer.id)
            .where(Offer.provider_id == actor.organisation_id)
            .order_by(col(Offer.id).desc())
        ).all()
    )
    return _summaries(session, load_reference(session), [int(i) for i in ids if i], None)


def offer_counts(session: Session, *, provider_id: int | None = None) -> dict[str, int]:
    """Offers by status for a provider, or live published offers by category code."""
    if provider_id is not None:
        rows = session.exec(
            select(Offer.status, func.count())
            .where(Offer.provider_id == provider_id)
            .group_by(col(Offer.status))
        ).all()
        return {status: int(n) for status, n in rows}
    today = clock.today()
    rows2 = session.exec(
        select(Category.code, func.count(col(Offer.id)))
        .join(
            Offer,
            and_(
                col(Offer.category_id) == col(Category.id),
                col(Offer.status) == OfferStatus.PUBLISHED,
                col(Offer.valid_from) <= today,
                or_(col(Offer.valid_until).is_(None), col(Offer.valid_until) >= today),
            ),
            isouter=True,
        )
        .group_by(col(Category.code), col(Category.id))
        .order_by(col(Category.id))
    ).all()
    return {code: int(n) for code, n in rows2}


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
        offer_version_id=_pk(version),
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
    version = _current_version(session, offer)
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
    tiers = _version_tiers(session, _pk(version))
    return _price(_pk(offer), version, unit, tiers, amount, start, end)


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
    get_visible_offer(session, actor, offer_id)
    return quote_offer(
        session, offer_id=offer_id, quantity=quantity, start_date=start_date, end_date=end_date
    )


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
        version.offer_id, version, unit, _version_tiers(session, version_id), amount, start, end
    )
