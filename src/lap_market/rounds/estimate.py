"""What joining a round is worth to each borough, per category and unit.

For a borough's lines in one category and unit:

- ``standalone_value``: its lines priced at the catalogue's best rate (lowest published,
  valid price with capacity) for the borough's *own* quantity;
- ``pooled_value``: the same lines at the best rate for the *pooled* quantity (every
  counted line of every borough in that category and unit);
- ``saving``: the difference.

A line's value is quantity × unit price, × term days ÷ 365 for per-year units; each figure is
the exact sum over the lines, rounded half-up to the penny once (as aggregation does).
Before the close every live line counts (a forecast); from the close only confirmed returns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col

from lap_market.accounts.models import User
from lap_market.catalogue.pricing import DAYS_PER_YEAR, RateCard, load_rate_cards, term_days
from lap_market.catalogue.reference import UnitInfo
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.demand.service import unit_index
from lap_market.modeling import pk
from lap_market.money import from_pence, round_pennies
from lap_market.rounds import policy
from lap_market.rounds.grid import load_returns
from lap_market.rounds.models import DemandRound, ReturnStatus, RoundStatus
from lap_market.rounds.schemas import EstimateLine, EstimateRead, EstimateRow

ZERO = Decimal("0.00")


@dataclass
class Share:
    """One borough's counted lines in one unit: quantity and pricing weight."""

    quantity: Decimal = ZERO
    weight: Decimal = Decimal(0)  # Σ quantity (× term days for per-year units)


def _value(price_pence: int | None, share: Share, unit: UnitInfo) -> Decimal | None:
    if price_pence is None:
        return None
    divisor = Decimal(100) * (DAYS_PER_YEAR if unit.per_year else 1)
    return round_pennies(price_pence * share.weight / divisor)


def _price(card: RateCard | None, quantity: Decimal) -> int | None:
    rate = card.best(quantity) if card else None
    return rate.unit_price_pence if rate else None


def _shares(session: Session, round_: DemandRound, counted: set[int] | None,
            units: dict[int, UnitInfo]) -> dict[int, dict[int, Share]]:
    """borough id -> unit id -> share, over the round's live lines (of ``counted`` boroughs)."""
    rows = session.execute(
        sa.select(col(Demand.borough_id), col(Demand.unit_id), col(Demand.quantity),
                  col(Demand.start_date), col(Demand.end_date))
        .where(col(Demand.round_id) == round_.id, col(Demand.status) != DemandStatus.WITHDRAWN)
    ).all()
    shares: dict[int, dict[int, Share]] = defaultdict(dict)
    for borough, unit_id, quantity, start, end in rows:
        if counted is not None and borough not in counted:
            continue
        share = shares[borough].setdefault(unit_id, Share())
        share.quantity += quantity
        share.weight += quantity * (term_days(start, end) if units[unit_id].per_year else 1)
    return shares


def _line(unit: UnitInfo, share: Share, pooled: Decimal, card: RateCard | None) -> EstimateLine:
    alone_price, pooled_price = _price(card, share.quantity), _price(card, pooled)
    alone, together = _value(alone_price, share, unit), _value(pooled_price, share, unit)
    return EstimateLine(
        category=unit.category_code, unit=unit.code, quantity=share.quantity,
        pooled_quantity=pooled,
        standalone_unit_price=from_pence(alone_price) if alone_price is not None else None,
        pooled_unit_price=from_pence(pooled_price) if pooled_price is not None else None,
        standalone_value=alone, pooled_value=together,
        saving=alone - together if alone is not None and together is not None else None,
    )


def _sum(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, ZERO) if known else None


def estimate(session: Session, actor: User, round_: DemandRound) -> EstimateRead:
    """Every invited borough's row for officers; a borough manager's own row only."""
    policy.require_reader(actor)
    closed = policy.effective_status(round_, clock.now()) != RoundStatus.OPEN
    only = actor.organisation_id if policy.is_manager(actor) else None
    loaded = load_returns(session, pk(round_))
    confirmed = {r.borough_id for r, _o in loaded.rows if r.status == ReturnStatus.CONFIRMED}
    index = unit_index(session)
    shares = _shares(session, round_, confirmed if closed else None, index.by_id)
    pooled: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for by_unit in shares.values():
        for unit_id, share in by_unit.items():
            pooled[unit_id] += share.quantity
    cards = load_rate_cards(session, keys={(index.by_id[u].category_id, u) for u in pooled},
                            on=clock.today())
    rows = []
    for answer, borough in loaded.rows:
        if only is not None and answer.borough_id != only:
            continue
        lines = [_line(index.by_id[u], share, pooled[u], cards.get((index.by_id[u].category_id, u)))
                 for u, share in sorted(shares.get(answer.borough_id, {}).items())]
        rows.append(EstimateRow(
            borough_id=answer.borough_id, gss_code=borough.gss_code, name=borough.name,
            status=answer.status, lines=lines,
            standalone_value=_sum([x.standalone_value for x in lines if x.saving is not None]),
            pooled_value=_sum([x.pooled_value for x in lines if x.saving is not None]),
            saving=_sum([x.saving for x in lines]),
        ))
    return EstimateRead(round_id=pk(round_), reference=round_.reference,
                        priced_on=clock.today(),
                        basis="confirmed returns" if closed else "every line so far",
                        boroughs=rows)
