"""Searching the catalogue: filters, word search, price sorting at a quantity, comparison.
Reading single offers is ``offer_reads``."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from math import ceil, prod
from typing import Any, TypedDict, Unpack, cast

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_provider
from lap_market.catalogue.counts import (
    count_offers,
    offers_in_catalogue,
    offers_with_text,
    rarest_piece,
)
from lap_market.catalogue.offer_reads import OfferFields, OfferRow, summaries_of_rows
from lap_market.catalogue.pricing import Tier
from lap_market.catalogue.reference import Reference, UnitInfo, load_reference
from lap_market.catalogue.schemas import MAX_PAGE_SIZE, OfferPage, OfferSummary, SortKey
from lap_market.catalogue.search import (
    GENERATION,
    PROVIDER_NAME,
    TIERS,
    VERSION_ID,
    Scope,
    Shape,
    count_statement,
    page_rows,
    word_values,
)
from lap_market.catalogue.service import check_quantity
from lap_market.clock import clock
from lap_market.errors import Invalid

MAX_SEARCH_WORDS = 10


def _search_words(q: str | None) -> list[str]:
    if not q:
        return []
    if len(q) > 200:
        raise Invalid("Search text must be at most 200 characters.", field="q")
    return [w.lower() for w in q.split()][:MAX_SEARCH_WORDS]


@dataclass(frozen=True)
class Found:
    """A page of offer rows (plain rows, never ORM objects) with their versions' tiers as
    the database wrote them, the total the search matches, and the quantity they are priced
    at."""

    rows: list[OfferRow]
    tiers_text: dict[int, str]  # version id: "minimum:pence,…" (``parse_tiers``)
    total: int
    quantity: Decimal | None
    ref: Reference

    @property
    def tiers(self) -> dict[int, Sequence[Tier]]:
        """Each version's tiers."""
        return _tiers_of(self.tiers_text)


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
    items = summaries_of_rows(session, found.ref, found.rows, found.quantity, found.tiers)
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
    shape, params, pieces = _plan(
        session, actor, ref, Filters(category, unit, words, provider_id, commissioned)
    )
    price_unit = _price_unit(ref, category, unit) if sort == "price" else None
    amount = _quantity(ref, query.get("quantity"), price_unit, category=category, unit=unit)
    if price_unit is not None:
        params.update(price_unit=price_unit.id, quantity=amount)
        shape = replace(shape, order="price_low" if amount is None else "price_at")
    elif pieces and (budget := _walk_budget(session, shape, pieces, page * page_size)):
        shape, params["budget"] = replace(shape, walk=True), budget
    params.update(limit=page_size, offset=(page - 1) * page_size)
    rows, tiers_text, generation = _page(session, shape, params)
    # What the count depends on: the viewer (own drafts) and the filters.
    key = (params.get("viewer"), category, unit, tuple(words), provider_id, commissioned)
    total = count_offers(session, key, count_statement(shape), params, generation=generation)
    return Found(rows=rows, tiers_text=tiers_text, total=total, quantity=amount, ref=ref)


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
) -> tuple[list[OfferRow], dict[int, str], int | None]:
    """A page of offer rows with their tiers' text, and the catalogue's generation (None when
    the page is empty)."""
    rows: list[OfferRow] = []
    tiers_text: dict[int, str] = {}
    generation = None
    # Core rows through the connection: the ORM layer has nothing to add to plain columns.
    for r in page_rows(session.connection(), shape, params):
        version_id = r[VERSION_ID]
        rows.append((cast(OfferFields, r), version_id, r[PROVIDER_NAME]))
        tiers_text[version_id] = r[TIERS] or ""
        generation = r[GENERATION]
    return rows, tiers_text, generation


def _tiers_of(tiers_text: dict[int, str]) -> dict[int, Sequence[Tier]]:
    return {version: parse_tiers(text) for version, text in tiers_text.items()}


@lru_cache(maxsize=8192)
def parse_tiers(text: str) -> tuple[Tier, ...]:
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
) -> tuple[Shape, dict[str, Any], list[str]]:
    """The shape of a search with these filters, the values to run it with, and the words'
    rarest pieces (``_rarest_pieces``)."""
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
    pieces = _rarest_pieces(session, filters.words)
    params.update(word_values(filters.words, pieces, sqlite=sqlite))
    shape = Shape(
        scope=scope,
        drafts=drafts,
        provider=filters.provider_id is not None,
        commissioned=filters.commissioned is not None,
        words=len(filters.words),
        narrowed=len(pieces),
        sqlite=sqlite,
    )
    return shape, params, pieces


def _rarest_pieces(session: Session, words: list[str]) -> list[str]:
    """Each word's letter triple that the fewest offers hold.

    The text index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) narrows the offers to
    those holding all of them (an intersection of short lists of offers) and LIKE checks
    every word on those few: looking up whole words would walk the index entries of their
    common letter triples (most offers) on every search. Words shorter than three letters
    are left to LIKE.
    """
    return sorted({piece for word in words if (piece := rarest_piece(session, word))})


# A walk goes up to twice as far as the offers it is estimated to need (rounded up to a
# multiple of 64, so that PostgreSQL, which has it written into the SQL, keeps few plans):
# the estimate takes words to be spread evenly through name order, which a place name that
# begins many titles is not. It is chosen while that budget is under twice the offers the
# look-up would check, each of which cost about twice an offer walked (SQLite, at 2,000 and
# 20,000 offers): so a walk that fails costs no more than the look-up after it.
WALK_MARGIN = 2
WALK_STEP = 64


def _walk_budget(
    session: Session, shape: Shape, pieces: list[str], page_end: int
) -> int | None:
    """How many offers to walk in name order (the name index) looking for a word search's
    page, checking the words on each, when that is estimated cheaper than looking its rarest
    ``pieces`` up in the text index and checking and sorting every offer found; else None.

    The index finds as many offers as hold the rarest word's rarest triple, which grows with
    the catalogue; a walk visits about ``page_end`` divided by the share of offers holding
    every word, which does not. So a common word ("strongroom", one offer in eight) is
    walked: 0.12 ms of SQL at 20,000 offers against 4.1 ms looked up; a rare one (a place name,
    one in fifty) is looked up. A walk that does not fill the page within its budget falls
    back to the look-up (``search.page_rows``), so it costs at most about twice that.
    """
    if shape.scope == "units" or shape.provider:
        # No index holds a unit's offers in name order; one provider's are too few to walk to.
        return None
    counts = [offers_with_text(session, piece) for piece in pieces]
    total = offers_in_catalogue(session)
    if not total:
        return None
    share = prod(min(1.0, count / total) for count in counts)
    if share == 0:
        return None
    budget = ceil(WALK_MARGIN * page_end / share / WALK_STEP) * WALK_STEP
    return budget if budget < 2 * min(counts) else None


def compare_offers(
    session: Session, actor: User, *, category: str, unit: str, quantity: Decimal | str
) -> list[OfferSummary]:
    """Every live offer in one category and unit, cheapest first at ``quantity``."""
    ref = load_reference(session)
    unit_info = ref.unit(ref.category(category), unit)
    amount = check_quantity(quantity, field="quantity", unit=unit_info)
    shape, params, _pieces = _plan(session, actor, ref, Filters(category, unit, []))
    # Published offers only: a provider's own drafts are not in the comparison.
    shape = replace(shape, drafts=False, order="price_at", paged=False)
    params.update(price_unit=unit_info.id, quantity=amount)
    rows, tiers_text, _generation = _page(session, shape, params)
    return ranked(actor, summaries_of_rows(session, ref, rows, amount, _tiers_of(tiers_text)))


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
