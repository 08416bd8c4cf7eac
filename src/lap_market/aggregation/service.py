"""Pooling boroughs' submitted demand into a draft tender, and deleting a draft.

The grouping and pricing rules are in ``planning``; editing a draft's lots in ``lots``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.aggregation.planning import Line, LotPlan, plan_lots
from lap_market.aggregation.policy import require_officer
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.demand.models import Demand, DemandStatus, submitted
from lap_market.demand.service import UnitIndex, filter_by_service, unit_index
from lap_market.errors import Conflict, Invalid
from lap_market.frameworks import terms as framework_terms
from lap_market.modeling import bulk_rows, cycle_collector_paused, insert_numbered, pk
from lap_market.tenders.models import Amendment, Lot, Notification, Question, Tender, TenderStatus
from lap_market.tenders.service import get_tender_for_officer

# --- loading ----------------------------------------------------------------------------------


def _line_columns() -> tuple[Any, ...]:
    return (
        Demand.id,
        Demand.borough_id,
        Demand.unit_id,
        Demand.quantity,
        Demand.start_date,
        Demand.end_date,
    )


S = TypeVar("S", sa.Select[Any], sa.Update)


def _where_matching(statement: S, index: UnitIndex, filters: AggregateRequest) -> S:
    """Narrow a select or update of demand to the ``submitted`` lines ``filters`` match."""
    start, end = filters.needed_by_from, filters.needed_by_to
    if start and end and end < start:
        raise Invalid("Needed by (to) must be on or after needed by (from).", field="needed_by_to")
    # A demand round's lines are pooled by the round, once it closes, and nowhere else.
    statement = statement.where(submitted(), col(Demand.round_id).is_(None))
    statement = filter_by_service(statement, index, category=filters.category, unit=filters.unit)
    if start:
        statement = statement.where(col(Demand.needed_by) >= start)
    if end:
        statement = statement.where(col(Demand.needed_by) <= end)
    return statement


def _matching_lines(session: Session, index: UnitIndex, filters: AggregateRequest) -> list[Line]:
    query = _where_matching(sa.select(*_line_columns()), index, filters)
    # The driver's tuples, not ORM objects or Rows: tens of thousands without per-row work.
    return list(map(Line._make, bulk_rows(session.connection(), query)))


def name_boroughs(session: Session, plans: Sequence[LotPlan]) -> None:
    """Fill each plan's borough names (by line) and its sorted list of boroughs, in one query."""
    ids = {line.borough_id for plan in plans for line in plan.lines}
    if not ids:
        return
    names = dict(
        session.exec(
            select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
        ).all()
    )
    for plan in plans:
        plan.names = {i: names[i] for i in set(map(itemgetter(1), plan.lines))}  # borough ids
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


@cycle_collector_paused()
def preview_aggregation(session: Session, actor: User, *, filters: AggregateRequest) -> Preview:
    """The lots and savings pooling would give now; nothing is written."""
    require_officer(actor)
    index = unit_index(session)
    plans = plan_lots(session, _matching_lines(session, index, filters), index)
    name_boroughs(session, plans)
    return Preview(lots=plans)



# --- pooling ------------------------------------------------------------------------------------


def _default_title(plans: Sequence[LotPlan]) -> str:
    categories = list(dict.fromkeys(p.unit.category_code for p in plans))
    return f"Joint procurement: {', '.join(categories)} ({clock.today().strftime('%b %Y')})"


def _write_transaction(session: Session) -> None:
    """On SQLite, open the transaction now, taking the write lock, if none is open yet.

    The driver begins one only before a write, so a SAVEPOINT as the first statement would
    be the outermost transaction and its RELEASE would commit (a refused pooling would leave
    its draft behind); and reading the lines under the lock means no other writer can change
    them before they are taken.
    """
    dbapi = session.connection().connection.dbapi_connection
    if session.get_bind().dialect.name == "sqlite" and not getattr(dbapi, "in_transaction", True):
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _new_tender(session: Session, actor: User, title: str) -> Tender:
    """A draft with the year's next reference; a clash on (year, sequence) is retried."""
    _write_transaction(session)

    def build(year: int, sequence: int) -> Tender:
        now = clock.now()
        return Tender(
            reference=f"LAP-{year}-{sequence:04d}", year=year, sequence=sequence, title=title,
            status=TenderStatus.DRAFT, created_by_id=pk(actor), created_at=now, updated_at=now,
        )

    return insert_numbered(session, Tender, build, what="tender")


