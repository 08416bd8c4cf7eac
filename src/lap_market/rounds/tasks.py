"""Rounds' scheduled work: closing at ``closes_at`` and the automatic reminders 5 working
days and 1 working day before the close."""

from datetime import date, timedelta

from sqlmodel import Session, col, select

from lap_market import jobs
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock, london_date
from lap_market.config import Settings
from lap_market.modeling import pk
from lap_market.notifications.dispatch import claim
from lap_market.notifications.periodic import working_days_before
from lap_market.rounds import notices
from lap_market.rounds.models import DemandRound, RoundStatus
from lap_market.rounds.service import awaited_borough_ids, persist_closed, record_reminders

REMINDER_DAYS = (1, 5)  # nearest first: when both fall due at once, only it is sent


@jobs.periodic("rounds.close_due", every=timedelta(minutes=1))
def close_due_rounds(session: Session, _settings: Settings) -> None:
    """Store ``closed`` (audited) on every open round whose close has passed."""
    due = session.exec(
        select(DemandRound).where(DemandRound.status == RoundStatus.OPEN,
                                  col(DemandRound.closes_at) <= clock.now())
        .order_by(col(DemandRound.id))
    ).all()
    for round_ in due:
        persist_closed(session, round_)


def due_reminders(round_: DemandRound, today: date) -> list[int]:
    """Which reminders (working days before the close) are due today, nearest first.

    One whose day had already come when the close was set (opening or extension) is skipped:
    the boroughs had just been told."""
    close_day = london_date(as_utc(round_.closes_at))
    set_day = london_date(as_utc(round_.closes_set_at))
    return [n for n in REMINDER_DAYS
            if set_day < working_days_before(close_day, n) <= today]


@jobs.periodic("rounds.remind_due", every=timedelta(minutes=15))
def send_due_reminders(session: Session, _settings: Settings) -> None:
    """Remind boroughs that have not confirmed, once per reminder day and close."""
    now, today = clock.now(), clock.today()
    rounds = session.exec(
        select(DemandRound).where(DemandRound.status == RoundStatus.OPEN,
                                  col(DemandRound.closes_at) > now)
        .order_by(col(DemandRound.id))
    ).all()
    for round_ in rounds:
        sent = False
        for days in due_reminders(round_, today):
            key = f"round:{pk(round_)}:auto{days}:{as_utc(round_.closes_at).isoformat()}"
            if not claim(session, key) or sent:
                continue
            _remind(session, round_, days, key)
            sent = True


def _remind(session: Session, round_: DemandRound, days: int, key: str) -> None:
    boroughs = awaited_borough_ids(session, pk(round_))
    record_reminders(session, pk(round_), boroughs)
    notices.reminder(session, round_, boroughs, key=key)
    audit.record(session, None, action="round.reminded", object_type="demand_round",
                 object_id=round_.id, details={"reference": round_.reference, "automatic": True,
                                               "working_days_before": days,
                                               "boroughs": len(boroughs)})
