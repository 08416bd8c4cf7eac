"""The catalogue's search statements, built once per shape and run with each request's values.

A search's cost should be its queries, not assembling them: building the conditions as
SQLAlchemy expressions and deriving their cache key took longer than SQLite took to run
them. A search's *shape* (which filters it has, how it is ordered, how many words) picks a
statement built on first use with bound parameters; each request only binds its values
(today, the unit, the quantity, the words …). SQLAlchemy then reuses the compiled SQL.
Nothing here keeps a result: every request runs its query.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import (
    Boolean,
    ColumnCollection,
    ColumnElement,
    Connection,
    Date,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    column,
    literal_column,
    or_,
    table,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import col, func

from lap_market.accounts.models import Organisation
from lap_market.catalogue.counts import FTS, SEARCH_TEXT, like_pattern
from lap_market.catalogue.models import (
    CatalogueState,
    Offer,
    OfferPriceBand,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.driver_reads import read_rows

SelectT = TypeVar("SelectT")
Order = Literal["name", "price_at", "price_low"]
Scope = Literal["all", "units", "category"]
# The offer columns a summary reads (not the description).
SUMMARY_COLUMNS = (
    "id",
    "title",
    "provider_id",
    "unit_id",
    "status",
    "commissioned",
    "current_version",
    "capacity",
    "capacity_used",
    "lead_time_days",
    "valid_from",
    "valid_until",
)
# Where a page row holds what follows the summary's columns (``_offer_rows``): rows are read
# by position, because reading a row's column by name cost more than the rest of its handling.
VERSION_ID, PROVIDER_NAME, TIERS, GENERATION = range(len(SUMMARY_COLUMNS), len(SUMMARY_COLUMNS) + 4)


@dataclass(frozen=True)
class Shape:
    """What a search's statement looks like, whatever values it is run with."""

    order: Order = "name"
    scope: Scope = "all"
    drafts: bool = False  # a provider also sees its organisation's drafts
    provider: bool = False  # filtered to one provider
    commissioned: bool = False  # filtered on commissioned / not
    words: int = 0  # words, bound as t0, t1 … (SQLite) or LIKE patterns w0, w1 … (see _contains)
    narrowed: int = 0  # the text index narrows to offers holding this many pieces (see _rest)
    walk: bool = False  # the page is looked for among the first :budget offers in name order
    sqlite: bool = False  # SQLite's LIKE ignores ASCII case itself (see ``_contains``)
    paged: bool = True  # :limit and :offset (the compare page shows every offer)


Columns = ColumnCollection[str, Any]
OFFERS: Columns = Offer.__table__.c  # type: ignore[attr-defined]  # SQLModel's table is untyped
# SQLite's word search rows (migration 0006_wordrows): per offer, what a word search filters
# and orders on, with its name and text lower-cased once when the offer is written, not for
# every offer a search finds. ``id`` is the offer's.
WORD_ROWS = table(
    "offer_search",
    column("id", Integer),
    column("status", String),
    column("valid_from", Date),
    column("valid_until", Date),
    column("provider_id", Integer),
    column("category_id", Integer),
    column("unit_id", Integer),
    column("commissioned", Boolean),
    column("name_key", String),
    column("words", String),
)
WORDS: Columns = WORD_ROWS.c


def name_order(rows: Columns) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Name order, with the id to keep offers of the same title in a stable order."""
    if rows is WORDS:
        return rows.name_key, rows.id
    return func.lower(rows.title), rows.id


NAME_ORDER = name_order(OFFERS)


def _offer_rows() -> Select[Any]:
    """The summary's columns, the current version, the provider, the tiers as
    "minimum:pence,…" (saving a query per page) and the catalogue's generation (read with the
    page, so that keeping counts costs no query of its own)."""
    tiers = (
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
    )
    generation = (
        sa_select(col(CatalogueState.generation))
        .where(col(CatalogueState.id) == 1)
        .scalar_subquery()
    )
    query = sa_select(
        *(OFFERS[name] for name in SUMMARY_COLUMNS),
        col(OfferVersion.id).label("version_id"),
        col(Organisation.name).label("provider_name"),
        tiers.label("tiers"),
        generation.label("generation"),
    )
    return with_current_version(query)


def with_current_version(query: SelectT) -> SelectT:
    """``query`` over offers joined to each one's current version and its provider (an
    SQLAlchemy or an SQLModel select: the joins are the same)."""
    joined: Any = query
    return cast(SelectT, joined.join(
        OfferVersion,
        and_(
            col(OfferVersion.offer_id) == col(Offer.id),
            col(OfferVersion.number) == col(Offer.current_version),
        ),
    ).join(Organisation, col(Organisation.id) == col(Offer.provider_id)))


def _scope(shape: Shape, rows: Columns = OFFERS) -> list[ColumnElement[bool]]:
    """The category and unit asked for (a unit id alone scopes both: a covering index)."""
    if shape.scope == "units":
        return [rows.unit_id.in_(bindparam("unit_ids", expanding=True))]
    if shape.scope == "category":
        return [rows.category_id == bindparam("category_id", type_=Integer)]
    return []


def _rest(shape: Shape) -> list[ColumnElement[bool]]:
    """What the viewer may see, the other filters, and the words, on ``offer``. SQLite finds
    the words' offers in ``offer_search`` (``_word_rows``), with the filters."""
    if shape.sqlite and shape.words:
        return [OFFERS.id.in_(_word_rows(shape, WORDS.id))]
    rest = _filters(shape)
    rest.extend(_narrowed(shape))
    rest.extend(_contains(i, shape) for i in range(shape.words))
    return rest