def _add_lots(session: Session, tender: Tender, plans: Sequence[LotPlan]) -> list[Lot]:
    lots = [
        Lot(
            tender_id=pk(tender),
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


def _in_tender(tender: Tender) -> dict[str, Any]:
    return {"status": DemandStatus.IN_TENDER, "tender_id": pk(tender), "updated_at": clock.now()}


def _take_lines(
    session: Session, tender: Tender, plans: Sequence[LotPlan], lots: Sequence[Lot]
) -> int:
    """Mark exactly the planned lines ``in_tender`` in their lots (by id: a round's lines);
    how many were still ``submitted``. Of two poolings racing for a line, one takes it."""
    if session.get_bind().dialect.name == "postgresql":
        return _take_lines_postgresql(session, _in_tender(tender), plans, lots)
    # SQLite: one statement, its (id, lot) pairs in one JSON parameter read inside the engine
    # in id order; "+" keeps SQLite from walking an index of status instead of looking each
    # line up by id. Per-lot statements each walked every page of the table.
    pairs = sorted(
        pair
        for plan, lot in zip(plans, lots, strict=True)
        for pair in zip(map(itemgetter(0), plan.lines), repeat(pk(lot)))
    )
    result = session.connection().execute(
        _TAKE_SQLITE,
        {**_in_tender(tender), "pairs": json.dumps(pairs), "submitted": DemandStatus.SUBMITTED},
    )
    return result.rowcount


_TAKE_SQLITE = sa.text(
    "UPDATE demand SET status = :status, tender_id = :tender_id, updated_at = :updated_at,"
    " lot_id = taken.lot_id"
    " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS lot_id"
    " FROM json_each(:pairs)) AS taken"
    " WHERE demand.id = taken.id AND +demand.status = :submitted"
).bindparams(sa.bindparam("updated_at", type_=sa.inspect(Demand).columns["updated_at"].type))


def _take_lines_postgresql(
    session: Session, values: dict[str, Any], plans: Sequence[LotPlan], lots: Sequence[Lot]
) -> int:
    # One statement joining two array parameters on the primary key: no per-lot statements
    # re-scanning the table, no thousands of bind parameters to parse.
    ids: list[int] = []
    lot_ids: list[int] = []
    for plan, lot in zip(plans, lots, strict=True):
        ids.extend(line.id for line in plan.lines)
        lot_ids.extend([pk(lot)] * len(plan.lines))
    pairs = (
        sa.func.unnest(
            sa.bindparam("ids", ids, type_=ARRAY(sa.Integer)),
            sa.bindparam("lot_ids", lot_ids, type_=ARRAY(sa.Integer)),
        )
        .table_valued("id", "lot_id")
        .render_derived(name="taken")
    )
    result = session.connection().execute(
        sa.update(Demand)
        .where(col(Demand.id) == pairs.c.id, col(Demand.status) == DemandStatus.SUBMITTED)
        .values(lot_id=pairs.c.lot_id, **values)
    )
    return result.rowcount


LOT_KEYS = ("category_id", "unit_id", "first_start", "last_start", "lot_id")


def _lot_keys(plans: Sequence[LotPlan]) -> Any:
    """The lots as rows (category, unit, first and last start date of its lines, lot id).

    Grouping sorts a unit's lines by start date and cuts only where a start passes every
    earlier end, so a lot holds exactly its unit's matching lines starting within its own
    first and last start: PostgreSQL can find them by these keys, not by 33,000 ids.
    """
    rows = [
        (p.unit.category_id, p.unit.id, p.lines[0].start_date, p.lines[-1].start_date, p.id)
        for p in plans
    ]
    types: tuple[Any, ...] = (sa.Integer, sa.Integer, sa.Date, sa.Date, sa.Integer)
    arrays: list[Any] = [
        sa.bindparam(f"lot_{name}", list(column), type_=ARRAY(kind))
        for name, column, kind in zip(LOT_KEYS, zip(*rows, strict=True), types, strict=True)
    ]
    return sa.func.unnest(*arrays).table_valued(*LOT_KEYS).render_derived(name="pooled")


def _lot_case(plans: Sequence[LotPlan], lots: Sequence[Lot]) -> Any:
    """A line's lot from its category, unit and start date (see ``_lot_keys``); NULL for a
    line of no planned lot."""
    return sa.case(
        *(
            (
                sa.and_(
                    col(Demand.category_id) == p.unit.category_id,
                    col(Demand.unit_id) == p.unit.id,
                    col(Demand.start_date).between(p.lines[0].start_date, p.lines[-1].start_date),
                ),
                pk(lot),
            )
            for p, lot in zip(plans, lots, strict=True)
        )
    )


def _take_matching(
    session: Session, tender: Tender, plans: Sequence[LotPlan], lots: Sequence[Lot],
    index: UnitIndex, filters: AggregateRequest,
) -> bool:
    """Mark the matching ``submitted`` lines ``in_tender`` in their lots in one statement;
    whether exactly the planned lines were taken.

    Conditional on ``submitted``: of two poolings racing for a line, exactly one takes it.
    Both databases find the lines by their lots' keys: no 33,000 ids to send and look up, no
    per-line work in Python. On PostgreSQL a line submitted or released meanwhile would match
    too, so the count and the sum of the ids taken are checked against the plan's. SQLite's
    pooling has held the write lock since it read the lines (``_write_transaction``): what
    matches now is what was planned, and one pass sets each line's lot from a CASE (a join
    would make its planner walk the submitted lines' index once per lot key).
    """
    if session.get_bind().dialect.name != "postgresql":
        lot = _lot_case(plans, lots)
        update = _where_matching(sa.update(Demand), index, filters).where(lot.is_not(None))
        taken = session.connection().execute(update.values(lot_id=lot, **_in_tender(tender)))
        return taken.rowcount == sum(len(plan.lines) for plan in plans)
    lines = [line.id for plan in plans for line in plan.lines]
    keys = _lot_keys(plans)
    update = _where_matching(sa.update(Demand), index, filters).where(
        col(Demand.category_id) == keys.c.category_id,
        col(Demand.unit_id) == keys.c.unit_id,
        col(Demand.start_date) >= keys.c.first_start,
        col(Demand.start_date) <= keys.c.last_start,
    ).values(lot_id=keys.c.lot_id, **_in_tender(tender))
    written = update.returning(col(Demand.id)).cte("taken")
    count, total = session.connection().execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(written.c.id), 0))
    ).one()
    return (count, total) == (len(lines), sum(lines))


