"""Pooling boroughs' submitted demand into a draft tender, editing its lots, deleting it.

The grouping and pricing rules are in ``planning``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, Role, User
from lap_market.aggregation.planning import Line, LotPlan, plan_lots, price_lot
from lap_market.aggregation.schemas import AggregateRequest, LotEdit
from lap_market.audit import service as audit
from lap_market.catalogue.pricing import load_rate_cards
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.demand.service import UnitIndex, filter_by_service, unit_index
from lap_market.errors import Conflict, Forbidden, Invalid
from lap_market.frameworks import terms as framework_terms
from lap_market.tenders.models import Amendment, Lot, Notification, Question, Tender, TenderStatus
from lap_market.tenders.service import get_tender_for_officer

# --- policy and loading -----------------------------------------------------------------------


def require_officer(actor: User) -> None:
    """Only procurement officers pool demand and shape draft tenders."""
    if actor.role != Role.PROCUREMENT_OFFICER:
        raise Forbidden("Only a procurement officer may aggregate demand or edit lots.")


def _line_columns() -> tuple[Any, ...]:
    return (
        Demand.id,
        Demand.borough_id,
        Demand.unit_id,
        Demand.quantity,
        Demand.start_date,
        Demand.end_date,
    )


def _as_line(row: Any) -> Line:
    return Line._make(row[:6])


def _matching_lines(session: Session, index: UnitIndex, filters: AggregateRequest) -> list[Line]:
    query = sa.select(*_line_columns()).where(col(Demand.status) == DemandStatus.SUBMITTED)
    # A demand round's lines are pooled by the round, once it closes, and nowhere else.
    query = query.where(col(Demand.round_id).is_(None))
    query = filter_by_service(query, index, category=filters.category, unit=filters.unit)
    start, end = filters.needed_by_from, filters.needed_by_to
    if start and end and end < start:
        raise Invalid("Needed by (to) must be on or after needed by (from).", field="needed_by_to")
    if filters.needed_by_from:
        query = query.where(col(Demand.needed_by) >= filters.needed_by_from)
    if filters.needed_by_to:
        query = query.where(col(Demand.needed_by) <= filters.needed_by_to)
    # Core rows, not ORM ones, each made a Line as it is fetched (not all kept as Rows
    # first): tens of thousands of tuples without the ORM's per-row work.
    return list(map(Line._make, session.connection().execute(query)))


def _borough_names(session: Session, plans: Sequence[LotPlan]) -> None:
    ids = {line.borough_id for plan in plans for line in plan.lines}
    if not ids:
        return
    names = dict(
        session.exec(
            select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
        ).all()
    )
    for plan in plans:
        plan.names = {line.borough_id: names[line.borough_id] for line in plan.lines}
        plan.boroughs = sorted(set(plan.names.values()))


@dataclass
class Preview:
    """What aggregating would create, without writing anything."""

    lots: list[LotPlan]

    @property
    def demand_count(self) -> int:
        return sum(len(p.lines) for p in self.lots)

    @property
    def boroughs(self) -> list[str]:
        return sorted({name for p in self.lots for name in p.boroughs})

    def _sum(self, pick: str) -> Decimal | None:
        values = [getattr(p, pick) for p in self.lots if not p.no_reference_rate]
        return sum(values, Decimal("0.00")) if values else None

    @property
    def estimated_value(self) -> Decimal | None:
        return self._sum("estimated_value")

    @property
    def standalone_value(self) -> Decimal | None:
        return self._sum("standalone_value")

    @property
    def estimated_saving(self) -> Decimal | None:
        return self._sum("estimated_saving")


def preview_aggregation(session: Session, actor: User, *, filters: AggregateRequest) -> Preview:
    """The lots and savings pooling would give now; nothing is written."""
    require_officer(actor)
    index = unit_index(session)
    plans = plan_lots(session, _matching_lines(session, index, filters), index)
    _borough_names(session, plans)
    return Preview(lots=plans)


# --- use cases ----------------------------------------------------------------------------------


def _default_title(plans: Sequence[LotPlan]) -> str:
    categories = list(dict.fromkeys(p.unit.category_code for p in plans))
    return f"Joint procurement: {', '.join(categories)} ({clock.today().strftime('%b %Y')})"


def _new_tender(session: Session, actor: User, title: str) -> Tender:
    """A draft with the year's next reference; a clash on (year, sequence) is retried."""
    year = clock.today().year
    for _attempt in range(5):
        latest = session.exec(select(func.max(Tender.sequence)).where(Tender.year == year)).one()
        sequence = (latest or 0) + 1
        now = clock.now()
        tender = Tender(
            reference=f"LAP-{year}-{sequence:04d}",
            year=year,
            sequence=sequence,
            title=title,
            status=TenderStatus.DRAFT,
            created_by_id=actor.id,  # type: ignore[arg-type]
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(tender)
                session.flush()
        except IntegrityError:
            continue
        return tender
    raise Conflict("Could not allocate a tender reference; please try again.")


def _take_lines(
    session: Session, tender: Tender, plans: Sequence[LotPlan], lots: Sequence[Lot]
) -> int:
    """Mark every planned line ``in_tender`` in its lot; how many were still ``submitted``.

    Conditional on ``submitted``: of two aggregations racing for a line, exactly one takes it.
    """
    values = {"status": DemandStatus.IN_TENDER, "tender_id": tender.id, "updated_at": clock.now()}
    if session.get_bind().dialect.name == "postgresql":
        return _take_lines_postgresql(session, values, plans, lots)
    # SQLite: one statement, its (id, lot) pairs in one JSON parameter read inside the engine
    # in id order; "+" keeps SQLite from walking the status index instead of looking each
    # line up by id. Per-lot statements each walked every page of the table.
    pairs = sorted(
        (line.id, lot_id)
        for plan, lot_id in zip(plans, [lot.id for lot in lots], strict=True)
        for line in plan.lines
    )
    result = session.execute(
        _TAKE_SQLITE, {**values, "pairs": json.dumps(pairs), "submitted": DemandStatus.SUBMITTED}
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


_TAKE_SQLITE = sa.text(
    "UPDATE demand SET status = :status, tender_id = :tender_id, updated_at = :updated_at,"
    " lot_id = taken.lot_id"
    " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS lot_id"
    " FROM json_each(:pairs)) AS taken"
    " WHERE demand.id = taken.id AND +demand.status = :submitted"
).bindparams(sa.bindparam("updated_at", type_=Demand.__table__.c.updated_at.type))  # type: ignore[attr-defined]


def _take_lines_postgresql(
    session: Session, values: dict[str, Any], plans: Sequence[LotPlan], lots: Sequence[Lot]
) -> int:
    # One statement joining two array parameters on the primary key: no per-lot statements
    # re-scanning the table, no thousands of bind parameters to parse.
    ids: list[int] = []
    lot_ids: list[int] = []
    for plan, lot in zip(plans, lots, strict=True):
        ids.extend(line.id for line in plan.lines)
        lot_ids.extend([lot.id] * len(plan.lines))  # type: ignore[list-item]
    pairs = (
        sa.func.unnest(
            sa.bindparam("ids", ids, type_=ARRAY(sa.Integer)),
            sa.bindparam("lot_ids", lot_ids, type_=ARRAY(sa.Integer)),
        )
        .table_valued("id", "lot_id")
        .render_derived(name="taken")
    )
    result = session.execute(
        sa.update(Demand)
        .where(col(Demand.id) == pairs.c.id, col(Demand.status) == DemandStatus.SUBMITTED)
        .values(lot_id=pairs.c.lot_id, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Pooling:
    """A new draft tender with its stored lots and the plans they were made from (lines,
    boroughs, figures), so the caller can answer without reading any of it back."""

    tender: Tender
    lots: list[Lot]
    plans: list[LotPlan]


def pool_demand(session: Session, actor: User, *, filters: AggregateRequest) -> Pooling:
    """Pool every matching ``submitted`` demand line into one new draft tender with lots."""
    require_officer(actor)
    index = unit_index(session)
    lines = _matching_lines(session, index, filters)
    if not lines:
        raise Invalid(
            "No submitted demand matches: everything that matches is already in a tender, "
            "withdrawn or contracted.",
            field="demand",
        )
    plans = plan_lots(session, lines, index)
    tender = _new_tender(session, actor, filters.title or _default_title(plans))
    framework_terms.apply(tender, filters, clock.today())
    lots = _add_lots(session, tender, plans)
    taken = _take_lines(session, tender, plans, lots)
    if taken != len(lines):
        raise Conflict(
            "Some of this demand was pooled or withdrawn by someone else at the same moment; "
            "nothing was created. Please try again.",
            field="demand",
        )
    _borough_names(session, plans)
    audit.record(
        session,
        actor,
        action="tender.aggregated",
        object_type="tender",
        object_id=tender.id,
        details={
            "reference": tender.reference,
            "filters": filters.model_dump(exclude_none=True),
            "demand_count": len(lines),
            "lots": [
                {"number": p.number, "title": p.title, "demand_count": len(p.lines)} for p in plans
            ],
        },
    )
    return Pooling(tender=tender, lots=lots, plans=plans)


def aggregate_demand(session: Session, actor: User, *, filters: AggregateRequest) -> Tender:
    """Pool matching ``submitted`` demand (see ``pool_demand``); the new draft tender."""
    return pool_demand(session, actor, filters=filters).tender


def _add_lots(session: Session, tender: Tender, plans: Sequence[LotPlan]) -> list[Lot]:
    lots = [
        Lot(
            tender_id=tender.id,  # type: ignore[arg-type]
            number=plan.number,
            title=plan.title,
            category_id=plan.unit.category_id,
            unit_id=plan.unit.id,
            total_quantity=plan.total_quantity,
            estimated_value_pence=plan.estimated_pence,
            standalone_value_pence=plan.standalone_pence,
        )
        for plan in plans
    ]
    session.add_all(lots)
    session.flush()
    for plan, lot in zip(plans, lots, strict=True):
        plan.id = lot.id
    return lots


def get_draft(session: Session, actor: User, tender_id: int) -> Tender:
    """A tender for the lot editor (officers only; 404 to anyone who may not see it)."""
    return get_tender_for_officer(session, actor, tender_id)


def _lock_draft(session: Session, actor: User, tender_id: int) -> Tender:
    """The draft, touched with a conditional UPDATE so a concurrent publish cannot slip in."""
    tender = get_draft(session, actor, tender_id)
    result = session.execute(
        sa.update(Tender)
        .where(col(Tender.id) == tender_id, col(Tender.status) == TenderStatus.DRAFT)
        .values(updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(tender)
        raise Conflict(
            f"Only a draft tender can be changed; {tender.reference} is {tender.status}.",
            field="status",
        )
    session.refresh(tender)
    return tender


def tender_lot_plans(
    session: Session, tender: Tender, index: UnitIndex | None = None
) -> list[LotPlan]:
    """The stored lots of a tender with their lines (and borough names), by number."""
    index = index or unit_index(session)
    lots = session.exec(
        select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number))
    ).all()
    columns = (*_line_columns(), Demand.lot_id)
    rows = session.connection().execute(  # Core rows: a draft can hold 33,000 lines
        sa.select(*columns).where(col(Demand.tender_id) == tender.id)
    )
    by_lot: dict[int, list[Line]] = defaultdict(list)
    for row in rows:
        by_lot[row[6]].append(_as_line(row))
    plans = []
    for lot in lots:
        lines = sorted(by_lot.get(lot.id, []), key=lambda x: x.id)  # type: ignore[arg-type]
        plans.append(
            LotPlan(
                number=lot.number,
                unit=index.by_id[lot.unit_id],
                lines=lines,
                id=lot.id,
                estimated_pence=lot.estimated_value_pence,
                standalone_pence=lot.standalone_value_pence,
            )
        )
    _borough_names(session, plans)
    return plans


def _recompute(session: Session, tender: Tender, index: UnitIndex) -> None:
    """Drop empty lots, renumber the rest 1..n, and reprice each from its lines."""
    plans = tender_lot_plans(session, tender, index)
    lots = {
        lot.id: lot for lot in session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    }
    keep = [p for p in plans if p.lines]
    for plan in plans:
        if not plan.lines:
            session.delete(lots[plan.id])  # type: ignore[index]
    # Park the numbers first: (tender_id, number) is unique at every step of the flush.
    for plan in keep:
        lots[plan.id].number = -plan.number  # type: ignore[index]
    session.flush()
    cards = load_rate_cards(
        session, keys={(p.unit.category_id, p.unit.id) for p in keep}, on=clock.today()
    )
    for number, plan in enumerate(keep, start=1):
        lot = lots[plan.id]  # type: ignore[index]
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


def edit_lots(session: Session, actor: User, tender_id: int, *, data: LotEdit) -> Tender:
    """Move demand lines between a draft's lots, into a new lot, or out of the draft;
    empty lots go, the rest are renumbered and every figure is recomputed."""
    tender = _lock_draft(session, actor, tender_id)
    index = unit_index(session)
    lots = {
        lot.number: lot for lot in session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    }
    wanted = [move.demand_id for move in data.moves]
    demands = {
        d.id: d
        for d in session.exec(
            select(Demand).where(col(Demand.id).in_(wanted), Demand.tender_id == tender.id)
        ).all()
    }
    seen: set[int] = set()
    next_number = max(lots, default=0) + 1
    now = clock.now()
    for i, move in enumerate(data.moves):
        demand = demands.get(move.demand_id)
        if demand is None:
            raise Invalid(
                f"Demand {move.demand_id} is not in {tender.reference}.",
                field=f"moves.{i}.demand_id",
            )
        if move.demand_id in seen:
            raise Invalid(f"Demand {move.demand_id} is moved twice.", field=f"moves.{i}.demand_id")
        seen.add(move.demand_id)
        if move.to_lot is None:
            demand.status = DemandStatus.SUBMITTED
            demand.tender_id = None
            demand.lot_id = None
        elif move.to_lot == "new":
            unit = index.by_id[demand.unit_id]
            lot = Lot(
                tender_id=tender.id,  # type: ignore[arg-type]
                number=next_number,
                title=unit.name,
                category_id=unit.category_id,
                unit_id=unit.id,
            )
            session.add(lot)
            session.flush()
            lots[next_number] = lot
            next_number += 1
            demand.lot_id = lot.id
        else:
            target = lots.get(move.to_lot)
            if target is None:
                raise Invalid(
                    f"{tender.reference} has no lot {move.to_lot}.", field=f"moves.{i}.to_lot"
                )
            if (target.category_id, target.unit_id) != (demand.category_id, demand.unit_id):
                unit = index.by_id[demand.unit_id]
                raise Invalid(
                    f"Demand {demand.id} ({unit.category_code}, {unit.code}) can only move to a "
                    f"lot of the same category and unit; lot {move.to_lot} is "
                    f"{index.by_id[target.unit_id].category_code}, "
                    f"{index.by_id[target.unit_id].code}.",
                    field=f"moves.{i}.to_lot",
                )
            demand.lot_id = target.id
        demand.updated_at = now
        session.add(demand)
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


def delete_draft(session: Session, actor: User, tender_id: int) -> None:
    """Delete a draft tender; its demand goes back to ``submitted`` to be pooled again."""
    tender = _lock_draft(session, actor, tender_id)
    reference = tender.reference
    released = session.execute(
        sa.update(Demand)
        .where(col(Demand.tender_id) == tender_id)
        .values(status=DemandStatus.SUBMITTED, tender_id=None, lot_id=None, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    for model in (Notification, Amendment, Question, Lot):
        session.execute(
            sa.delete(model)
            .where(col(model.tender_id) == tender_id)  # type: ignore[attr-defined]
            .execution_options(synchronize_session=False)
        )
    session.execute(
        sa.delete(Tender)
        .where(col(Tender.id) == tender_id)
        .execution_options(synchronize_session=False)
    )
    session.expunge(tender)
    audit.record(
        session,
        actor,
        action="tender.deleted",
        object_type="tender",
        object_id=tender_id,
        details={"reference": reference, "released_demand": released},
    )


def pool_lines(
    session: Session, actor: User, *, lines: Sequence[Line], title: str, source: dict[str, Any]
) -> Tender:
    """Pool exactly these ``submitted`` lines (a demand round's confirmed returns) into a new
    draft tender, by the same lot and pricing rules as ``aggregate_demand``; ``source`` says
    where they came from in the audit trail. 409 if any was taken meanwhile."""
    require_officer(actor)
    index = unit_index(session)
    plans = plan_lots(session, lines, index)
    tender = _new_tender(session, actor, title)
    lots = _add_lots(session, tender, plans)
    if _take_lines(session, tender, plans, lots) != len(lines):
        raise Conflict("Some of these lines were pooled or withdrawn at the same moment; "
                       "nothing was created. Please try again.", field="demand")
    audit.record(
        session, actor, action="tender.aggregated", object_type="tender", object_id=tender.id,
        details={"reference": tender.reference, **source, "demand_count": len(lines),
                 "lots": [{"number": p.number, "title": p.title, "demand_count": len(p.lines)}
                          for p in plans]},
    )
    return tender
