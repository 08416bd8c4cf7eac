"""How many offers a search matches, counted once per change of the catalogue; and roughly
how many contain some letters, to choose what to look up in the text index and whether to
walk the offers in name order instead (``browse._walk_budget``).

Counting is the one part of a search whose cost grows with the catalogue (every match is
visited). Triggers bump ``cataloguestate.generation`` whenever an offer is added, removed or
changes in anything a search filters on (migration 0002_search), so a count stays right for
as long as the generation and the date stay the same; one indexed read checks that.

Reading the generation before counting keeps this right under concurrent writes: a count
taken after a commit but filed under the generation before it is never read again, because
the commit moved the generation.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, Select, column, literal_column, table
from sqlmodel import Session, col, func, select

from lap_market.catalogue.models import CatalogueState, Offer
from lap_market.clock import clock
from lap_market.db import engine_of

T = TypeVar("T")
MAX_KEPT = 4096  # searches remembered per database; the least recently used go first

_kept: "WeakKeyDictionary[Engine, OrderedDict[Hashable, Any]]" = WeakKeyDictionary()
_lock = threading.Lock()


def count_offers(
    session: Session,
    search: Hashable,
    statement: Select[Any],
    params: dict[str, Any],
    *,
    generation: int | None = None,
) -> int:
    """The count ``statement`` run with ``params``; ``search`` names what it counts (filters
    and viewer).

    ``generation``, when the caller read it earlier in this transaction, saves reading it.
    """
    if generation is None:
        generation = session.exec(
            select(CatalogueState.generation).where(CatalogueState.id == 1)
        ).one()

    def count() -> int:
        return int(session.connection().execute(statement, params).scalar_one())

    return _remembered(engine_of(session), (generation, clock.today(), search), count)


FTS = table("offer_fts", column("rowid"))
# Lower-cased title and description as one text: what the PostgreSQL trigram index covers.
SEARCH_TEXT = func.lower(
    col(Offer.title).concat(literal_column("' '")).concat(col(Offer.description))
)


def fts_match(text: str) -> ColumnElement[bool]:
    """The SQLite FTS5 (trigram) condition for offers containing ``text``."""
    return literal_column("offer_fts").op("MATCH")('"' + text.replace('"', '""') + '"')


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``/``) for text containing ``text``."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


# Estimates (how common a piece of text is, how many offers there are) are counted again
# after this long, as a catalogue grows: they choose how a search looks, never what it finds.
ESTIMATE_SECONDS = 600


def _estimate_key(*key: Hashable) -> tuple[Hashable, ...]:
    """``key`` in the current period of ``ESTIMATE_SECONDS``: all estimates expire together,
    so the counts they are weighed against each other by are of the same catalogue."""
    return (*key, int(clock.now().timestamp() // ESTIMATE_SECONDS))


def offers_with_text(session: Session, text: str) -> int:
    """About how many offers contain ``text`` (from the text index: FTS5 on SQLite, the
    trigram index on PostgreSQL), an estimate (``ESTIMATE_SECONDS``): it only chooses what to
    look up in the index, never what a search finds."""

    def count() -> int:  # built only when not remembered: building it costs more than a look-up
        if session.get_bind().dialect.name == "sqlite":
            query = select(func.count()).select_from(FTS).where(fts_match(text))
        else:
            query = select(func.count()).where(SEARCH_TEXT.like(like_pattern(text), escape="/"))
        return int(session.exec(query).one())

    return _remembered(engine_of(session), _estimate_key("text", text), count)


def offers_in_catalogue(session: Session) -> int:
    """How many offers there are (every status), an estimate like the counts of
    ``offers_with_text`` it is weighed against: it only chooses how to find a page."""

    def count() -> int:
        return int(session.exec(select(func.count()).select_from(Offer)).one())

    return _remembered(engine_of(session), _estimate_key("offers"), count)


TRIGRAM = 3  # letters per entry of the text index; it cannot find shorter words


def rarest_piece(session: Session, word: str) -> str | None:
    """The letter triple of ``word`` that the fewest offers hold (None for a word shorter
    than three letters), chosen again when the counts it is chosen by are."""

    def choose() -> str | None:
        pieces = sorted({word[i : i + TRIGRAM] for i in range(len(word) - TRIGRAM + 1)})
        if not pieces:
            return None
        return min(pieces, key=lambda piece: offers_with_text(session, piece))

    return _remembered(engine_of(session), _estimate_key("rarest", word), choose)


def _remembered(engine: Engine, key: Hashable, compute: Callable[[], T]) -> T:
    with _lock:
        kept = _kept.setdefault(engine, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            found: T = kept[key]  # what ``compute`` returned for this key
            return found
    value = compute()
    with _lock:
        kept[key] = value
        if len(kept) > MAX_KEPT:
            kept.popitem(last=False)
    return value
