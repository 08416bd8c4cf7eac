"""The pure rules of pooling: grouping demand lines into lots and pricing each lot.

How a lot is priced (the figures every screen and the API show):

- ``estimated_value``: the lowest unit price any published, valid offer in the lot's
  category and unit with capacity for the lot's total quantity gives *at that total*,
  applied to every line of the lot;
- ``standalone_value``: each line priced the same way at its *own* quantity (offers with
  capacity for that quantity);
- a line's value is quantity × unit price, × term days ÷ 365 for per-year units. The lot's
  figure is the exact sum of its unrounded line values, rounded half-up to the penny once,
  so the lot total never drifts from per-line rounding;
- with no offer that can price the total, both are None and the lot has no reference rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from itertools import groupby
from operator import itemgetter, mul
from typing import NamedTuple

from sqlmodel import Session

from lap_market.catalogue.pricing import DAYS_PER_YEAR, RateCard, load_rate_cards, term_days
from lap_market.catalogue.reference import UnitInfo
from lap_market.clock import clock
from lap_market.demand.service import UnitIndex
from lap_market.money import from_pence, round_pennies


class Line(NamedTuple):
    """One demand line as aggregation sees it (a tuple: tens of thousands are made at once)."""

    id: int
    borough_id: int
    unit_id: int
    quantity: Decimal
    start_date: date
    end_date: date


# A Line's fields by position, for the C-speed map/sum/min over tens of thousands of them.
_QUANTITY: Callable[[Line], Decimal] = itemgetter(3)
_START: Callable[[Line], date] = itemgetter(4)
_END: Callable[[Line], date] = itemgetter(5)
_TERM: Callable[[Line], tuple[date, date]] = itemgetter(4, 5)


@dataclass
class LotPlan:
    """A lot before (or after) it is stored: its lines and its three figures."""

    number: int
    unit: UnitInfo
    lines: list[Line]
    estimated_pence: int | None = None
    standalone_pence: int | None = None
    boroughs: list[str] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # borough id -> name, for its lines
    id: int | None = None

    @cached_property
    def start_date(self) -> date:
        return min(map(_START, self.lines))

    @cached_property
    def end_date(self) -> date:
        return max(map(_END, self.lines))

    @cached_property
    def total_quantity(self) -> Decimal:
        return sum(map(_QUANTITY, self.lines), Decimal("0.00"))

    @property
    def title(self) -> str:
        if not self.lines:  # a cancelled lot has given its demand back: no term to show
            return f"{self.unit.category_code.capitalize()} – {self.unit.name}"
        return lot_title(self.unit, self.start_date, self.end_date)

    @property
    def estimated_value(self) -> Decimal | None:
        return from_pence(self.estimated_pence) if self.estimated_pence is not None else None

    @property
    def standalone_value(self) -> Decimal | None:
        return from_pence(self.standalone_pence) if self.standalone_pence is not None else None

    @property
    def estimated_saving(self) -> Decimal | None:
        if self.estimated_pence is None or self.standalone_pence is None:
            return None
        return from_pence(self.standalone_pence - self.estimated_pence)

    @property
    def no_reference_rate(self) -> bool:
        return self.estimated_pence is None


def lot_title(unit: UnitInfo, start: date, end: date) -> str:
    """E.g. "Storage – linear metre per year (Apr 2027 – Mar 2030)"."""
    return (
        f"{unit.category_code.capitalize()} – {unit.name} "
        f"({start.strftime('%b %Y')} – {end.strftime('%b %Y')})"
    )


_TERM_ORDER = itemgetter(4, 5, 0)  # start_date, end_date, id of a Line


def group_lines(lines: Iterable[Line], index: UnitIndex) -> list[tuple[UnitInfo, list[Line]]]:
    """Lots: lines of the same category and unit whose terms overlap, directly or through
    other lines (connected groups). Ordered by category, unit, then earliest start."""
    by_unit: dict[int, list[Line]] = defaultdict(list)
    for line in lines:
        by_unit[line.unit_id].append(line)
    groups: list[tuple[UnitInfo, list[Line]]] = []
    for unit_id, unit_lines in by_unit.items():
        unit = index.by_id[unit_id]
        unit_lines.sort(key=_TERM_ORDER)
        current: list[Line] = []
        reach = date.min
        # Lines starting on one day never part (each ends on or after it): only a later start
        # can open a lot, so the lines are taken a start date at a time.
        for start, run in groupby(unit_lines, key=_START):
            starting = list(run)
            if current and start > reach:
                groups.append((unit, current))
                current = []
            current.extend(starting)
            reach = max(reach, starting[-1].end_date)  # sorted by end within a start
        if current:
            groups.append((unit, current))
    groups.sort(key=lambda g: (g[0].category_id, g[0].id, g[1][0].start_date))
    return groups


def price_lot(
    lines: Sequence[Line], card: RateCard | None, *, per_year: bool
) -> tuple[int | None, int | None]:
    """(estimated, standalone) in pence, or (None, None) without a reference rate."""
    if not card or not lines:
        return None, None
    total = sum(map(_QUANTITY, lines), Decimal(0))
    pooled = card.best(total)
    if pooled is None:  # no offer has capacity for the pooled quantity
        return None, None

    # An offer with room for the total has room for any one line of it: every line has a price.
    # (So a missing price would be a KeyError below, never a silent None.)
    lowest = card.lowest_prices_pence(set(map(_QUANTITY, lines)))
    own_price = {quantity: price for quantity, price in lowest.items() if price is not None}
    pooled_weight = Decimal(0)  # Σ quantity (× term days for per-year units)
    standalone_pence_weight = Decimal(0)  # Σ own unit price (pence) × that weight
    # Exact (Decimal sums lose nothing), so the lines of each term are summed at C speed and
    # weighed by its days once (a pooled lot's lines come sorted by term: no work to sort).
    for (start, end), run in groupby(sorted(lines, key=_TERM), key=_TERM):
        quantities = list(map(_QUANTITY, run))
        days = term_days(start, end) if per_year else 1
        own = sum(map(mul, map(own_price.__getitem__, quantities), quantities), Decimal(0))
        pooled_weight += sum(quantities, Decimal(0)) * days
        standalone_pence_weight += own * days
    divisor = Decimal(100) * (DAYS_PER_YEAR if per_year else 1)
    estimated = round_pennies(pooled.unit_price_pence * pooled_weight / divisor)
    standalone = round_pennies(standalone_pence_weight / divisor)
    return int(estimated * 100), int(standalone * 100)


def plan_lots(session: Session, lines: Iterable[Line], index: UnitIndex) -> list[LotPlan]:
    """Group lines into lots and price each, with one rate-card load for all of them."""
    groups = group_lines(lines, index)
    cards = load_rate_cards(
        session, keys={(u.category_id, u.id) for u, _ in groups}, on=clock.today()
    )
    plans = []
    for number, (unit, group) in enumerate(groups, start=1):
        estimated, standalone = price_lot(
            group, cards.get((unit.category_id, unit.id)), per_year=unit.per_year
        )
        plans.append(
            LotPlan(
                number=number,
                unit=unit,
                lines=group,
                estimated_pence=estimated,
                standalone_pence=standalone,
            )
        )
    return plans
