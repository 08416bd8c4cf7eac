"""Reading rounds: the list, and one round with its response grid (one row per invited
borough), totals per category and unit, and the returns excluded at the close."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.clock import as_utc, clock
from lap_market.demand.models import Demand, DemandStatus
from lap_market.modeling import pk
from lap_market.rounds import policy
from lap_market.rounds.models import (
    DemandRound,
    DemandRoundCategory,
    ReturnStatus,
    RoundExtension,
    RoundReturn,
    RoundStatus,
)
from lap_market.rounds.schemas import (
    CategoryTotal,
    ExtensionRead,
    PersonRef,
    ResponseRow,
    RoundRead,
    RoundSummary,
    UnitQuantity,
)
from lap_market.tenders.models import Tender

ZERO = Decimal("0.00")


@dataclass
class Tally:
    """Live lines of one borough in one category and unit."""

    lines: int = 0
    quantity: Decimal = ZERO


@dataclass
class Returns:
    """Every return of a round with its borough and its live lines, loaded in four queries."""

    rows: list[tuple[RoundReturn, Organisation]]
    tallies: dict[int, dict[tuple[str, str], Tally]] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)


def load_returns(session: Session, round_id: int, borough_id: int | None = None) -> Returns:
    query = (
        select(RoundReturn, Organisation)
        .join(Organisation, col(Organisation.id) == col(RoundReturn.borough_id))
        .where(RoundReturn.round_id == round_id)
        .order_by(col(Organisation.name))
    )
    if borough_id is not None:
        query = query.where(RoundReturn.borough_id == borough_id)
    loaded = Returns(rows=[(r, o) for r, o in session.exec(query).all()])
    lines = (
        sa.select(col(Demand.borough_id), col(Category.code), col(CategoryUnit.code),
                  func.count(), func.sum(col(Demand.quantity)))
        .join(CategoryUnit, col(CategoryUnit.id) == col(Demand.unit_id))
        .join(Category, col(Category.id) == col(Demand.category_id))
        .where(col(Demand.round_id) == round_id, col(Demand.status) != DemandStatus.WITHDRAWN)
        .group_by(col(Demand.borough_id), col(Category.code), col(CategoryUnit.code))
    )
    if borough_id is not None:
        lines = lines.where(col(Demand.borough_id) == borough_id)
    for borough, category, unit, count, total in session.execute(lines).all():
        loaded.tallies.setdefault(borough, {})[(category, unit)] = Tally(
            int(count), Decimal(str(total or 0)).quantize(ZERO))
    ids = {r.confirmed_by_id for r, _o in loaded.rows if r.confirmed_by_id}
    if ids:
        loaded.people = {int(i): name for i, name in session.exec(
            select(User.id, User.name).where(col(User.id).in_(ids))).all() if i is not None}
    return loaded


def response_row(loaded: Returns, answer: RoundReturn, borough: Organisation) -> ResponseRow:
    tallies = loaded.tallies.get(answer.borough_id, {})
    by = answer.confirmed_by_id
    return ResponseRow(
        borough_id=answer.borough_id, gss_code=borough.gss_code, name=borough.name,
        status=answer.status, lines=sum(t.lines for t in tallies.values()),
        quantities=[UnitQuantity(category=c, unit=u, quantity=t.quantity)
                    for (c, u), t in sorted(tallies.items())],
        confirmed_by=PersonRef(id=by, name=loaded.people.get(by, "")) if by else None,
        confirmed_at=as_utc(answer.confirmed_at) if answer.confirmed_at else None,
        budget_reference=answer.budget_reference, reminders=answer.reminders,
        last_reminded_at=as_utc(answer.last_reminded_at) if answer.last_reminded_at else None,
    )


def totals(loaded: Returns) -> list[CategoryTotal]:
    """Per category and unit: every live line, and the quantity of confirmed returns."""
    confirmed = {r.borough_id for r, _o in loaded.rows if r.status == ReturnStatus.CONFIRMED}
    merged: dict[tuple[str, str], CategoryTotal] = {}
    for borough, tallies in loaded.tallies.items():
        for key, tally in tallies.items():
            row = merged.setdefault(key, CategoryTotal(
                category=key[0], unit=key[1], lines=0, boroughs=0, quantity=ZERO,
                confirmed_quantity=ZERO))
            row.lines += tally.lines
            row.boroughs += 1
            row.quantity += tally.quantity
            if borough in confirmed:
                row.confirmed_quantity += tally.quantity
    return [merged[k] for k in sorted(merged)]


def _categories(session: Session, round_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if round_ids:
        rows = session.exec(
            select(DemandRoundCategory.round_id, Category.code)
            .join(Category, col(Category.id) == col(DemandRoundCategory.category_id))
            .where(col(DemandRoundCategory.round_id).in_(round_ids))
            .order_by(col(Category.id))
        ).all()
        for round_id, code in rows:
            found[round_id].append(code)
    return found


def summaries(session: Session, actor: User, rounds: list[DemandRound]) -> list[RoundSummary]:
    """The list view: counts of invited and answered boroughs (a borough: its own status)."""
    ids = [pk(r) for r in rounds]
    categories = _categories(session, ids)
    counts: dict[int, tuple[int, int]] = {}
    own: dict[int, str] = {}
    if ids:
        answered = func.sum(sa.case((col(RoundReturn.status).in_(
            [ReturnStatus.CONFIRMED, ReturnStatus.NIL_RETURN]), 1), else_=0))
        for round_id, invited, done in session.execute(
            sa.select(col(RoundReturn.round_id), func.count(), answered)
            .where(col(RoundReturn.round_id).in_(ids)).group_by(col(RoundReturn.round_id))
        ).all():
            counts[round_id] = (int(invited), int(done or 0))
        if policy.is_manager(actor):
            own = dict(session.exec(select(RoundReturn.round_id, RoundReturn.status).where(
                col(RoundReturn.round_id).in_(ids),
                RoundReturn.borough_id == actor.organisation_id)).all())
    now = clock.now()
    return [RoundSummary(
        id=pk(r), reference=r.reference, title=r.title,
        status=policy.effective_status(r, now), categories=categories.get(pk(r), []),
        term_start=r.term_start, term_end=r.term_end, closes_at=as_utc(r.closes_at),
        tender_id=r.tender_id, invited=counts.get(pk(r), (0, 0))[0],
        answered=None if policy.is_manager(actor) else counts.get(pk(r), (0, 0))[1],
        own_status=own.get(pk(r)),
    ) for r in rounds]


def round_read(session: Session, actor: User, round_: DemandRound) -> RoundRead:
    """One round: the grid for officers; for a borough, its own row and the overall totals."""
    round_id = pk(round_)
    summary = summaries(session, actor, [round_])[0]
    loaded = load_returns(session, round_id)
    rows = [response_row(loaded, r, o) for r, o in loaded.rows]
    status = policy.effective_status(round_, clock.now())
    closed = status in (RoundStatus.CLOSED, RoundStatus.TENDERED)
    excluded = [row for row in rows if closed and policy.awaiting(row.status)]
    if policy.is_manager(actor):
        rows = [row for row in rows if row.borough_id == actor.organisation_id]
        excluded = [row for row in excluded if row.borough_id == actor.organisation_id]
    tender = session.get(Tender, round_.tender_id) if round_.tender_id else None
    extensions = session.exec(select(RoundExtension).where(
        RoundExtension.round_id == round_id).order_by(col(RoundExtension.id))).all()
    return RoundRead(
        **summary.model_dump(), guidance=round_.guidance, created_at=as_utc(round_.created_at),
        closed_at=as_utc(round_.closed_at) if round_.closed_at else None,
        tender_reference=tender.reference if tender else None,
        extensions=[ExtensionRead(previous_closes_at=as_utc(e.previous_closes_at),
                                  closes_at=as_utc(e.closes_at), reason=e.reason,
                                  extended_at=as_utc(e.extended_at)) for e in extensions],
        responses=rows, totals=totals(loaded), excluded=excluded,
    )


def own_lines(session: Session, actor: User, round_id: int) -> list[Demand]:
    """The manager's borough's live lines in the round, oldest first."""
    return list(session.exec(
        select(Demand).where(Demand.round_id == round_id,
                             Demand.borough_id == actor.organisation_id,
                             col(Demand.status) != DemandStatus.WITHDRAWN)
        .order_by(col(Demand.id))
    ).all())


def rounds_for_tenders(session: Session, tender_ids: list[int]) -> dict[int, DemandRound]:
    """The round each tender was pooled from, by tender id (one query for many tenders)."""
    if not tender_ids:
        return {}
    found = session.exec(select(DemandRound).where(col(DemandRound.tender_id).in_(tender_ids)))
    return {r.tender_id: r for r in found.all() if r.tender_id is not None}


def origin(round_: DemandRound) -> str:
    """How a tender names the round it came from (its page and its OCDS release)."""
    return f"Pooled from demand round {round_.reference} “{round_.title}”."
