"""Scheduled notification work, run by the job workers (``lap_market.jobs``)."""

from datetime import timedelta

from sqlmodel import Session

from lap_market.config import Settings
from lap_market.jobs import periodic
from lap_market.notifications import periodic as scans

# Every quarter of an hour: a reminder or digest goes out within 15 minutes of being due,
# and each scan is cheap (it reads only open tenders, running awards, issued contracts).
EVERY = timedelta(minutes=15)


@periodic("notifications.deadline_reminders", every=EVERY)
def deadline_reminders(session: Session, settings: Settings) -> None:
    """3 and 1 working days before a submission deadline, to providers who have not bid."""
    scans.send_deadline_reminders(session)


@periodic("notifications.standstill_ended", every=EVERY)
def standstill_ended(session: Session, settings: Settings) -> None:
    """Officers, when an award's standstill is over and its call-offs can be issued."""
    scans.send_standstill_ended(session)


@periodic("notifications.acceptance_outstanding", every=EVERY)
def acceptance_outstanding(session: Session, settings: Settings) -> None:
    """The party that has not accepted a contract after 5 working days."""
    scans.send_acceptance_reminders(session)


@periodic("notifications.daily_digest", every=EVERY)
def daily_digest(session: Session, settings: Settings) -> None:
    """Each person's daily digest, from 07:00 London time."""
    scans.send_daily_digests(session)
