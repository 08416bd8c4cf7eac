"""Pricing rules shared by quotes, aggregation estimates, contracts and the savings report.

Values are rounded half-up to the penny once, at the end of a calculation, never per step.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, or_, select

from lap_market.catalogue.models import Offer, OfferStatus, OfferTier, OfferVersion
from lap_market.modeling import pk
from lap_market.money import from_pence, round_pennies

DAYS_PER_YEAR = Decimal(365)


def term_days(start: date, end: date) -> int:
    """Days in a term, counting both the start and the end date."""
    return (end - start).days + 1


def unrounded_value(
    quantity: Decimal, unit_price: Decimal, *, per_year: bool, days: int
) -> Decimal:
    """Exact value before rounding: per-year units are charged pro rata over the term."""
    value = quantity * unit_price
    if per_year:
        value = value * Decimal(days) / DAYS_PER_YEAR
    return value


def line_value(quantity: Decimal, unit_price: Decimal, *, per_year: bool, days: int) -> Decimal:
    """Value of a line, rounded half-up to the penny."""
    return round_pennies(unrounded_value(quantity, unit_price, per_year=per_year, days=days))


@dataclass(frozen=True)
class Tier:
    min_quantity: Decimal
    unit_price_pence: int


def tier_for(tiers: Sequence[Tier], quantity: Decimal) -> Tier:
    """The tier a quantity reaches: the one with the highest minimum not above it.

    ``tiers`` must be sorted by minimum; the first starts at 1, so any quantity of at least 1
    (or a fraction, for units that allow one) falls in the first tier at worst.
    """
    minimums = [t.min_quantity for t in tiers]
    index = bisect_right(minimums, quantity) - 1
    return tiers[max(index, 0)]


@dataclass(frozen=True)
class Rate:
    """A unit price an offer version gives at a quantity."""

    offer_id: int
    version_id: int
    version_number: int
    provider_id: int
    tier_min_quantity: Decimal
    unit_price_pence: int

    @property
    def unit_price(self) -> Decimal:
        return from_pence(self.unit_price_pence)


@dataclass
class _Candidate:
    offer_id: int
    version_id: int
    version_number: int
    provider_id: int
    available: Decimal | None  # None: no capacity limit
    tiers: list[Tier] = field(default_factory=list)


class RateCard:
    """Every published, valid offer in one category and unit, loaded once for many look-ups."""

    def __init__(self, candidates: Iterable[_Candidate]) -> None:
        self._candidates = [c for c in candidates if c.tiers]

    def __bool__(self) -> bool:
        return bool(self._candidates)

    def best(self, quantity: Decimal) -> Rate | None:
        """The lowest unit price any offer with capacity for ``quantity`` gives at it."""
        best: Rate | None = None
        for candidate in self._candidates:
            if candidate.available is not None and candidate.available < quantity:
                continue
            tier = tier_for(candidate.tiers, quantity)
            if best is None or tier.unit_price_pence < best.unit_price_pence:
                best = Rate(
                    offer_id=candidate.offer_id,
                    version_id=candidate.version_id,
                    version_number=candidate.version_number,
                    provider_id=candidate.provider_id,
                    tier_min_quantity=tier.min_quantity,
                    unit_price_pence=tier.unit_price_pence,
                )
        return best

    def lowest_prices_pence(self, quantities: Iterable[Decimal]) -> dict[Decimal, int | None]:
        """``best(q).unit_price_pence`` (None: no offer has room) for many quantities at once.

        The lowest price only changes where a tier starts or an offer's capacity ends, so
        it is worked out once per step between those points and once at each point, not
        once per quantity: pooling prices tens of thousands of distinct quantities.
        """
        points = sorted(
            {tier.min_quantity for c in self._candidates for tier in c.tiers}
            | {c.available for c in self._candidates if c.available is not None}
        )
        by_step: dict[tuple[int, bool], int | None] = {}
        prices: dict[Decimal, int | None] = {}
        for quantity in quantities:
            index = bisect_right(points, quantity)
            step = (index, index > 0 and points[index - 1] == quantity)
            if step not in by_step:
                rate = self.best(quantity)
                by_step[step] = rate.unit_price_pence if rate else None
            prices[quantity] = by_step[step]
        return prices


def load_rate_cards(
    session: Session, *, keys: Iterable[tuple[int, int]], on: date
) -> dict[tuple[int, int], RateCard]:
    """Rate cards for many (category_id, unit_id) pairs, in two queries."""
    wanted = set(keys)
    if not wanted:
        return {}
    category_ids = {k[0] for k in wanted}
    rows = session.exec(
        select(Offer, OfferVersion)
        .join(
            OfferVersion,
            (col(OfferVersion.offer_id) == col(Offer.id))
            & (col(OfferVersion.number) == col(Offer.current_version)),
        )
        .where(
            Offer.status == OfferStatus.PUBLISHED,
            col(Offer.category_id).in_(category_ids),
            Offer.valid_from <= on,
            or_(col(Offer.valid_until).is_(None), col(Offer.valid_until) >= on),
        )
    ).all()
    candidates: dict[int, _Candidate] = {}
    by_key: dict[tuple[int, int], list[_Candidate]] = defaultdict(list)
    for offer, version in rows:
        key = (offer.category_id, version.unit_id)
        if key not in wanted:
            continue
        available = None if offer.capacity is None else offer.capacity - offer.capacity_used
        candidate = _Candidate(
            offer_id=pk(offer),
            version_id=pk(version),
            version_number=version.number,
            provider_id=offer.provider_id,
            available=available,
        )
        candidates[candidate.version_id] = candidate
        by_key[key].append(candidate)
    if candidates:
        tiers = session.exec(
            select(OfferTier)
            .where(col(OfferTier.version_id).in_(list(candidates)))
            .order_by(col(OfferTier.version_id), col(OfferTier.min_quantity))
        ).all()
        for tier in tiers:
            candidates[tier.version_id].tiers.append(
                Tier(
                    min_quantity=Decimal(tier.min_quantity),
                    unit_price_pence=tier.unit_price_pence,
                )
            )
    return {key: RateCard(by_key.get(key, [])) for key in wanted}

