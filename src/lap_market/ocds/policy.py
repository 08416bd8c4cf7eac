"""What open data may show: which tenders appear, and when bidders may be named."""

from datetime import datetime

from lap_market.clock import as_utc
from lap_market.tenders.models import Tender


def is_public(tender: Tender) -> bool:
    """Only tenders that were published appear (a draft, even a cancelled one, never does)."""
    return tender.published_at is not None


def closed_at(tender: Tender, now: datetime) -> datetime | None:
    """When bidding closed, if it has: the deadline passed before any cancellation.

    Until then who bid is sealed, so tenderers are named only from this moment."""
    if tender.published_at is None or tender.submission_deadline is None:
        return None
    deadline = as_utc(tender.submission_deadline)
    if deadline > now:
        return None
    if tender.cancelled_at is not None and as_utc(tender.cancelled_at) < deadline:
        return None
    return deadline
