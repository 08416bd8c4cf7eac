"""Factories for demand rounds: opened through the service, so every rule applies."""

from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.rounds import service
from lap_market.rounds.models import DemandRound
from lap_market.rounds.schemas import RoundCreate

TERM = (date(2027, 4, 1), date(2030, 3, 31))
CLOSES = datetime(2027, 1, 29, 17, 0, tzinfo=UTC)  # a Friday, in GMT


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/demand-rounds`` body (storage, 2027-30, closing 29 Jan 2027)."""
    body: dict[str, Any] = {
        "title": "Storage 2027 to 2030",
        "categories": ["storage"],
        "term_start": TERM[0].isoformat(),
        "term_end": TERM[1].isoformat(),
        "closes_at": CLOSES.isoformat(),
        "guidance": "Tell us the shelving you need from April 2027.",
    }
    body.update(overrides)
    return body


def demand_round(session: Session, officer: User, **overrides: Any) -> DemandRound:
    """An open round (flushed, not committed)."""
    return service.open_round(session, officer, data=RoundCreate.model_validate(payload(**overrides)))
