"""What boroughs hear about a round: in-app notices to the borough and email to its managers
(as each manager chose for the ``demand_round`` kind)."""

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from lap_market.accounts.models import Role
from lap_market.clock import as_utc
from lap_market.modeling import pk
from lap_market.notifications import recipients as who
from lap_market.notifications.dispatch import send_many
from lap_market.notifications.kinds import Kind
from lap_market.notifications.messages import london_time, render
from lap_market.rounds.models import DemandRound
from lap_market.tenders import notifications as in_app


def _link(round_: DemandRound) -> str:
    return f"/rounds/{pk(round_)}"


def _tell(session: Session, round_: DemandRound, borough_ids: Iterable[int], *, template: str,
          message: str, key: str | None, **context: object) -> None:
    """One in-app notice per borough and one email per manager (once per ``key``)."""
    boroughs = sorted(set(borough_ids))
    if not boroughs:
        return
    in_app.notify(session, boroughs, tender_id=None, kind=Kind.DEMAND_ROUND, message=message)
    rendered = render(Kind.DEMAND_ROUND, _link(round_), template=template, round=round_,
                      **context)
    managers = who.people_by_org(session, boroughs, Role.BOROUGH_MANAGER)
    send_many(session, [(rendered, people, f"{key}:org:{org}" if key else "")
                        for org, people in managers.items()])


def round_opened(session: Session, round_: DemandRound, borough_ids: Iterable[int],
                 categories: list[str]) -> None:
    """Every invited borough: what is asked for, and by when."""
    _tell(session, round_, borough_ids, template="round_opened",
          key=f"round:{pk(round_)}:opened", categories=", ".join(categories),
          message=f"You are invited to demand round {round_.reference} “{round_.title}”: "
          f"confirm your return by {london_time(as_utc(round_.closes_at))}.")


def reminder(session: Session, round_: DemandRound, borough_ids: Iterable[int],
             key: str | None) -> None:
    """Boroughs that have not confirmed their return."""
    _tell(session, round_, borough_ids, template="round_reminder", key=key,
          message=f"Reminder: confirm your return to demand round {round_.reference} by "
          f"{london_time(as_utc(round_.closes_at))}.")


def extended(session: Session, round_: DemandRound, borough_ids: Iterable[int],
             previous: datetime, reason: str) -> None:
    """Every invited borough: the new close and why."""
    _tell(session, round_, borough_ids, template="round_extended",
          key=f"round:{pk(round_)}:extended:{as_utc(round_.closes_at).isoformat()}",
          previous=as_utc(previous), reason=reason,
          message=f"Demand round {round_.reference} now closes "
          f"{london_time(as_utc(round_.closes_at))}: {reason}")
