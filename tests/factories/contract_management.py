"""Factories for contract management: active contracts with round figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.contracts.acceptance import accept_contract
from lap_market.contracts.models import Contract
from tests.factories import accounts
from tests.factories import contracts as contract_factories


@dataclass
class Active:
    contract: Contract
    buyer: User
    supplier: User
    officer: User
    other_buyer: User


def active_contracts(
    session: Session, demands: tuple[tuple[str, str], ...] = (("E09000007", "1000"),),
    *, rate: str = "10.00",
) -> list[Active]:
    """One call-off per (gss_code, hours) of conservation at ``rate`` an hour, 1 April 2027
    to 31 March 2028, each accepted by both parties; the clock is set to 3 May 2027.
    Flushed, not committed."""
    awarded = contract_factories.awarded_lot(
        session, demands=demands, unit_price=rate, category="conservation", unit="hour",
    )
    contracts = contract_factories.issued_call_offs(session, awarded)
    made = []
    for gss_code, _hours in demands:
        buyer = accounts.manager(session, gss_code)
        contract = next(c for c in contracts if c.buyer_id == buyer.organisation_id)
        accept_contract(session, buyer, contract.id)  # type: ignore[arg-type]
        accept_contract(session, awarded.provider, contract.id)  # type: ignore[arg-type]
        made.append((contract, buyer))
    other = accounts.manager(session, "E09000001")  # City of London: no contract here
    session.flush()
    clock.set(datetime(2027, 5, 3, 9, 0, tzinfo=UTC))
    result = []
    for contract, buyer in made:
        session.refresh(contract)
        result.append(Active(contract=contract, buyer=buyer, supplier=awarded.provider,
                             officer=awarded.officer, other_buyer=other))
    return result


def active_contract(session: Session, *, hours: str = "1000", rate: str = "10.00") -> Active:
    """Camden's call-off for ``hours`` of conservation at ``rate`` (£10,000.00 by default)."""
    return active_contracts(session, (("E09000007", hours),), rate=rate)[0]
