"""How many offers a search matches, counted once per change of the catalogue.

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
from collections.abc import Hashable, Sequence
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine
from sqlmodel import Session, func, select

from lap_market.catalogue.models import CatalogueState, Offer
from lap_market.clock import clock
from lap_market.db import engine_of

MAX_KEPT = 4096  # searches remembered per database; the least recently used go first

_kept: "WeakKeyDictionary[Engine, OrderedDict[Hashable, int]]" = WeakKeyDictionary()
_lock = threading.Lock()


def count_offers(
    session: Session, search: Hashable, where: Sequence[ColumnElement[bool]]
) -> int:
    """Offers matching ``where``; ``search`` names those conditions (filters and viewer)."""
    generation = session.exec(
        select(CatalogueState.generation).where(CatalogueState.id == 1)
    ).one()
    key = (generation, clock.today(), search)
    engine = engine_of(session)
    with _lock:
        kept = _kept.setdefault(engine, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
    total = int(session.exec(select(func.count()).select_from(Offer).where(*where)).one())
    with _lock:
        kept[key] = total
        if len(kept) > MAX_KEPT:
            kept.popitem(last=False)
    return total
