"""Reading demand: API views of lines, the pipeline summary, counts by status, and one
need's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc
from lap_market.demand.models import Demand
from lap_market.demand.policy import require_viewer
from lap_market.demand.schemas import BoroughRef, DemandFilters, DemandRead, SummaryRow
from lap_market.demand.service import apply_filters, from_pence_or_none, unit_index, visible
from lap_market.modeling import pk


def demand_reads(session: Session, demands: Sequence[Demand]) -> list[DemandRead]:
    """API views of demand, loading boroughs and units in bulk."""
    if not demands:
        return []
    index = unit_index(session)
    borough_ids = {d.borough_id for d in demands}
    boroughs = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_(borough_ids))
        ).all()
    }
    reads = []
    for d in demands:
        unit = index.by_id[d.unit_id]
        borough = boroughs[d.borough_id]
        reads.append(
            DemandRead(
                id=pk(d),
                borough=BoroughRef(id=pk(borough), name=borough.name, gss_code=borough.gss_code),
                category=unit.category_code,
                unit=unit.code,
                quantity=Decimal(d.quantity),
                start_date=d.start_date,
                end_date=d.end_date,
                needed_by=d.needed_by,
                specification=d.specification,
                budget_ceiling=from_pence_or_none(d.budget_ceiling_pence),
                status=d.status,
                tender_id=d.tender_id,
                lot_id=d.lot_id,
                round_id=d.round_id,
                created_at=as_utc(d.created_at),
                updated_at=as_utc(d.updated_at),
            )
        )
    return reads


def pipeline_summary(session: Session, actor: User, *, filters: DemandFilters) -> list[SummaryRow]:
    """Lines, boroughs and total quantity per category and unit, for what the filters match."""
    index = unit_index(session)
    query = visible(
        select(
            Demand.unit_id,
            func.count(),
            func.count(sa.distinct(col(Demand.borough_id))),
            func.sum(Demand.quantity),
        ),
        actor,
    )
    query = apply_filters(session, query, actor, filters, index)
    rows = session.exec(query.group_by(Demand.unit_id)).all()
    summary = []
    for unit_id, lines, boroughs, quantity in rows:
        unit = index.by_id[unit_id]
        summary.append(
            SummaryRow(
                category=unit.category_code,
                category_name=unit.category_name,
                unit=unit.code,
                unit_name=unit.name,
                lines=int(lines),
                boroughs=int(boroughs),
                quantity=Decimal(str(quantity or 0)).quantize(Decimal("0.01")),
            )
        )
    return sorted(
        summary,
        key=lambda r: (
            index.units[(r.category, r.unit)].category_id,
            index.units[(r.category, r.unit)].id,
        ),
    )


def status_counts(session: Session, actor: User) -> dict[str, int]:
    """How many demand lines the actor may see are in each status."""
    query = visible(select(Demand.status, func.count()), actor)
    return {status: int(n) for status, n in session.exec(query.group_by(Demand.status)).all()}


# --- one need's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    what: str
    who: str | None


HISTORY_LABELS = {
    "demand.created": "Raised",
    "demand.imported": "Raised from a CSV file",
    "demand.updated": "Changed",
    "demand.withdrawn": "Withdrawn",
}


def demand_history(session: Session, actor: User, demand: Demand) -> list[HistoryEntry]:
    """What happened to one need, oldest first: raised, each change (naming the fields),
    withdrawn. A line raised from a file has its raising taken from the line itself, as the
    import's one audit event names only the file's first line."""
    require_viewer(actor)
    rows = session.exec(
        select(AuditEvent, User.name)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .where(
            AuditEvent.object_type == "demand",
            AuditEvent.object_id == str(demand.id),
            col(AuditEvent.action).in_(list(HISTORY_LABELS)),
            audit.unsealed(),
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    entries = [_history_entry(event, name) for event, name in rows]
    if not entries or entries[0].what not in ("Raised", "Raised from a CSV file"):
        raiser = session.get(User, demand.created_by_id)
        entries.insert(0, HistoryEntry(as_utc(demand.created_at), "Raised",
                                       raiser.name if raiser else None))
    return entries


def _history_entry(event: AuditEvent, who: str | None) -> HistoryEntry:
    what = HISTORY_LABELS[event.action]
    if event.action == "demand.updated" and event.details:
        fields = ", ".join(name.replace("_", " ") for name in event.details)
        what = f"Changed: {fields}"
    return HistoryEntry(as_utc(event.at), what, who)
