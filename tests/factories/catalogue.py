"""Factories for offers: rows written directly (fast), consistent with what the service makes."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from itertools import count

from sqlmodel import Session, select

from lap_market.accounts.models import Organisation, OrgKind
from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
    Offer,
    OfferStatus,
    OfferTier,
    OfferVersion,
)
from lap_market.clock import clock
from lap_market.money import to_pence

_seq = count(1)


def category_unit(session: Session, category: str, unit: str) -> tuple[Category, CategoryUnit]:
    """The reference category and unit with these codes."""
    row = session.exec(
        select(Category, CategoryUnit)
        .join(CategoryUnit, CategoryUnit.category_id == Category.id)  # type: ignore[arg-type]
        .where(Category.code == category, CategoryUnit.code == unit)
    ).one()
    return row[0], row[1]


def make_offer(
    session: Session,
    provider_org: Organisation,
    *,
    category: str = "storage",
    unit: str = "linear_metre_year",
    tiers: Sequence[tuple[str, str]] = (("1", "12.00"), ("100", "10.00")),
    capacity: Decimal | str | None = None,
    valid_from: date = date(2026, 1, 1),
    valid_until: date | None = None,
    publish: bool = True,
    title: str | None = None,
    description: str = "",
    lead_time_days: int = 10,
) -> Offer:
    """An offer (version 1 with ``tiers`` as (min_quantity, unit_price) strings), published
    unless ``publish=False``. Flushed, not committed."""
    cat, cat_unit = category_unit(session, category, unit)
    now = clock.now()
    offer = Offer(
        provider_id=provider_org.id,  # type: ignore[arg-type]
        category_id=cat.id,  # type: ignore[arg-type]
        unit_id=cat_unit.id,  # type: ignore[arg-type]
        title=title or f"Test offer {next(_seq)}",
        description=description,
        capacity=Decimal(capacity) if capacity is not None else None,
        lead_time_days=lead_time_days,
        valid_from=valid_from,
        valid_until=valid_until,
        status=OfferStatus.PUBLISHED if publish else OfferStatus.DRAFT,
        commissioned=provider_org.kind == OrgKind.LMA,
        current_version=1,
        created_at=now,
        updated_at=now,
        published_at=now if publish else None,
    )
    session.add(offer)
    session.flush()
    version = OfferVersion(
        offer_id=offer.id,  # type: ignore[arg-type]
        number=1,
        unit_id=cat_unit.id,  # type: ignore[arg-type]
        created_at=now,
        published_at=now if publish else None,
    )
    session.add(version)
    session.flush()
    for min_quantity, price in tiers:
        session.add(
            OfferTier(
                version_id=version.id,  # type: ignore[arg-type]
                min_quantity=Decimal(min_quantity),
                unit_price_pence=to_pence(Decimal(price)),
            )
        )
    session.flush()
    return offer
