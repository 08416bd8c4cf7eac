"""Reading the catalogue: offer views, search, price sorting at a quantity, comparison."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, TypedDict, Unpack, cast

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from lap_market.accounts.models import Organisation, User
from lap_market.accounts.policy import is_provider
from lap_market.catalogue.counts import count_offers, like_pattern, rarest_piece
from lap_market.catalogue.models import (
    Category,
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.policy import require_provider
from lap_market.catalogue.pricing import Tier, line_value, tier_for
from lap_market.catalogue.reference import Reference, UnitInfo, load_reference
from lap_market.catalogue.schemas import (
    MAX_PAGE_SIZE,
    OfferPage,
    OfferRead,
    OfferSummary,
    SortKey,
    TierRead,
    VersionRead,
)
from lap_market.catalogue.search import (
    Scope,
    Shape,
    count_statement,
    page_rows,
    with_current_version,
)
from lap_market.catalogue.service import check_quantity, get_visible_offer
from lap_market.clock import as_utc, clock
from lap_market.errors import Invalid
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.paging import paginate

MAX_SEARCH_WORDS = 10


# --- reading offers -------------------------------------------------------------------


def _tier_reads(tiers: Sequence[Tier]) -> list[TierRead]:
    return [
        TierRead.model_construct(
            min_quantity=t.min_quantity, unit_price=from_pence(t.unit_price_pence)
        )
        for t in tiers
    ]


class OfferFields(Protocol):
    """What a summary reads of an offer: an ``Offer`` or a row of its columns."""

    id: int | None
    title: str
    provider_id: int
    unit_id: int
    status: str
    commissioned: bool
    current_version: int
    capacity: Decimal | None
    capacity_used: Decimal
    lead_time_days: int
    valid_from: date
    valid_until: date | None


# An offer's fields, its current version's id and its provider's name.
OfferRow = tuple[OfferFields, int, str]


def _summary(
    offer: OfferFields,
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    tiers: Sequence[Tier],
    quantity: Decimal | None,
) -> OfferSummary:
    available = (
        None if offer.capacity is None else Decimal(offer.capacity) - Decimal(offer.capacity_used)
    )
    # Built without validation: every value comes typed from the database, and validating a
    # page of summaries and their tiers cost more than the queries that read them.
    summary = OfferSummary.model_construct(
        id=pk(offer),
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
    rows = session.execute(
        sa_select(
            col(OfferTier.version_id), col(OfferTier.min_quantity), col(OfferTier.unit_price_pence)
        )
        .where(col(OfferTier.version_id).in_(ids))
        .order_by(col(OfferTier.version_id), col(OfferTier.min_quantity))
    ).all()
    for version_id, minimum, price in rows:
        by_version[version_id].append(Tier(min_quantity=Decimal(minimum), unit_price_pence=price))
    return by_version


def _summaries(
    session: Session, ref: Reference, offer_ids: list[int], quantity: Decimal | None
) -> list[OfferSummary]:
    """Summaries of these offers, in this order, in two queries (no N+1)."""
    if not offer_ids:
        return []
    query = select(Offer, OfferVersion.id, Organisation.name).where(col(Offer.id).in_(offer_ids))
    rows = session.exec(with_current_version(query)).all()
    typed: list[tuple[Offer, int, str]] = [(r[0], r[1] or 0, r[2]) for r in rows]
    by_id = {pk(s): s for s in _summaries_of_rows(session, ref, typed, quantity)}
    return [by_id[i] for i in offer_ids if i in by_id]


def _summaries_of_rows(
    session: Session,
    ref: Reference,
    rows: Sequence[OfferRow],
    quantity: Decimal | None,
    tiers: Mapping[int, Sequence[Tier]] | None = None,
) -> list[OfferSummary]:
    """Summaries of (offer, current version id, provider name) rows, with one tiers query
    unless the rows came with their tiers."""
    if tiers is None:
        tiers = _tiers_by_version(session, [r[1] for r in rows])
    return [
        _summary(offer, version_id, name, ref.units[offer.unit_id], tiers[version_id], quantity)
        for offer, version_id, name in rows
    ]


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
    tiers = _tiers_by_version(session, [pk(v) for v in versions])
    provider = session.get(Organisation, offer.provider_id)
    current = next(v for v in versions if v.number == offer.current_version)
    summary = _summary(
        offer,
        pk(current),
        provider.name if provider else "",
        ref.units[offer.unit_id],
        tiers[pk(current)],
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
                id=pk(v),
                number=v.number,
                unit=ref.units[v.unit_id].code,
                tiers=_tier_reads(tiers[pk(v)]),
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


@dataclass(frozen=True)
class Found:
    """A page of offer rows (plain rows, never ORM objects) with their tiers, the total
    the search matches, and the quantity they are priced at."""

    rows: list[OfferRow]
    tiers: dict[int, Sequence[Tier]]
    total: int
    quantity: Decimal | None
    ref: Reference


class OfferQuery(TypedDict, total=False):
    """What a catalogue search asks for, passed through unchanged from a route to
    ``browse_offers`` and ``search_offers`` (absent means: no filter, sort by name, the
    first page of 20)."""

    category: str | None
    unit: str | None
    q: str | None
    provider_id: int | None
    commissioned: bool | None
    quantity: Decimal | str | None
    sort: SortKey
    page: int
    page_size: int


def browse_offers(session: Session, actor: User, **query: Unpack[OfferQuery]) -> OfferPage:
    """Published, currently valid offers (plus the caller's own drafts), filtered and sorted.

    With ``quantity`` every item carries its unit price at that quantity, and ``sort=price``
    orders by it; without, ``sort=price`` orders by the lowest tier price. Prices in different
    units cannot be ranked together, so ``sort=price`` needs the filters to name one unit.
    """
    found = search_offers(session, actor, **query)
    items = _summaries_of_rows(session, found.ref, found.rows, found.quantity, found.tiers)
    for item in items:
        item.yours = item.provider_id == actor.organisation_id
    return OfferPage(items=items, total=found.total)


def search_offers(session: Session, actor: User, **query: Unpack[OfferQuery]) -> Found:
    """What ``browse_offers`` lists, as rows: the API turns them into JSON directly."""
    category, unit, q = query.get("category"), query.get("unit"), query.get("q")
    provider_id, commissioned = query.get("provider_id"), query.get("commissioned")
    sort, page = query.get("sort", "name"), query.get("page", 1)
    page_size = query.get("page_size", 20)
    if page < 1:
        raise Invalid("Page must be 1 or more.", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"Page size must be between 1 and {MAX_PAGE_SIZE}.", field="page_size")
    if sort not in ("name", "price"):
        raise Invalid("Sort by price or name.", field="sort")
    ref = load_reference(session)
    words = _search_words(q)
    shape, params = _plan(
        session, actor, ref, Filters(category, unit, words, provider_id, commissioned)
    )
    price_unit = _price_unit(ref, category, unit) if sort == "price" else None
    amount = _quantity(ref, query.get("quantity"), price_unit, category=category, unit=unit)
    if price_unit is not None:
        params.update(price_unit=price_unit.id, quantity=amount)
        shape = replace(shape, order="price_low" if amount is None else "price_at")
    params.update(limit=page_size, offset=(page - 1) * page_size)
    rows, tiers, generation = _page(session, shape, params)
    # What the count depends on: the viewer (own drafts) and the filters.
    key = (params.get("viewer"), category, unit, tuple(words), provider_id, commissioned)
    total = count_offers(session, key, count_statement(shape), params, generation=generation)
    return Found(rows=rows, tiers=tiers, total=total, quantity=amount, ref=ref)


def _quantity(
    ref: Reference,
    quantity: Decimal | str | None,
    price_unit: UnitInfo | None,
    *,
    category: str | None,
    unit: str | None,
) -> Decimal | None:
    """The quantity to price at, checked against the unit when the search names one."""
    if quantity in (None, ""):
        return None
    if price_unit is None and category and unit:
        price_unit = ref.unit(ref.category(category), unit)
    return check_quantity(quantity, field="quantity", unit=price_unit)


def _page(
    session: Session, shape: Shape, params: dict[str, Any]
) -> tuple[list[OfferRow], dict[int, Sequence[Tier]], int | None]:
    """A page of offer rows with their tiers, and the catalogue's generation (None when the
    page is empty)."""
    rows: list[OfferRow] = []
    tiers: dict[int, Sequence[Tier]] = {}
    generation = None
    # Core rows through the connection: the ORM layer has nothing to add to plain columns.
    for r in page_rows(session.connection(), shape, params):
        rows.append((cast(OfferFields, r), int(r.version_id), str(r.provider_name)))
        tiers[r.version_id] = _parse_tiers(r.tiers or "")
        generation = int(r.generation)
    return rows, tiers, generation


@lru_cache(maxsize=8192)
def _parse_tiers(text: str) -> tuple[Tier, ...]:
    """Tiers from "minimum:pence,…" (in any order: string aggregation keeps none). The same
    text always means the same tiers, and a catalogue has few distinct ones: parsing them
    (Decimals, sorting) for every row of every page cost more than reading them."""
    pairs = (item.split(":") for item in text.split(",") if item)
    tiers = [Tier(min_quantity=Decimal(low), unit_price_pence=int(pence)) for low, pence in pairs]
    return tuple(sorted(tiers, key=lambda t: t.min_quantity))


def _price_unit(ref: Reference, category: str | None, unit: str | None) -> UnitInfo:
    """The one unit a price ranking is in; 422 naming the filter to add when it is not one."""
    if category:
        chosen = ref.category(category)
        if unit:
            return ref.unit(chosen, unit)
        units = ref.units_of(chosen)
        if len(units) == 1:
            return units[0]
        names = ", ".join(u.code for u in units)
        raise Invalid(
            f"Choose a unit to sort {chosen.code} by price ({names}): prices in different "
            "units cannot be ranked together.",
            field="unit",
        )
    if not unit:
        raise Invalid(
            "Choose a category and unit to sort by price: prices in different units "
            "cannot be ranked together.",
            field="unit",
        )
    matches = [u for u in ref.units.values() if u.code == unit]
    if not matches:
        raise Invalid(f"Unknown unit {unit!r}.", field="unit")
    if len(matches) > 1:
        names = ", ".join(u.category_code for u in matches)
        raise Invalid(
            f"Unit {unit!r} is used by several categories ({names}); choose one to sort "
            "by price.",
            field="category",
        )
    return matches[0]


@dataclass(frozen=True)
class Filters:
    category: str | None
    unit: str | None
    words: list[str]
    provider_id: int | None = None
    commissioned: bool | None = None


def _plan(
    session: Session, actor: User, ref: Reference, filters: Filters
) -> tuple[Shape, dict[str, Any]]:
    """The shape of a search with these filters, and the values to run it with."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    params: dict[str, Any] = {"today": clock.today()}
    drafts = is_provider(actor)  # a provider (a selling borough too) sees its own drafts
    if drafts:
        params["viewer"] = actor.organisation_id
    scope: Scope = "all"
    if filters.unit:
        unit = filters.unit
        if unit not in ref.unit_codes():
            raise Invalid(f"Unknown unit {unit!r}.", field="unit")
        unit_ids = [u.id for u in ref.units.values() if u.code == unit]
        if filters.category:
            # A unit belongs to one category: its id alone scopes both (a covering index).
            unit_ids = [ref.unit(ref.category(filters.category), unit).id]
        scope, params["unit_ids"] = "units", unit_ids
    elif filters.category:
        scope, params["category_id"] = "category", ref.category(filters.category).id
    if filters.provider_id is not None:
        params["provider_id"] = filters.provider_id
    if filters.commissioned is not None:
        params["commissioned"] = filters.commissioned
    for i, word in enumerate(filters.words):
        params[f"t{i}" if sqlite else f"w{i}"] = word if sqlite else like_pattern(word)
    pieces = _rarest_pieces(session, filters.words)
    if sqlite and pieces:
        params["pieces"] = " AND ".join('"' + p.replace('"', '""') + '"' for p in pieces)
    else:
        params.update((f"piece{i}", like_pattern(piece)) for i, piece in enumerate(pieces))
    shape = Shape(
        scope=scope,
        drafts=drafts,
        provider=filters.provider_id is not None,
        commissioned=filters.commissioned is not None,
        words=len(filters.words),
        narrowed=len(pieces),
        sqlite=sqlite,
    )
    return shape, params


