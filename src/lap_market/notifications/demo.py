"""Demo notifications: the scheduled messages the demo's dates make due (reminders,
standstill ended, contracts awaiting acceptance), and one person on a daily digest. The
event messages themselves come from the other domains' seeds, which run through the
services. Idempotent: each scheduled message is marked once sent."""

from sqlmodel import Session

from lap_market.demo import DemoContext
from lap_market.notifications import periodic, preferences
from lap_market.notifications.kinds import Kind, Mode
from lap_market.notifications.schemas import PreferenceIn


def seed(session: Session, ctx: DemoContext) -> None:
    """Run the scheduled scans once, and put Hackney's manager on a daily award digest."""
    hackney = ctx.users.get("hackney@lap.example")
    if hackney is not None:
        preferences.set_preferences(
            session, hackney, [PreferenceIn(kind=Kind.AWARD, mode=Mode.DAILY)]
        )
    periodic.send_standstill_ended(session)
    periodic.send_acceptance_reminders(session)
    periodic.send_deadline_reminders(session)
