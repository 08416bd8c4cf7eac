"""Factories for demand: raised through the service, so every rule and audit event applies."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.demand import service
from lap_market.demand.models import Demand
from lap_market.demand.schemas import DemandCreate

TERM = (date(2027, 4, 1), date(2030, 3, 31))


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/demands`` body (storage, 120 linear metres, 2027-30)."""
    body: dict[str, Any] = {
        "category": "storage",
        "unit": "linear_metre_year",
        "quantity": "120",
        "start_date": TERM[0].isoformat(),
        "end_date": TERM[1].isoformat(),
        "needed_by": "2027-03-01",
        "specification": "Archive storage at 16–19 °C, 45–60 % RH, with weekly retrievals.",
        "budget_ceiling": "50000.00",
    }
    body.update(overrides)
    return body


def demand(
    session: Session,
    manager: User,
    *,
    category: str = "storage",
    unit: str = "linear_metre_year",
    quantity: Decimal | str | int = "120",
    start_date: date = TERM[0],
    end_date: date = TERM[1],
    needed_by: date | None = None,
    specification: str = "",
    budget_ceiling: Decimal | str | None = None,
) -> Demand:
    """A ``submitted`` demand of the manager's borough (flushed, not committed)."""
    data = DemandCreate(
        category=category,
        unit=unit,
        quantity=Decimal(str(quantity)),
        start_date=start_date,
        end_date=end_date,
        needed_by=needed_by,
        specification=specification,
        budget_ceiling=Decimal(str(budget_ceiling)) if budget_ceiling is not None else None,
    )
    return service.create_demand(session, manager, data=data)


def csv_text(rows: list[list[str]], header: str | None = None) -> str:
    """A demand CSV: the standard header (or ``header``) and ``rows``."""
    head = header or (
        "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling"
    )
    return "\n".join([head, *(",".join(r) for r in rows)]) + "\n"
