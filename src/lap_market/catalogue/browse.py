"""Reading the catalogue: offer views, search, price sorting at a quantity, comparison."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal

from sqlalchemy import and_
from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from lap_market.accounts.models import Organisation, Role, User
from lap_market.catalogue.models import (
    Category,
    Offer,
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
        TierRead(min_quantity=t.min_quantity, unit_price=from_pence(t.unit_price_pence))
        for t in tiers
    ]


def _summary(
    offer: Offer,
    version_id: int,
    provider_name: str,
    unit: UnitInfo,
    tiers: list[Tier],
    quantity: Decimal | None,
) -> OfferSummary:
    available = (
        None if offer.capacity is None else Decimal(offer.capacity) - Decimal(offer.capacity_used)
    )
    summary = OfferSummary(
        id=offer.id,
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
    rows = session.exec(
        select(OfferTier)
        .where(col(OfferTier.version_id).in_(ids))
        .order_by(col(OfferTier.version_id), col(OfferTier.min_quantity))
    ).all()
    for tier in rows:
        by_version[tier.version_id].append(
            Tier(min_quantity=Decimal(tier.min_quantity), unit_price_pence=tier.unit_price_pence)
        )
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
    tiers = _tiers_by_version(session, [r[1] for r in typed])
    by_id = {
        row_id(offer): _summary(
            offer, version_id, name, ref.units[offer.unit_id], tiers[version_id], quantity
        )
        for offer, version_id, name in typed
    }
    return [by_id[i] for i in offer_ids if i in by_id]


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
    orders by it; without, ``sort=price`` orders by the lowest tier price.
    """
    if page < 1:
        raise Invalid("Page must be 1 or more.", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"Page size must be between 1 and {MAX_PAGE_SIZE}.", field="page_size")
    if sort not in ("name", "price"):
        raise Invalid("Sort by price or name.", field="sort")
    ref = load_reference(session)
    query = _browse_query(
        actor,
        ref,
        category=category,
        unit=unit,
        q=q,
        provider_id=provider_id,
        commissioned=commissioned,
    )
    unit_info = None
    if category and unit:
        unit_info = ref.unit(ref.category(category), unit)
    amount = (
        check_quantity(quantity, field="quantity", unit=unit_info)
        if quantity not in (None, "")
        else None
    )
    start = (page - 1) * page_size
    if sort == "price":
        ranked = _rank_by_price(session, query, amount)
        total = len(ranked)
        page_ids = ranked[start : start + page_size]
    else:
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        page_ids = list(
            session.exec(
                query.order_by(func.lower(col(Offer.title)), col(Offer.id))
                .offset(start)
                .limit(page_size)
            ).all()
        )
    return OfferPage(items=_summaries(session, ref, page_ids, amount), total=total)


def _browse_query(
    actor: User,
    ref: Reference,
    *,
    category: str | None,
    unit: str | None,
    q: str | None,
    provider_id: int | None,
    commissioned: bool | None,
) -> SelectOfScalar[int]:
    today = clock.today()
    live = and_(
        col(Offer.status) == OfferStatus.PUBLISHED,
        col(Offer.valid_from) <= today,
        or_(col(Offer.valid_until).is_(None), col(Offer.valid_until) >= today),
    )
    visible = live
    if actor.role == Role.PROVIDER:
        own_drafts = and_(
            col(Offer.status) == OfferStatus.DRAFT, col(Offer.provider_id) == actor.organisation_id
        )
        visible = or_(live, own_drafts)
    query = select(Offer.id).where(visible)
    if category:
        query = query.where(Offer.category_id == ref.category(category).id)
    if unit:
        if unit not in ref.unit_codes():
            raise Invalid(f"Unknown unit {unit!r}.", field="unit")
        unit_ids = [u.id for u in ref.units.values() if u.code == unit]
        if category:
            unit_ids = [ref.unit(ref.category(category), unit).id]
        query = query.where(col(Offer.unit_id).in_(unit_ids))
    if provider_id is not None:
        query = query.where(Offer.provider_id == provider_id)
    if commissioned is not None:
        query = query.where(Offer.commissioned == commissioned)
    for word in _search_words(q):
        query = query.where(
            or_(
                func.lower(col(Offer.title)).contains(word, autoescape=True),
                func.lower(col(Offer.description)).contains(word, autoescape=True),
            )
        )
    return query  # type: ignore[return-value]


def _rank_by_price(
    session: Session, query: SelectOfScalar[int], quantity: Decimal | None
) -> list[int]:
    """Matching offers' ids, cheapest first at ``quantity`` (else by lowest price); one query."""
    matching = query.subquery()
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Offer.id, Offer.title, OfferTier.min_quantity, OfferTier.unit_price_pence
        )
        .join(matching, matching.c.id == col(Offer.id))
        .join(
            OfferVersion,
            and_(
                col(OfferVersion.offer_id) == col(Offer.id),
                col(OfferVersion.number) == col(Offer.current_version),
            ),
        )
        .join(OfferTier, col(OfferTier.version_id) == col(OfferVersion.id))
        .order_by(col(Offer.id), col(OfferTier.min_quantity))
    ).all()
    tiers: dict[int, list[Tier]] = defaultdict(list)
    titles: dict[int, str] = {}
    for offer_id, title, min_quantity, price in rows:
        titles[offer_id] = title
        tiers[offer_id].append(Tier(min_quantity=Decimal(min_quantity), unit_price_pence=price))

    def price_of(offer_id: int) -> int:
        offer_tiers = tiers[offer_id]
        if quantity is None:
            return min(t.unit_price_pence for t in offer_tiers)
        return tier_for(offer_tiers, quantity).unit_price_pence

    return sorted(titles, key=lambda i: (price_of(i), titles[i].lower(), i))


def compare_offers(
    session: Session, actor: User, *, category: str, unit: str, quantity: Decimal | str
) -> list[OfferSummary]:
    """Every live offer in one category and unit, cheapest first at ``quantity``."""
    ref = load_reference(session)
    unit_info = ref.unit(ref.category(category), unit)
    amount = check_quantity(quantity, field="quantity", unit=unit_info)
    query = _browse_query(
        actor, ref, category=category, unit=unit, q=None, provider_id=None, commissioned=None
    )
    query = query.where(col(Offer.status) == OfferStatus.PUBLISHED)
    return _summaries(session, ref, _rank_by_price(session, query, amount), amount)


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