def _filters(shape: Shape, rows: Columns = OFFERS) -> list[ColumnElement[bool]]:
    """What the viewer may see, and the filters other than words, on ``rows`` (``offer`` or
    ``offer_search``, whose columns are named alike)."""
    today = bindparam("today", type_=Date)
    live = and_(
        rows.status == OfferStatus.PUBLISHED,
        rows.valid_from <= today,
        or_(rows.valid_until.is_(None), rows.valid_until >= today),
    )
    visible = live
    if shape.drafts:
        own_drafts = and_(
            rows.status == OfferStatus.DRAFT,
            rows.provider_id == bindparam("viewer", type_=Integer),
        )
        visible = or_(live, own_drafts)
    filters: list[ColumnElement[bool]] = [visible]
    if shape.provider:
        filters.append(rows.provider_id == bindparam("provider_id", type_=Integer))
    if shape.commissioned:
        filters.append(rows.commissioned == bindparam("commissioned", type_=Boolean))
    return filters


def _word_rows(shape: Shape, *columns: ColumnElement[Any], walk: bool = False) -> Select[Any]:
    """``columns`` of the offers in ``offer_search`` that the viewer may see, with the filters
    and the words (SQLite). The text index narrows them to offers holding the words' rarest
    pieces (``_narrowed``), unless they are walked in name order (``_walked_ids``).

    The text index is joined rather than asked as ``id IN (…)``: its offers are then read in
    the order it finds them, with no list of them built first (a sixth less per search)."""
    query = sa_select(*columns)
    if shape.narrowed and not walk:
        found = FTS.join(WORD_ROWS, WORDS.id == FTS.c.rowid)
        query = query.select_from(found).where(*_narrowed(shape))
    checks = [_contains(i, shape) for i in range(shape.words)]
    return query.where(*_scope(shape, WORDS), *_filters(shape, WORDS), *checks)


def word_values(words: list[str], pieces: list[str], *, sqlite: bool) -> dict[str, Any]:
    """The values ``_contains`` and ``_narrowed`` bind for these (lower-case) words and
    their rarest pieces."""
    if sqlite:
        values: dict[str, Any] = {f"t{i}": word for i, word in enumerate(words)}
        if pieces:
            values["pieces"] = " AND ".join('"' + p.replace('"', '""') + '"' for p in pieces)
        return values
    values = {f"w{i}": like_pattern(word) for i, word in enumerate(words)}
    values.update((f"piece{i}", like_pattern(piece)) for i, piece in enumerate(pieces))
    return values


def _narrowed(shape: Shape) -> list[ColumnElement[bool]]:
    """Offers holding every piece (``browse._rarest_pieces``: each word's rarest letter
    triple), looked up in the text index: a short list of offers for each piece, where a whole
    word's common triples each list a large share of the catalogue (issue 11).

    SQLite: one FTS5 MATCH of ``:pieces`` (``offer_fts`` joined, ``_word_rows``). PostgreSQL:
    LIKE ``:piece0`` … on the indexed text, served by the trigram index; the words themselves
    are then checked on those offers only (``_contains``)."""
    if not shape.narrowed:
        return []
    if shape.sqlite:
        return [literal_column("offer_fts").op("MATCH")(bindparam("pieces", type_=String))]
    return [
        SEARCH_TEXT.like(bindparam(f"piece{i}", type_=String), escape="/")
        for i in range(shape.narrowed)
    ]


