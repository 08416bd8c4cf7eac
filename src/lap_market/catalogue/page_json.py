"""A search page as JSON, straight from its rows.

``GET /api/v1/offers`` declares ``OfferPage`` (its OpenAPI schema), but building twenty
``OfferSummary`` models and their tiers, then having FastAPI check and serialise them, cost
more than the search's queries. Here the rows become the same JSON directly; a test holds
this output equal to ``OfferPage``'s own serialisation of ``browse_offers`` on both databases.
"""

from decimal import Decimal
from typing import Any

from pydantic_core import to_json

from lap_market.catalogue.browse import Found, OfferFields
from lap_market.catalogue.pricing import Tier, line_value, tier_for
from lap_market.catalogue.reference import UnitInfo
from lap_market.catalogue.schemas import quantity_text
from lap_market.modeling import pk
from lap_market.money import from_pence


def offer_page_json(found: Found, viewer_id: int | None = None) -> bytes:
    """``OfferPage`` of a search's rows, as JSON; the viewer's organisation's own offers are
    marked ``yours``."""
    items = [
        _summary(offer, version_id, name, found.ref.units[offer.unit_id], found.tiers[version_id],
                 found.quantity)
        for offer, version_id, name in found.rows
    ]  # fmt: skip
    for item in items:
        item["yours"] = item["provider_id"] == viewer_id
    return to_json({"items": items, "total": found.total})


def _money(pence: int) -> str:
    """Pence as pounds with two places, as ``Money`` writes them ("12.50")."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"


def _summary(
    offer: OfferFields,
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    tiers: list[Tier],
    quantity: Decimal | None,
) -> dict[str, Any]:
    """One ``OfferSummary`` as JSON values (see ``browse._summary``)."""
    capacity = None if offer.capacity is None else Decimal(offer.capacity)
    available = None if capacity is None else capacity - Decimal(offer.capacity_used)
    item: dict[str, Any] = {
        "id": pk(offer),
        "title": offer.title,
        "provider_id": offer.provider_id,
        "provider_name": provider_name,
        "category": unit.category_code,
        "category_name": unit.category_name,
        "unit": unit.code,
        "unit_name": unit.name,
        "per_year": unit.per_year,
        "status": str(offer.status),
        "commissioned": offer.commissioned,
        "version": offer.current_version,
        "version_id": version_id,
        "tiers": [
            {
                "min_quantity": quantity_text(t.min_quantity),
                "unit_price": _money(t.unit_price_pence),
            }
            for t in tiers
        ],
        "from_price": _money(min(t.unit_price_pence for t in tiers)) if tiers else "0.00",
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
    if quantity is not None and tiers:
        tier = tier_for(tiers, quantity)
        price = from_pence(tier.unit_price_pence)
        value = line_value(quantity, price, per_year=unit.per_year, days=365)
        item["quantity"] = quantity_text(quantity)
        item["unit_price_at_quantity"] = _money(tier.unit_price_pence)
        item["tier_min_quantity"] = quantity_text(tier.min_quantity)
        item["value_at_quantity"] = f"{value:.2f}"
        item["has_capacity"] = available is None or available >= quantity
    return item