def _rarest_pieces(session: Session, words: list[str]) -> list[str]:
    """Each word's letter triple that the fewest offers hold.

    The text index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) narrows the offers to
    those holding all of them (an intersection of short lists of offers) and LIKE checks
    every word on those few: looking up whole words would walk the index entries of their
    common letter triples (most offers) on every search. Words shorter than three letters
    are left to LIKE.
    """
    return sorted({piece for word in words if (piece := rarest_piece(session, word))})


def compare_offers(
    session: Session, actor: User, *, category: str, unit: str, quantity: Decimal | str
) -> list[OfferSummary]:
    """Every live offer in one category and unit, cheapest first at ``quantity``."""
    ref = load_reference(session)
    unit_info = ref.unit(ref.category(category), unit)
    amount = check_quantity(quantity, field="quantity", unit=unit_info)
    shape, params = _plan(session, actor, ref, Filters(category, unit, []))
    # Published offers only: a provider's own drafts are not in the comparison.
    shape = replace(shape, drafts=False, order="price_at", paged=False)
    params.update(price_unit=unit_info.id, quantity=amount)
    rows, tiers, _generation = _page(session, shape, params)
    return ranked(actor, _summaries_of_rows(session, ref, rows, amount, tiers))


def ranked(actor: User, offers: list[OfferSummary]) -> list[OfferSummary]:
    """Rank offers in their order, marking the viewer's own "yours" and leaving them unranked:
    a borough that sells compares what others charge, and must not be steered to itself."""
    rank = 0
    for offer in offers:
        offer.yours = offer.provider_id == actor.organisation_id
        if not offer.yours:
            rank += 1
            offer.rank = rank
    return offers


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


def page_own_offers(
    session: Session, actor: User, *, page: int, page_size: int
) -> tuple[list[OfferSummary], int]:
    """One page of the provider organisation's offers in any status, newest first, and how
    many it has in all (counted by the database)."""
    require_provider(actor)
    query = (
        select(Offer.id)
        .where(Offer.provider_id == actor.organisation_id)
        .order_by(col(Offer.id).desc())
    )
    ids, total = paginate(session, query, page=page, page_size=page_size)
    return _summaries(session, load_reference(session), [int(i) for i in ids if i], None), total


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