def _contains(index: int, shape: Shape) -> ColumnElement[bool]:
    """The title or the description holds word ``index`` (words hold no spaces, so
    title-or-description finds what their joined text would).

    SQLite looks for the lower-case word (``:t0`` …) in ``offer_search.words``, the
    lower-cased title and description, with instr(): a plain substring search, which took half
    the time LIKE's pattern matching did on the offers the text index had found. PostgreSQL
    serves LIKE (``:w0`` …, escaped patterns) on the lower-cased joined text from its trigram
    index, which looks up every letter triple of the word; when the search is narrowed to its
    rarest pieces, the word is checked as a filter on the offers found, in a form that index
    does not cover (else the planner would look the whole word up again), and so it is on
    offers walked in name order.
    """
    if shape.sqlite:
        return func.instr(WORDS.words, bindparam(f"t{index}", type_=String)) > 0
    pattern = bindparam(f"w{index}", type_=String)
    if shape.narrowed or shape.walk:
        return or_(
            func.lower(col(Offer.title)).like(pattern, escape="/"),
            func.lower(col(Offer.description)).like(pattern, escape="/"),
        )
    return SEARCH_TEXT.like(pattern, escape="/")


def _by_price(query: Select[Any], shape: Shape) -> Select[Any]:
    """Ranked by the unit price at :quantity (else the lowest tier), cheapest first.

    Each offer has exactly one price band holding the quantity, so the database walks the
    unit's bands in price order and stops at the page instead of pricing every offer.
    """
    band = OfferPriceBand
    holds: ColumnElement[bool]
    if shape.order == "price_low":
        # Prices never rise with volume, so the open-ended last tier is the lowest.
        holds = col(band.upper_quantity).is_(None)
    else:
        # On PostgreSQL the quantity is written into the SQL, like the page numbers (_paged):
        # how many bands hold it decides the plan. Bound, the kept generic plan assumed a third
        # of the unit's bands and sorted them all (1.2 ms at 2,000 offers) instead of walking
        # the price index to the page (0.36 ms). A quantity is a checked Decimal.
        quantity = bindparam("quantity", type_=Numeric(14, 2), literal_execute=not shape.sqlite)
        holds = and_(
            col(band.lower_quantity) <= quantity,
            or_(col(band.upper_quantity).is_(None), col(band.upper_quantity) > quantity),
        )
    return (
        query.join(band, col(band.offer_id) == col(Offer.id))
        .where(col(band.unit_id) == bindparam("price_unit", type_=Integer), holds)
        .order_by(col(band.unit_price_pence), *NAME_ORDER)
    )


def page_rows(connection: Connection, shape: Shape, params: dict[str, Any]) -> Sequence[Any]:
    """The page's rows of a search of this shape, run with ``params``.

    A walking word search (``Shape.walk``) whose page is not full among the offers it walked
    looks its words up in the text index instead: the page may lie further on, or be the last.
    """
    if shape.walk:
        rows = _run_page(connection, shape, params)
        if len(rows) == params["limit"]:
            return rows
        shape = replace(shape, walk=False)
    return _run_page(connection, shape, params)


def _run_page(connection: Connection, shape: Shape, params: dict[str, Any]) -> Sequence[Any]:
    """The page's rows (``driver_reads.read_rows``: on SQLite the driver runs them, SQLAlchemy's
    execution having cost more than SQLite's own work).

    SQLite picks a word search's page in a statement of its own and then reads those offers:
    as one statement (``_words_page``) it took longer than the two do apart (0.26 ms against
    0.12 + 0.03 at 2,000 offers, 0.40 against 0.17 + 0.09 at 20,000)."""
    if shape.sqlite and _words_paged(shape):
        ids = [row[0] for row in read_rows(connection, page_ids_statement(shape), params)]
        if not ids:
            return []
        return read_rows(connection, _rows_of_ids(), {"ids": json.dumps(ids)})
    return read_rows(connection, page_statement(shape), params)


def _words_paged(shape: Shape) -> bool:
    return shape.order == "name" and bool(shape.words) and shape.paged


@cache
def page_statement(shape: Shape) -> Select[Any]:
    """The page's rows for searches of this shape."""
    if _words_paged(shape):
        return _words_page(shape)
    if shape.order == "name":
        query = _offer_rows().where(*_scope(shape), *_rest(shape)).order_by(*NAME_ORDER)
    else:
        # The band's unit stands for the category and unit filters, so the database starts
        # from the unit's bands in price order, not from every offer of the unit.
        query = _by_price(_offer_rows().where(*_rest(shape)), shape)
    if shape.paged:
        query = _paged(query, shape)
    return query


