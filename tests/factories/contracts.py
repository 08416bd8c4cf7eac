"""Factories for contracts: an awarded lot ready for call-offs, and issued contracts.

Built on the tenders and catalogue factories (rows written directly); contracts themselves
are made through the real contracts service so their PDFs and SHA-256 are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.contracts import call_offs
from lap_market.contracts.models import Contract
from lap_market.tenders.models import Award, Lot, Tender
from tests.factories import accounts
from tests.factories import tenders as tender_factories

TERM = (date(2027, 4, 1), date(2028, 3, 31))
AWARDED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@dataclass
class AwardedLot:
    tender: Tender
    lot: Lot
    award: Award
    officer: User
    provider: User

    def after_standstill(self) -> None:
        """Move the clock to the morning after the standstill ends."""
        clock.set(datetime.combine(self.award.standstill_ends + timedelta(days=1), time(9), UTC))


def awarded_lot(
    session: Session,
    *,
    demands: Sequence[tuple[str, str]] = (("E09000007", "120"), ("E09000012", "80")),
    unit_price: str = "9.50",
    category: str = "storage",
    unit: str = "linear_metre_year",
    term: tuple[date, date] = TERM,
    officer: User | None = None,
    provider: User | None = None,
    awarded_at: datetime = AWARDED_AT,
) -> AwardedLot:
    """A published tender with one lot of borough ``demands`` (gss_code, quantity), a bid by
    ``provider`` at ``unit_price`` and its award in standstill; the clock is set to the award.
    Flushed, not committed."""
    clock.set(awarded_at - timedelta(days=20))
    officer = officer or accounts.officer(session)
    provider = provider or accounts.provider(session)
    tender = tender_factories.published_tender(
        session, officer,
        lots=[{"category": category, "unit": unit,
               "demands": [(gss, Decimal(q), *term) for gss, q in demands]}],
    )
    lot = tender_factories.lots_of(session, tender)[0]
    bid = tender_factories.bid(session, provider, lot, unit_price=Decimal(unit_price),
                               quality_score="80")
    clock.set(awarded_at)
    award = tender_factories.award(session, officer, bid, awarded_at=awarded_at)
    session.refresh(lot)
    session.refresh(tender)
    return AwardedLot(tender=tender, lot=lot, award=award, officer=officer, provider=provider)


def issued_call_offs(session: Session, awarded: AwardedLot) -> list[Contract]:
    """Issue the lot's call-offs through the service after its standstill (flushed)."""
    awarded.after_standstill()
    result = call_offs.issue_call_offs(
        session, awarded.officer, tender_id=awarded.tender.id,  # type: ignore[arg-type]
        lot_id=awarded.lot.id,  # type: ignore[arg-type]
    )
    return result.contracts
