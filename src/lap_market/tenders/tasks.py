"""Tenders' scheduled work."""

from datetime import timedelta

from sqlmodel import Session, col, select

from lap_market import jobs
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.tenders.models import Tender, TenderStatus
from lap_market.tenders.service import persist_closed


# Reads already show a tender closed from its deadline; storing it (and auditing
# "tender.closed") at the deadline lets lists, reports and notifications rely on the column.
@jobs.periodic("tenders.close_due", every=timedelta(minutes=1))
def close_due_tenders(session: Session, _settings: Settings) -> None:
    """Store ``closed`` on every published tender whose submission deadline has passed."""
    due = session.exec(
        select(Tender).where(
            Tender.status == TenderStatus.PUBLISHED,
            col(Tender.submission_deadline) <= clock.now(),
        ).order_by(col(Tender.id))
    ).all()
    for tender in due:
        persist_closed(session, tender)
