"""Reading the catalogue: offer views, search, price sorting at a quantity, comparison."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol, cast

from sqlalchemy import ColumnElement, Select, String, and_, literal_column
from sqlalchemy import cast as cast_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from lap_market.accounts.models import Organisation, User
from lap_market.accounts.policy import is_provider
from lap_market.catalogue.counts import FTS, count_offers, fts_match, offers_with_text
from lap_market.catalogue.models import (
    CatalogueState,
    Category,
    Offer,
    OfferPriceBand,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.catalogue.pricing import Tier, line_value, tier_for
from lap_market.catalogue.reference import Reference, UnitInfo, load_reference
from lap_market.catalogue.schemas import (
    OfferPage,
    OfferRead,
    OfferSummary,
    TierRead,
    VersionRead,
)
from lap_market.catalogue.service import check_quantity, get_visible_offer, require_provider
from lap_market.clock import as_utc, clock
from lap_market.errors import Invalid
from lap_market.modeling import row_id
from lap_market.money import from_pence
from lap_market.paging import paginate

SortKey = Literal["name", "price"]
MAX_PAGE_SIZE = 100
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
    tiers: list[Tier],
    quantity: Decimal | None,
) -> OfferSummary:
    available = (
        None if offer.capacity is None else Decimal(offer.capacity) - Decimal(offer.capacity_used)
    )
    # Built without validation: every value comes typed from the database, and validating a
    # page of summaries and their tiers cost more than the queries that read them.
    summary = OfferSummary.model_construct(
        id=row_id(offer),
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
    by_id = {row_id(s): s for s in _summaries_of_rows(session, ref, typed, quantity)}
    return [by_id[i] for i in offer_ids if i in by_id]


def _summaries_of_rows(
    session: Session,
    ref: Reference,
    rows: Sequence[OfferRow],
    quantity: Decimal | None,
    tiers: dict[int, list[Tier]] | None = None,
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
    tiers = _tiers_by_version(session, [row_id(v) for v in versions])
    provider = session.get(Organisation, offer.provider_id)
    current = next(v for v in versions if v.number == offer.current_version)
    summary = _summary(
        offer,
        row_id(current),
        provider.name if provider else "",
        ref.units[offer.unit_id],
        tiers[row_id(current)],
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
                id=row_id(v),
                number=v.number,
                unit=ref.units[v.unit_id].code,
                tiers=_tier_reads(tiers[row_id(v)]),
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
    orders by it; without, ``sort=price`` orders by the lowest tier price. Prices in different
    units cannot be ranked together, so ``sort=price`` needs the filters to name one unit.
    """
    if page < 1:
        raise Invalid("Page must be 1 or more.", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"Page size must be between 1 and {MAX_PAGE_SIZE}.", field="page_size")
    if sort not in ("name", "price"):
        raise Invalid("Sort by price or name.", field="sort")
    ref = load_reference(session)
    scope, rest = _filters(
        session,
        actor,
        ref,
        category=category,
        unit=unit,
        q=q,
        provider_id=provider_id,
        commissioned=commissioned,
    )
    price_unit = _price_unit(ref, category, unit) if sort == "price" else None
    amount = _quantity(ref, quantity, price_unit, category=category, unit=unit)
    where = [*scope, *rest]
    start = (page - 1) * page_size
    if price_unit is not None:
        # The bands' unit stands for the category and unit filters, so the database starts
        # from the unit's bands in price order, not from every offer of the unit.
        query = _by_price(OFFER_ROWS.where(*rest), price_unit, amount)
    else:
        query = OFFER_ROWS.where(*where).order_by(*NAME_ORDER)
    found = _page(session, query.offset(start).limit(page_size))
    viewer = actor.organisation_id if is_provider(actor) else None  # own drafts
    search = (viewer, category, unit, tuple(_search_words(q)), provider_id, commissioned)
    total = count_offers(session, search, where, generation=found.generation)
    items = _summaries_of_rows(session, ref, found.rows, amount, found.tiers)
    for item in items:
        item.yours = item.provider_id == actor.organisation_id
    return OfferPage(items=items, total=total)


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


# Name order, with the id to keep offers of the same title in a stable order.
NAME_ORDER = (func.lower(col(Offer.title)), col(Offer.id))
# The columns a summary needs (not the description), the current version and the provider.
OFFER_ROWS = (
    sa_select(
        *(
            Offer.__table__.c[name]  # type: ignore[attr-defined]
            for name in OfferFields.__annotations__
        ),
        col(OfferVersion.id).label("version_id"),
        col(Organisation.name).label("provider_name"),
        # The tiers as "minimum:pence,…", saving a query per page.
        sa_select(
            func.aggregate_strings(
                cast_(col(OfferTier.min_quantity), String)
                + ":"
                + cast_(col(OfferTier.unit_price_pence), String),
                ",",
            )
        )
        .where(col(OfferTier.version_id) == col(OfferVersion.id))
        .scalar_subquery()
        .label("tiers"),
        # Read with the page, so that keeping counts costs no query of its own.
        sa_select(col(CatalogueState.generation))
        .where(col(CatalogueState.id) == 1)
        .scalar_subquery()
        .label("generation"),
    )
    .join(
        OfferVersion,
        and_(
            col(OfferVersion.offer_id) == col(Offer.id),
            col(OfferVersion.number) == col(Offer.current_version),
        ),
    )
    .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
)


@dataclass(frozen=True)
class _Page:
    rows: list[OfferRow]
    tiers: dict[int, list[Tier]]
    generation: int | None  # None when the page is empty


