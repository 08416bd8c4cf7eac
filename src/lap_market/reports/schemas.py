"""API models for the savings report."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

from lap_market.money import Money


class GroupBy(StrEnum):
    BOROUGH = "borough"
    CATEGORY = "category"
    PROVIDER = "provider"


class Scope(StrEnum):
    """Whose contracts a report covers, which follows from the reader's role."""

    PARTNERSHIP = "partnership"  # officers: every contract
    BOROUGH = "borough"  # a borough manager: its borough's contracts
    PROVIDER = "provider"  # a provider: its own contracts, values only


# A percentage to one place, emitted as a string ("12.5") like money.
Percent = Annotated[
    Decimal, PlainSerializer(lambda v: f"{v:.1f}", return_type=str, when_used="json")
]


class SavingsFigures(BaseModel):
    """Contracted against standalone value. Saving fields are null in a provider's view."""

    contracts: int
    contracted_value: Money
    standalone_value: Money | None
    saving: Money | None
    saving_pct: Percent | None
    # Contracts with no catalogue reference rate: their standalone value is their own value.
    no_reference_rate: int | None


class SavingsRow(SavingsFigures):
    """One borough, category or provider."""

    key: str  # borough name, category code, or provider name
    name: str  # borough name, category name, or provider name
    id: int  # the organisation's or category's id
    gss_code: str | None = None  # boroughs only


class SavingsReport(BaseModel):
    group_by: GroupBy
    scope: Scope
    savings_visible: bool
    from_date: date | None
    to_date: date | None
    rows: list[SavingsRow]
    totals: SavingsFigures


class IncomeFigures(BaseModel):
    """What a borough earned selling to other members, what it spent, and the difference."""

    contracts_sold: int
    income: Money
    contracts_bought: int
    spend: Money
    net: Money  # income less spend: positive when the borough earns more than it spends


class IncomeRow(IncomeFigures):
    id: int
    name: str
    gss_code: str | None


class IncomeReport(BaseModel):
    group_by: str  # "borough"
    scope: Scope  # partnership (officers) or borough (its own row)
    from_date: date | None
    to_date: date | None
    rows: list[IncomeRow]
    totals: IncomeFigures
