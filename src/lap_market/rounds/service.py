"""Opening a demand round, finding and listing rounds, reminding, extending and closing.

A borough's own answers are in ``returns``; the response grid in ``grid``; what joining
is worth in ``estimate``; pooling into a tender in ``tendering``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.audit import service as audit
from lap_market.catalogue.models import Category
from lap_market.clock import as_utc, clock
from lap_market.demand import service as demand_service
from lap_market.demand.models import Demand
from lap_market.errors import Invalid, NotFound
from lap_market.modeling import insert_numbered, pk, rowcount
from lap_market.rounds import notices, policy
from lap_market.rounds.models import (
    DemandRound,
    DemandRoundCategory,
    RoundExtension,
    RoundReturn,
    RoundStatus,
)
from lap_market.rounds.returns import invitation
from lap_market.rounds.schemas import RoundCreate, RoundExtend

# --- reading -------------------------------------------------------------------------------


def get_round(session: Session, actor: User, round_id: int) -> DemandRound:
    """A round the actor may read: any for officers, an invited borough's for its managers
    (404 otherwise, so a borough cannot tell another's rounds exist); 403 for providers."""
    policy.require_reader(actor)
    round_ = session.get(DemandRound, round_id)
    if round_ is None or (
        policy.is_manager(actor) and invitation(session, round_id, actor.organisation_id) is None
    ):
        raise NotFound("Demand round not found.")
    return round_


def list_rounds(session: Session, actor: User) -> list[DemandRound]:
    """Rounds the actor may read, newest first."""
    policy.require_reader(actor)
    query = select(DemandRound)
    if policy.is_manager(actor):
        query = query.join(RoundReturn, col(RoundReturn.round_id) == col(DemandRound.id)).where(
            RoundReturn.borough_id == actor.organisation_id
        )
    return list(session.exec(query.order_by(col(DemandRound.id).desc())).all())


# --- opening -------------------------------------------------------------------------------


def _category_ids(session: Session, codes: list[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(codes))
    known = {code: i for code, i in session.exec(select(Category.code, Category.id)).all()
             if i is not None}
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise Invalid(f"Categories: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                      f"not a service category; use {', '.join(known)}.", field="categories")
    return {code: known[code] for code in wanted}


def _borough_ids(session: Session, wanted: list[int] | None) -> list[int]:
    boroughs = {
        int(i) for i in session.exec(
            select(Organisation.id).where(Organisation.kind == OrgKind.BOROUGH)
        ).all() if i is not None
    }
    if wanted is None:
        return sorted(boroughs)
    bad = [i for i in dict.fromkeys(wanted) if i not in boroughs]
    if bad:
        raise Invalid(f"Borough ids: {', '.join(map(str, bad))} "
                      f"{'is' if len(bad) == 1 else 'are'} not a borough.", field="borough_ids")
    return sorted(set(wanted))


def _check_dates(data: RoundCreate, now: datetime) -> datetime:
    closes_at = as_utc(data.closes_at)
    if data.term_end < data.term_start:
        raise Invalid("Term end must be on or after the term start.", field="term_end")
    if closes_at <= now:
        raise Invalid("Closes at must be in the future.", field="closes_at")
    return closes_at


def _new_round(session: Session, actor: User, data: RoundCreate,
               closes_at: datetime) -> DemandRound:
    """The round with the year's next reference; a clash on (year, sequence) is retried."""

    def build(year: int, sequence: int) -> DemandRound:
        now = clock.now()
        return DemandRound(
            reference=f"RND-{year}-{sequence:03d}", year=year, sequence=sequence,
            title=data.title, guidance=data.guidance, term_start=data.term_start,
            term_end=data.term_end, closes_at=closes_at, closes_set_at=now,
            status=RoundStatus.OPEN, created_by_id=pk(actor), created_at=now,
            updated_at=now,
        )

    return insert_numbered(session, DemandRound, build, what="round")


def open_round(session: Session, actor: User, *, data: RoundCreate) -> DemandRound:
    """Open a call for demand and invite the boroughs (all unless named); they are told."""
    policy.require_officer(actor)
    closes_at = _check_dates(data, clock.now())
    categories = _category_ids(session, data.categories)
    boroughs = _borough_ids(session, data.borough_ids)
    round_ = _new_round(session, actor, data, closes_at)
    round_id, now = pk(round_), clock.now()
    session.execute(sa.insert(DemandRoundCategory), [
        {"round_id": round_id, "category_id": c} for c in categories.values()])
    session.execute(sa.insert(RoundReturn), [
        {"round_id": round_id, "borough_id": b, "status": "not_responded", "reminders": 0,
         "updated_at": now} for b in boroughs])
    audit.record(session, actor, action="round.opened", object_type="demand_round",
                 object_id=round_id, details={
                     "reference": round_.reference, "title": round_.title,
                     "categories": list(categories), "term_start": round_.term_start,
                     "term_end": round_.term_end, "closes_at": closes_at,
                     "boroughs": len(boroughs)})
    notices.round_opened(session, round_, boroughs, list(categories))
    return round_


# --- reminding, extending, closing -----------------------------------------------------------


def awaited_borough_ids(session: Session, round_id: int) -> list[int]:
    """Invited boroughs whose return is neither confirmed nor nil."""
    return [int(b) for b in session.exec(
        select(RoundReturn.borough_id).where(
            RoundReturn.round_id == round_id,
            col(RoundReturn.status).in_(["not_responded", "in_progress"]),
        ).order_by(col(RoundReturn.borough_id))
    ).all()]


def record_reminders(session: Session, round_id: int, borough_ids: list[int]) -> None:
    if borough_ids:
        session.execute(
            sa.update(RoundReturn)
            .where(col(RoundReturn.round_id) == round_id,
                   col(RoundReturn.borough_id).in_(borough_ids))
            .values(reminders=col(RoundReturn.reminders) + 1, last_reminded_at=clock.now())
            .execution_options(synchronize_session=False)
        )


def remind(session: Session, actor: User, round_id: int) -> list[Organisation]:
    """Remind every invited borough that has not confirmed: one message each, recorded."""
    policy.require_officer(actor)
    round_ = get_round(session, actor, round_id)
    policy.require_open(round_, clock.now())
    boroughs = awaited_borough_ids(session, round_id)
    record_reminders(session, round_id, boroughs)
    notices.reminder(session, round_, boroughs, key=None)
    orgs = _organisations(session, boroughs)
    audit.record(session, actor, action="round.reminded", object_type="demand_round",
                 object_id=round_id, details={"reference": round_.reference, "automatic": False,
                                              "boroughs": [o.gss_code for o in orgs]})
    return orgs


def _organisations(session: Session, ids: list[int]) -> list[Organisation]:
    if not ids:
        return []
    return list(session.exec(
        select(Organisation).where(col(Organisation.id).in_(ids)).order_by(col(Organisation.name))
    ).all())


def extend(session: Session, actor: User, round_id: int, *, data: RoundExtend) -> DemandRound:
    """Move the close later, with a reason; every invited borough is told."""
    policy.require_officer(actor)
    round_ = get_round(session, actor, round_id)
    now = clock.now()
    new_close, previous = as_utc(data.closes_at), as_utc(round_.closes_at)
    if new_close <= now or new_close <= previous:
        raise Invalid("Closes at must be in the future and later than the current close "
                      f"({previous:%Y-%m-%d %H:%M} UTC).", field="closes_at")
    result = session.execute(
        sa.update(DemandRound)
        .where(col(DemandRound.id) == round_id, col(DemandRound.status) == RoundStatus.OPEN,
               col(DemandRound.closes_at) > now)
        .values(closes_at=new_close, closes_set_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise policy.closed_conflict(round_)
    session.refresh(round_)
    session.add(RoundExtension(round_id=round_id, previous_closes_at=previous, closes_at=new_close,
                               reason=data.reason, extended_by_id=pk(actor), extended_at=now))
    audit.record(session, actor, action="round.extended", object_type="demand_round",
                 object_id=round_id, details={"reference": round_.reference, "from": previous,
                                              "to": new_close, "reason": data.reason})
    invited = session.exec(select(RoundReturn.borough_id).where(RoundReturn.round_id == round_id))
    notices.extended(session, round_, list(invited.all()), previous, data.reason)
    return round_


def persist_closed(session: Session, round_: DemandRound) -> bool:
    """Store ``closed`` once the close has passed (reads derive it already); audited once."""
    now = clock.now()
    result = session.execute(
        sa.update(DemandRound)
        .where(col(DemandRound.id) == round_.id, col(DemandRound.status) == RoundStatus.OPEN,
               col(DemandRound.closes_at) <= now)
        .values(status=RoundStatus.CLOSED, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(round_)
    if rowcount(result) != 1:
        return False
    excluded = awaited_borough_ids(session, pk(round_))
    audit.record(session, None, action="round.closed", object_type="demand_round",
                 object_id=round_.id, details={"reference": round_.reference,
                                               "closes_at": round_.closes_at,
                                               "unconfirmed_boroughs": len(excluded)})
    return True


def withdraw_line(session: Session, actor: User, round_id: int, demand_id: int) -> Demand:
    """Withdraw one of the borough's lines of this round (404 for a line of anything else)."""
    line = demand_service.get_demand(session, actor, demand_id)
    if line.round_id != round_id:
        raise NotFound("That line is not part of this round's return.", field="demand_id")
    return demand_service.withdraw_demand(session, actor, demand_id)