@dataclass
class Pooling:
    """A new draft tender with its stored lots and the plans they were made from (lines,
    boroughs, figures), so the caller can answer without reading any of it back."""

    tender: Tender
    lots: list[Lot]
    plans: list[LotPlan]


def _record_pooling(
    session: Session, actor: User, tender: Tender, plans: Sequence[LotPlan],
    source: dict[str, Any],
) -> None:
    lots = [{"number": p.number, "title": p.title, "demand_count": len(p.lines)} for p in plans]
    audit.record(
        session, actor, action="tender.aggregated", object_type="tender", object_id=tender.id,
        details={"reference": tender.reference, **source,
                 "demand_count": sum(len(p.lines) for p in plans), "lots": lots},
    )


@cycle_collector_paused()
def pool_demand(session: Session, actor: User, *, filters: AggregateRequest) -> Pooling:
    """Pool every matching ``submitted`` demand line into one new draft tender with lots."""
    require_officer(actor)
    _write_transaction(session)
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
    if not _take_matching(session, tender, plans, lots, index, filters):
        raise Conflict(
            "Some of this demand was pooled, withdrawn or submitted by someone else at the same "
            "moment; nothing was created. Please try again.",
            field="demand",
        )
    name_boroughs(session, plans)
    _record_pooling(
        session, actor, tender, plans, {"filters": filters.model_dump(exclude_none=True)}
    )
    return Pooling(tender=tender, lots=lots, plans=plans)


def aggregate_demand(session: Session, actor: User, *, filters: AggregateRequest) -> Tender:
    """Pool matching ``submitted`` demand (see ``pool_demand``); the new draft tender."""
    return pool_demand(session, actor, filters=filters).tender


@cycle_collector_paused()
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
    _record_pooling(session, actor, tender, plans, source)
    return tender


# --- drafts ------------------------------------------------------------------------------------


def get_draft(session: Session, actor: User, tender_id: int) -> Tender:
    """A tender for the lot editor (officers only; 404 to anyone who may not see it)."""
    return get_tender_for_officer(session, actor, tender_id)


def lock_draft(session: Session, actor: User, tender_id: int) -> Tender:
    """The draft, touched with a conditional UPDATE so a concurrent publish cannot slip in."""
    tender = get_draft(session, actor, tender_id)
    result = session.connection().execute(
        sa.update(Tender)
        .where(col(Tender.id) == tender_id, col(Tender.status) == TenderStatus.DRAFT)
        .values(updated_at=clock.now())
    )
    session.refresh(tender)
    if result.rowcount != 1:
        raise Conflict(
            f"Only a draft tender can be changed; {tender.reference} is {tender.status}.",
            field="status",
        )
    return tender


def delete_draft(session: Session, actor: User, tender_id: int) -> None:
    """Delete a draft tender; its demand goes back to ``submitted`` to be pooled again."""
    tender = lock_draft(session, actor, tender_id)
    reference = tender.reference
    connection = session.connection()
    released = connection.execute(
        sa.update(Demand)
        # By its lots (tender and lot are set together): the lot index finds the lines.
        .where(col(Demand.lot_id).in_(select(Lot.id).where(Lot.tender_id == tender_id)))
        .values(status=DemandStatus.SUBMITTED, tender_id=None, lot_id=None, updated_at=clock.now())
    ).rowcount
    for table in (Notification, Amendment, Question, Lot, Tender):
        column = "id" if table is Tender else "tender_id"
        mapped = sa.inspect(table).columns[column]
        connection.execute(sa.delete(table).where(mapped == tender_id))
    session.expunge(tender)
    audit.record(
        session,
        actor,
        action="tender.deleted",
        object_type="tender",
        object_id=tender_id,
        details={"reference": reference, "released_demand": released},
    )
