"""A search page as JSON, straight from its rows.

``GET /api/v1/offers`` declares ``OfferPage`` (its OpenAPI schema), but building twenty
``OfferSummary`` models and their tiers, then having FastAPI check and serialise them, cost
more than the search's queries. Here the rows become the same JSON directly; a test holds
this output equal to ``OfferPage``'s own serialisation of ``browse_offers`` on both databases.
"""

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Row

from lap_market.catalogue.browse import Found
from lap_market.catalogue.offer_reads import OfferFields
from lap_market.catalogue.pricing import Tier, line_value, tier_for
from lap_market.catalogue.reference import UnitInfo
from lap_market.catalogue.schemas import quantity_text
from lap_market.modeling import pk
from lap_market.money import from_pence


def offer_page_json(found: Found, viewer_id: int | None = None) -> bytes:
    """``OfferPage`` of a search's rows, as JSON; the viewer's organisation's own offers are
    marked ``yours``. The same bytes as ``to_json`` of the whole page, written item by item."""
    items = []
    for offer, version_id, name in found.rows:
        # A row's values are its identity here; an ORM object's would be its address.
        assert isinstance(offer, Row), "a search page is made of rows"
        items.append(_item_json(
            offer, version_id, name, found.ref.units[offer.unit_id],
            tuple(found.tiers[version_id]), offer.provider_id == viewer_id, found.quantity,
        ))  # fmt: skip
    return b'{"items":[' + b",".join(items) + b'],"total":' + b"%d}" % found.total


@lru_cache(maxsize=4096)
def _item_json(
    offer: "Row[Any]",
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    tiers: tuple[Tier, ...],
    yours: bool,
    quantity: Decimal | None,
) -> bytes:
    """One item's JSON. ``offer`` is the search's whole row (every column shown, the tiers'
    text and the catalogue's generation), so equal arguments always write equal bytes: an
    offer shown again, unchanged, to the same side, is not written again (a page of twenty
    cost a fifth of the search: issue 11)."""
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
    (and ``browse._parse_tiers`` hands out one tuple per distinct text), so each is written once;
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
