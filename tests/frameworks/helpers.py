"""A framework tender with four scored bids on one lot, awarded through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.tenders.models import Bid, Lot, Tender
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import tenders as tf

START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
TERM = (date(2027, 4, 1), date(2028, 3, 31))
# (price, quality): ranked by 60/40 totals — A 96.00, B 86.55, C 79.09, D 76.00
BIDS = (("A", "9.50", "90"), ("B", "10.00", "80"), ("C", "11.00", "75"), ("D", "12.00", "80"))


@dataclass
class Setup:
    tender: Tender
    lot: Lot
    officer: User
    providers: dict[str, User]
    bids: dict[str, Bid]

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/tenders/{self.tender.id}/lots/{self.lot.id}{suffix}"


def framework_tender(session: Session, *, end: date = date(2029, 9, 30)) -> Setup:
    clock.set(START)
    officer = acc.officer(session)
    tender = tf.published_tender(
        session, officer,
        lots=[{"category": "storage", "unit": "linear_metre_year",
               "demands": [("E09000007", Decimal("120"), *TERM)]}])
    tender.procedure = "framework"
    tender.framework_end = end
    session.add(tender)
    lot = tf.lots_of(session, tender)[0]
    providers, bids = {}, {}
    for name, price, quality in BIDS:
        provider = acc.provider(session, acc.contractor(session, f"Supplier {name} Ltd"))
        providers[name] = provider
        bids[name] = tf.bid(session, provider, lot, unit_price=price, quality_score=quality)
    clock.set(START + timedelta(days=15))  # past the submission deadline
    tf.declaration(session, officer, tender)  # no conflict: the officer may award (issue 17)
    session.commit()
    return Setup(tender, lot, officer, providers, bids)


def award(client: Any, app: Any, setup: Setup, names: str = "ABC",
          reason: str | None = None) -> Any:
    body: dict[str, Any] = {"bid_ids": [setup.bids[n].public_id for n in names]}
    if reason:
        body["reason"] = reason
    return client.post(setup.url("/award"), json=body, headers=auth(app, setup.officer))


def after_standstill(standstill_ends: str) -> None:
    day = date.fromisoformat(standstill_ends) + timedelta(days=1)
    clock.set(datetime.combine(day, time(9), UTC))
