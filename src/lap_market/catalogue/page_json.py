"""A search page as JSON, straight from its rows.

``GET /api/v1/offers`` declares ``OfferPage`` (its OpenAPI schema), but building twenty
``OfferSummary`` models and their tiers, then having FastAPI check and serialise them, cost
more than the search's queries. Here the rows become the same JSON directly; a test holds
this output equal to ``OfferPage``'s own serialisation of ``browse_offers`` on both databases.
"""

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, cast

from pydantic_core import to_json
from sqlalchemy import Row

from lap_market.catalogue.browse import Found, parse_tiers
from lap_market.catalogue.offer_reads import OfferFields
from lap_market.catalogue.pricing import Tier, line_value, tier_for
from lap_market.catalogue.reference import Reference, UnitInfo
from lap_market.catalogue.schemas import quantity_text
from lap_market.catalogue.search import SUMMARY_COLUMNS, TIERS
from lap_market.modeling import pk
from lap_market.money import from_pence

PROVIDER_ID = SUMMARY_COLUMNS.index("provider_id")
UNIT_ID = SUMMARY_COLUMNS.index("unit_id")


def offer_page_json(found: Found, viewer_id: int | None = None) -> bytes:
    """``OfferPage`` of a search's rows, as JSON; the viewer's organisation's own offers are
    marked ``yours``. The same bytes as ``to_json`` of the whole page, written item by item."""
    written = _written_for(found.ref)
    quantity = found.quantity
    asked = None if quantity is None else str(quantity)
    items = []
    for offer, version_id, name in found.rows:
        # A row's values are its identity here; an ORM object's would be its address.
        assert isinstance(offer, Row | tuple), "a search page is made of rows"
        yours = offer[PROVIDER_ID] == viewer_id
        key = (tuple(offer), yours, asked)
        item = written.get(key)
        if item is None:
            unit = found.ref.units[offer[UNIT_ID]]
            item = _item_json(cast(PageRow, offer), version_id, name, unit, yours, quantity)
            if len(written) >= MAX_WRITTEN:
                written.clear()
            written[key] = item
        items.append(item)
    return b'{"items":[' + b",".join(items) + b'],"total":' + b"%d}" % found.total


# Items written, by everything they show: the search's whole row (every column shown, the
# tiers' text and the catalogue's generation), which side sees it, and the quantity. Equal
# keys always write equal bytes, so an offer shown again, unchanged, to the same side is not
# written again (a page of twenty cost a fifth of the search: issue 11). The units' names
# come from the reference data, so the items are kept for one ``Reference`` at a time.
# The keys are plain values: hashing and comparing an SQLAlchemy row, dataclasses of
# tiers and units, and Decimal quantities for every item took longer than writing it.
MAX_WRITTEN = 4096
_written: dict[tuple[Any, ...], bytes] = {}
_written_with: list[Reference] = []


def _written_for(ref: Reference) -> dict[tuple[Any, ...], bytes]:
    """The items written with these reference data (all are forgotten when they change)."""
    if not _written_with or _written_with[0] is not ref:
        _written.clear()
        _written_with[:] = [ref]
    return _written


class PageRow(OfferFields, Protocol):
    """A search's row: its columns by name and by position (``search.VERSION_ID`` …)."""

    def __getitem__(self, position: int) -> Any: ...


def _item_json(
    offer: PageRow,
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    yours: bool,
    quantity: Decimal | None,
) -> bytes:
    """One item's JSON, from the search's row (``offer``)."""
    tiers = parse_tiers(offer[TIERS] or "")
    item = _summary(offer, version_id, provider_name, _unit_fields(unit), tiers)
    item["yours"] = yours
    if quantity is not None and tiers:
        _priced(item, tiers, quantity, per_year=unit.per_year)
    return to_json(item)


def _money(pence: int) -> str:
    """Pence as pounds with two places, as ``Money`` writes them ("12.50")."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"


def _unit_fields(unit: UnitInfo) -> dict[str, Any]:
    return {
        "category": unit.category_code,
        "category_name": unit.category_name,
        "unit": unit.code,
        "unit_name": unit.name,
        "per_year": unit.per_year,
    }


@lru_cache(maxsize=8192)
def _tiers_json(tiers: tuple[Tier, ...]) -> tuple[tuple[dict[str, str], ...], str]:
    """A version's tiers as JSON values, and its lowest price. Tiers repeat across a catalogue
    (and ``browse.parse_tiers`` hands out one tuple per distinct text), so each is written once;
    nothing mutates what is returned."""
    written = tuple(
        {"min_quantity": quantity_text(t.min_quantity), "unit_price": _money(t.unit_price_pence)}
        for t in tiers
    )
    lowest = _money(min(t.unit_price_pence for t in tiers)) if tiers else "0.00"
    return written, lowest


def _summary(
    offer: OfferFields,
    version_id: int,
    provider_name: str,
    unit_fields: dict[str, Any],
    tiers: Sequence[Tier],
) -> dict[str, Any]:
    """One ``OfferSummary`` as JSON values (see ``offer_reads._summary``), before pricing."""
    capacity = None if offer.capacity is None else Decimal(offer.capacity)
    available = None if capacity is None else capacity - Decimal(offer.capacity_used)
    written, lowest = _tiers_json(tuple(tiers))
    return {
        "id": pk(offer),
        "title": offer.title,
        "provider_id": offer.provider_id,
        "provider_name": provider_name,
        **unit_fields,
        "status": str(offer.status),
        "commissioned": offer.commissioned,
        "version": offer.current_version,
        "version_id": version_id,
        "tiers": written,
        "from_price": lowest,
        "capacity": None if capacity is None else quantity_text(capacity),
        "available": None if available is None else str(available),
        "lead_time_days": offer.lead_time_days,
        "valid_from": offer.valid_from.isoformat(),
        "valid_until": None if offer.valid_until is None else offer.valid_until.isoformat(),
        "quantity": None,
        "unit_price_at_quantity": None,
        "tier_min_quantity": None,
        "value_at_quantity": None,
        "has_capacity": None,
        "yours": False,
        "rank": None,
    }


def _priced(
    item: dict[str, Any], tiers: Sequence[Tier], quantity: Decimal, *, per_year: bool
) -> None:
    """The item's price, value and capacity at ``quantity``."""
    fields = _price_fields(tuple(tiers), quantity, per_year)
    item.update(fields)
    available = item["available"]
    item["has_capacity"] = available is None or Decimal(available) >= quantity


@lru_cache(maxsize=8192)
def _price_fields(tiers: tuple[Tier, ...], quantity: Decimal, per_year: bool) -> dict[str, str]:
    """What a version's tiers say at ``quantity``: the same for every offer priced alike."""
    tier = tier_for(tiers, quantity)
    value = line_value(quantity, from_pence(tier.unit_price_pence), per_year=per_year, days=365)
    return {
        "quantity": quantity_text(quantity),
        "unit_price_at_quantity": _money(tier.unit_price_pence),
        "tier_min_quantity": quantity_text(tier.min_quantity),
        "value_at_quantity": f"{value:.2f}",
    }