def _page(session: Session, query: Select[Any]) -> _Page:
    """A page of offer rows (plain rows, never ORM objects) with their tiers."""
    rows: list[OfferRow] = []
    tiers: dict[int, list[Tier]] = {}
    generation = None
    for r in session.execute(query).all():
        rows.append((cast(OfferFields, r), int(r.version_id), str(r.provider_name)))
        tiers[r.version_id] = _parse_tiers(r.tiers or "")
        generation = int(r.generation)
    return _Page(rows=rows, tiers=tiers, generation=generation)


def _parse_tiers(text: str) -> list[Tier]:
    """Tiers from "minimum:pence,…" (in any order: string aggregation keeps none)."""
    pairs = (item.split(":") for item in text.split(",") if item)
    tiers = [Tier(min_quantity=Decimal(low), unit_price_pence=int(pence)) for low, pence in pairs]
    return sorted(tiers, key=lambda t: t.min_quantity)


def _by_price(query: Select[Any], unit: UnitInfo, quantity: Decimal | None) -> Select[Any]:
    """Ranked by the unit price at ``quantity`` (else the lowest tier), cheapest first.

    Each offer has exactly one price band holding the quantity, so the database walks the
    unit's bands in price order and stops at the page instead of pricing every offer.
    """
    band = OfferPriceBand
    holds: ColumnElement[bool]
    if quantity is None:
        # Prices never rise with volume, so the open-ended last tier is the lowest.
        holds = col(band.upper_quantity).is_(None)
    else:
        holds = and_(
            col(band.lower_quantity) <= quantity,
            or_(col(band.upper_quantity).is_(None), col(band.upper_quantity) > quantity),
        )
    return (
        query.join(band, col(band.offer_id) == col(Offer.id))
        .where(col(band.unit_id) == unit.id, holds)
        .order_by(col(band.unit_price_pence), *NAME_ORDER)
    )


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


def _filters(
    session: Session,
    actor: User,
    ref: Reference,
    *,
    category: str | None,
    unit: str | None,
    q: str | None,
    provider_id: int | None,
    commissioned: bool | None,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """Conditions on ``offer``: the category and unit asked for, then what the actor may see
    and the other filters."""
    today = clock.today()
    live = and_(
        col(Offer.status) == OfferStatus.PUBLISHED,
        col(Offer.valid_from) <= today,
        or_(col(Offer.valid_until).is_(None), col(Offer.valid_until) >= today),
    )
    visible = live
    if is_provider(actor):
        own_drafts = and_(
            col(Offer.status) == OfferStatus.DRAFT, col(Offer.provider_id) == actor.organisation_id
        )
        visible = or_(live, own_drafts)
    scope: list[ColumnElement[bool]] = []
    if unit:
        if unit not in ref.unit_codes():
            raise Invalid(f"Unknown unit {unit!r}.", field="unit")
        unit_ids = [u.id for u in ref.units.values() if u.code == unit]
        if category:
            # A unit belongs to one category: its id alone scopes both (a covering index).
            unit_ids = [ref.unit(ref.category(category), unit).id]
        scope.append(col(Offer.unit_id).in_(unit_ids))
    elif category:
        scope.append(col(Offer.category_id) == ref.category(category).id)
    rest: list[ColumnElement[bool]] = [visible]
    if provider_id is not None:
        rest.append(col(Offer.provider_id) == provider_id)
    if commissioned is not None:
        rest.append(col(Offer.commissioned) == commissioned)
    rest.extend(_word_conditions(session, _search_words(q)))
    return scope, rest


# Lower-cased title and description as one text: what the PostgreSQL trigram index covers.
SEARCH_TEXT = func.lower(
    col(Offer.title).concat(literal_column("' '")).concat(col(Offer.description))
)
TRIGRAM = 3  # letters per entry of the text index; it cannot find shorter words


def _word_conditions(session: Session, words: list[str]) -> list[ColumnElement[bool]]:
    """Every word inside the title or the description, case-insensitively.

    Words hold no spaces, so joining title and description with one cannot make a false
    match. PostgreSQL serves LIKE from its trigram GIN index. On SQLite, the FTS5 trigram
    index narrows the offers to those holding the rarest three letters of the words and LIKE
    checks every word on those few: looking up whole words would walk the index entries of
    their common letter triples (most offers) on every search.
    """
    pieces = {w[i : i + TRIGRAM] for w in words for i in range(len(w) - TRIGRAM + 1)}
    if session.get_bind().dialect.name != "sqlite" or not pieces:
        return [_contains(word) for word in words]
    rarest = min(sorted(pieces), key=lambda piece: offers_with_text(session, piece))
    narrowed = col(Offer.id).in_(select(FTS.c.rowid).where(fts_match(rarest)))
    return [narrowed, *(_contains(word) for word in words)]


def _contains(word: str) -> ColumnElement[bool]:
    escaped = word.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return SEARCH_TEXT.like(f"%{escaped}%", escape="/")


def compare_offers(
    session: Session, actor: User, *, category: str, unit: str, quantity: Decimal | str
) -> list[OfferSummary]:
    """Every live offer in one category and unit, cheapest first at ``quantity``."""
    ref = load_reference(session)
    unit_info = ref.unit(ref.category(category), unit)
    amount = check_quantity(quantity, field="quantity", unit=unit_info)
    _scope, rest = _filters(
        session,
        actor,
        ref,
        category=category,
        unit=unit,
        q=None,
        provider_id=None,
        commissioned=None,
    )
    rest.append(col(Offer.status) == OfferStatus.PUBLISHED)
    found = _page(session, _by_price(OFFER_ROWS.where(*rest), unit_info, amount))
    return ranked(actor, _summaries_of_rows(session, ref, found.rows, amount, found.tiers))


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
