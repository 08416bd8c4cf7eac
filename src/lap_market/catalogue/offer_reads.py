"""Reading offers: summaries and full views of offers, a provider's own offers, counts."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from lap_market.accounts.models import Organisation, User
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
from lap_market.catalogue.schemas import OfferRead, OfferSummary, TierRead, VersionRead
from lap_market.catalogue.search import with_current_version
from lap_market.catalogue.service import get_visible_offer
from lap_market.clock import as_utc, clock
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.paging import paginate


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
    by_id = {pk(s): s for s in summaries_of_rows(session, ref, typed, quantity)}
    return [by_id[i] for i in offer_ids if i in by_id]


def summaries_of_rows(
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