def _paged(query: SelectT, shape: Shape) -> SelectT:
    """``query``'s page. On PostgreSQL the numbers are written into the SQL (a page size is
    one of a hundred, and mostly 20), so that the generic plan it keeps for a prepared search
    (``db.reading_engine``) is made for a page of that size, not for an unknown share of the
    catalogue. SQLite keeps no plan across values, so there they are bound, which saves
    writing them into the SQL on every request."""
    written = not shape.sqlite
    paged: Any = query
    return cast(SelectT, paged.limit(
        bindparam("limit", type_=Integer, literal_execute=written)
    ).offset(bindparam("offset", type_=Integer, literal_execute=written)))  # fmt: skip


def _words_page(shape: Shape) -> Select[Any]:
    """A word search's page: its offers are picked (and put in name order) by id alone, and
    only the page's are joined to their version, provider and tiers. Every match must be
    sorted before the page is known, and joining each one first made a search cost ten
    times as much at ten times the offers (issue 11)."""
    return _offer_rows().where(col(Offer.id).in_(page_ids_statement(shape))).order_by(*NAME_ORDER)


@cache
def page_ids_statement(shape: Shape) -> Select[Any]:
    """The ids of a word search's page, in name order."""
    if shape.walk:
        return _walked_ids(shape)
    if shape.sqlite:
        return _paged(_word_rows(shape, WORDS.id).order_by(*name_order(WORDS)), shape)
    return _paged(
        sa_select(col(Offer.id)).where(*_scope(shape), *_rest(shape)).order_by(*NAME_ORDER),
        shape,
    )


def _walked_ids(shape: Shape) -> Select[Any]:
    """The ids of a word search's page among the first ``:budget`` offers in scope in name
    order, the words checked on each offer walked. If the page is full, it is the search's
    page: no offer further on comes before it. A bounded walk costs the same wherever the
    words' offers fall in name order (a place name begins its titles), where an unbounded one
    could walk the whole catalogue.

    SQLite walks ``offer_search``'s name index no further than the name of the offer
    ``:budget`` places on: it does not know a subquery's rows are in order, and sorted all of
    them. PostgreSQL walks the first ``:budget`` offers as a subquery, which it does know to be
    in order, and stops at the page; a filter beside its walk would be planned from guesses (a
    bound word is taken for a rare one) and read every offer up to the bound to sort them.
    """
    budget = bindparam("budget", type_=Integer, literal_execute=not shape.sqlite)
    if shape.sqlite:
        order = name_order(WORDS)
        bound = (
            sa_select(WORDS.name_key)
            .where(*_scope(shape, WORDS))
            .order_by(*order)
            .limit(1)
            .offset(budget)
            .scalar_subquery()
        )
        walked = _word_rows(shape, WORDS.id, walk=True).where(WORDS.name_key <= bound)
        return _paged(walked.order_by(*order), shape)
    checks = [*_filters(shape), *(_contains(i, shape) for i in range(shape.words))]
    offers = Offer.__table__  # type: ignore[attr-defined]  # SQLModel's table is untyped
    first = (
        sa_select(offers, NAME_ORDER[0].label("name_key"))
        .where(*_scope(shape))
        .order_by(*NAME_ORDER)
        .limit(budget)
        .subquery("walked")
    )
    on_walk = ClauseAdapter(first)
    ordered = sa_select(first.c.id).where(*(on_walk.traverse(check) for check in checks))
    return _paged(ordered.order_by(first.c.name_key, first.c.id), shape)


@cache
def _rows_of_ids() -> Select[Any]:
    """The page's rows of these offers (``:ids``, a JSON array), in name order (SQLite).

    The ids are one JSON text read by ``json_each``: an expanding ``IN`` made SQLAlchemy write
    the statement out again, with a placeholder per id, on every search."""
    listed = func.json_each(bindparam("ids", type_=String)).table_valued("value")
    return _offer_rows().where(col(Offer.id).in_(sa_select(listed.c.value))).order_by(*NAME_ORDER)


@cache
def count_statement(shape: Shape) -> Select[Any]:
    """How many offers searches of this shape match (the order does not matter; every match
    is visited, so the text index narrows them whether the page is walked or not)."""
    if shape.sqlite and shape.words:
        return _word_rows(shape, func.count())
    where = [*_scope(shape), *_rest(shape)] or [true()]
    return sa_select(func.count()).select_from(Offer).where(*where)
