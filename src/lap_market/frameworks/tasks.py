"""Frameworks' scheduled work: cascade offers that lapse, competitions that drew no bid."""

from datetime import timedelta

from sqlmodel import Session

from lap_market import jobs
from lap_market.config import Settings
from lap_market.frameworks import cascade, competition


@jobs.periodic("frameworks.lapse_offers", every=timedelta(minutes=1))
def lapse_offers(session: Session, settings: Settings) -> None:
    """Expire offers past their time and pass each call-off to the next member."""
    cascade.lapse_due(session, settings)
    competition.close_empty(session)
