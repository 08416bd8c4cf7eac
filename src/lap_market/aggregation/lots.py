"""A draft's lots: reading them with their lines, and the lot editor's moves."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.aggregation.planning import Line, LotPlan, price_lot
from lap_market.aggregation.schemas import LotEdit, LotMove
from lap_market.aggregation.service import lock_draft, name_boroughs
from lap_market.audit import service as audit
from lap_market.catalogue.pricing import load_rate_cards
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.demand.service import UnitIndex, unit_index
from lap_market.errors import Invalid
from lap_market.modeling import bulk_rows, cycle_collector_paused, pk
from lap_market.tenders.models import Lot, Tender

LINE_COLUMNS: tuple[Any, ...] = (
    Demand.id, Demand.borough_id, Demand.unit_id, Demand.quantity, Demand.start_date,
    Demand.end_date, Demand.lot_id,
)


def _stored_lots(session: Session, tender: Tender) -> list[Lot]:
    return list(
        session.exec(select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number)))
    )


def _plans(
    session: Session, lots: Sequence[Lot], index: UnitIndex
) -> list[LotPlan]:
    """Each lot with its lines (by id) and borough names; the lines read as driver tuples in
    (lot, id) order, the lot index's own, as a draft can hold 33,000 of them."""
    by_lot: dict[int, list[Line]] = {}
    if lots:
        rows = bulk_rows(
            session.connection(),
            sa.select(*LINE_COLUMNS)
            .where(col(Demand.lot_id).in_([pk(lot) for lot in lots]))
            .order_by(col(Demand.lot_id), col(Demand.id)),
        )
        for lot_id, run in groupby(rows, key=itemgetter(6)):
            by_lot[lot_id] = list(map(Line._make, map(itemgetter(0, 1, 2, 3, 4, 5), run)))
    plans = [
        LotPlan(
            number=lot.number,
            unit=index.by_id[lot.unit_id],
            lines=by_lot.get(pk(lot), []),
            id=lot.id,
            estimated_pence=lot.estimated_value_pence,
            standalone_pence=lot.standalone_value_pence,
        )
        for lot in lots
    ]
    name_boroughs(session, plans)
    return plans


@cycle_collector_paused()
def tender_lot_plans(
    session: Session, tender: Tender, index: UnitIndex | None = None
) -> list[LotPlan]:
    """The stored lots of a tender with their lines (and borough names), by number."""
    return _plans(session, _stored_lots(session, tender), index or unit_index(session))


def _recompute(session: Session, tender: Tender, index: UnitIndex) -> None:
    """Drop empty lots, renumber the rest 1..n, and reprice each from its lines."""
    lots = {pk(lot): lot for lot in _stored_lots(session, tender)}
    plans = _plans(session, list(lots.values()), index)
    keep = [p for p in plans if p.lines]
    for plan in plans:
        if not plan.lines:
            session.delete(lots[pk(plan)])
    # Park the numbers first: (tender_id, number) is unique at every step of the flush.
    for plan in keep:
        lots[pk(plan)].number = -plan.number
    session.flush()
    cards = load_rate_cards(
        session, keys={(p.unit.category_id, p.unit.id) for p in keep}, on=clock.today()
    )
    for number, plan in enumerate(keep, start=1):
        lot = lots[pk(plan)]
        estimated, standalone = price_lot(
            plan.lines,
            cards.get((plan.unit.category_id, plan.unit.id)),
            per_year=plan.unit.per_year,
        )
        lot.number = number
        lot.title = plan.title
        lot.total_quantity = plan.total_quantity
        lot.estimated_value_pence = estimated
        lot.standalone_value_pence = standalone
        session.add(lot)
    session.flush()


class _Moves:
    """One save of the lot editor: where each moved line goes, checked move by move."""

    def __init__(self, session: Session, tender: Tender, index: UnitIndex, data: LotEdit):
        self.session, self.tender, self.index = session, tender, index
        self.lots = {lot.number: lot for lot in _stored_lots(session, tender)}
        self.next_number = max(self.lots, default=0) + 1
        # Lines sent to "a new lot" in one save share it: one new lot per category and unit.
        self.new_lots: dict[int, Lot] = {}
        wanted = [move.demand_id for move in data.moves]
        self.demands = {
            pk(d): d
            for d in session.exec(
                select(Demand).where(col(Demand.id).in_(wanted), Demand.tender_id == tender.id)
            )
        }
        self.seen: set[int] = set()

    def demand(self, i: int, move: LotMove) -> Demand:
        demand = self.demands.get(move.demand_id)
        if demand is None:
            raise Invalid(
                f"Demand {move.demand_id} is not in {self.tender.reference}.",
                field=f"moves.{i}.demand_id",
            )
        if move.demand_id in self.seen:
            raise Invalid(f"Demand {move.demand_id} is moved twice.", field=f"moves.{i}.demand_id")
        self.seen.add(move.demand_id)
        return demand

    def new_lot(self, demand: Demand) -> Lot:
        lot = self.new_lots.get(demand.unit_id)
        if lot is None:
            unit = self.index.by_id[demand.unit_id]
            lot = Lot(
                tender_id=pk(self.tender),
                number=self.next_number,
                title=unit.name,
                category_id=unit.category_id,
                unit_id=unit.id,
            )
            self.session.add(lot)
            self.session.flush()
            self.lots[self.next_number] = self.new_lots[demand.unit_id] = lot
            self.next_number += 1
        return lot

    def existing_lot(self, i: int, number: int, demand: Demand) -> Lot:
        target = self.lots.get(number)
        if target is None:
            raise Invalid(
                f"{self.tender.reference} has no lot {number}.", field=f"moves.{i}.to_lot"
            )
        if (target.category_id, target.unit_id) != (demand.category_id, demand.unit_id):
            unit, other = self.index.by_id[demand.unit_id], self.index.by_id[target.unit_id]
            raise Invalid(
                f"Demand {demand.id} ({unit.category_code}, {unit.code}) can only move to a "
                f"lot of the same category and unit; lot {number} is "
                f"{other.category_code}, {other.code}.",
                field=f"moves.{i}.to_lot",
            )
        return target

    def apply(self, i: int, move: LotMove) -> None:
        demand = self.demand(i, move)
        if move.to_lot is None:
            demand.status = DemandStatus.SUBMITTED
            demand.tender_id = None
            demand.lot_id = None
        elif move.to_lot == "new":
            demand.lot_id = self.new_lot(demand).id
        else:
            demand.lot_id = self.existing_lot(i, move.to_lot, demand).id
        demand.updated_at = clock.now()
        self.session.add(demand)


@cycle_collector_paused()
def edit_lots(session: Session, actor: User, tender_id: int, *, data: LotEdit) -> Tender:
    """Move demand lines between a draft's lots, into a new lot, or out of the draft;
    empty lots go, the rest are renumbered and every figure is recomputed."""
    tender = lock_draft(session, actor, tender_id)
    index = unit_index(session)
    moves = _Moves(session, tender, index, data)
    for i, move in enumerate(data.moves):
        moves.apply(i, move)
    session.flush()
    _recompute(session, tender, index)
    audit.record(
        session,
        actor,
        action="tender.lots_edited",
        object_type="tender",
        object_id=tender.id,
        details={"reference": tender.reference, "moves": [m.model_dump() for m in data.moves]},
    )
    return tender
