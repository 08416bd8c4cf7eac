"""The savings report: what contracts cost against what each borough would have paid alone.

A contract's standalone value is snapshotted by the contracts service when it is issued: the
catalogue's best rate for the borough's own quantity on that date, over the contract's term.
Contracts without a reference rate have no snapshot; they count at their own value (so they
claim no saving) and are counted in ``no_reference_rate``.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, case, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.catalogue.models import Category
from lap_market.clock import start_of_london_day
from lap_market.contracts.models import Contract
from lap_market.csv_cells import safe_cell
from lap_market.errors import Invalid
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.reports.policy import report_scope
from lap_market.reports.schemas import GroupBy, SavingsFigures, SavingsReport, SavingsRow, Scope

ONE_PLACE = Decimal("0.1")
CSV_COLUMNS = [
    "key", "name", "gss_code", "contracts", "contracted_value", "standalone_value", "saving",
    "saving_pct", "no_reference_rate",
]
_KEY_COLUMNS: dict[GroupBy, Any] = {
    GroupBy.BOROUGH: Contract.buyer_id,
    GroupBy.CATEGORY: Contract.category_id,
    GroupBy.PROVIDER: Contract.supplier_id,
}


def parse_group_by(value: str | None) -> GroupBy:
    """``borough`` (the default), ``category`` or ``provider``; anything else is Invalid."""
    if value is None or value == "":
        return GroupBy.BOROUGH
    try:
        return GroupBy(value)
    except ValueError:
        allowed = ", ".join(g.value for g in GroupBy)
        raise Invalid(f"group_by must be one of {allowed}.", field="group_by") from None


def saving_pct(saving_pence: int, standalone_pence: int) -> Decimal | None:
    """Saving as a percentage of standalone value, half-up to one place; None when that is 0."""
    if standalone_pence == 0:
        return None
    return (Decimal(saving_pence) * 100 / Decimal(standalone_pence)).quantize(
        ONE_PLACE, rounding=ROUND_HALF_UP
    )


@dataclass
class _Sums:
    contracts: int = 0
    contracted_pence: int = 0
    standalone_pence: int = 0
    no_reference_rate: int = 0

    def add(self, other: "_Sums") -> None:
        self.contracts += other.contracts
        self.contracted_pence += other.contracted_pence
        self.standalone_pence += other.standalone_pence
        self.no_reference_rate += other.no_reference_rate

    def figures(self, *, savings_visible: bool) -> dict[str, Any]:
        if not savings_visible:
            return {
                "contracts": self.contracts,
                "contracted_value": from_pence(self.contracted_pence),
                "standalone_value": None, "saving": None, "saving_pct": None,
                "no_reference_rate": None,
            }
        saving = self.standalone_pence - self.contracted_pence
        return {
            "contracts": self.contracts,
            "contracted_value": from_pence(self.contracted_pence),
            "standalone_value": from_pence(self.standalone_pence),
            "saving": from_pence(saving),
            "saving_pct": saving_pct(saving, self.standalone_pence),
            "no_reference_rate": self.no_reference_rate,
        }


def savings_report(
    session: Session,
    actor: User,
    *,
    group_by: str | GroupBy | None = GroupBy.BOROUGH,
    from_date: date | None = None,
    to_date: date | None = None,
) -> SavingsReport:
    """Contracted and standalone value and the saving, per borough, category or provider.

    ``from_date`` and ``to_date`` (both inclusive) filter on the day a contract was issued
    (in England). Rows are sorted by saving, largest first; in a provider's view, which has no
    savings, by contracted value.
    """
    scope = report_scope(actor)
    grouping = parse_group_by(group_by)
    problem = range_problem(from_date, to_date)
    if problem is not None:
        raise problem
    savings_visible = scope != Scope.PROVIDER
    sums = _sums(session, actor, scope, grouping, from_date, to_date)
    labels = _labels(session, grouping, list(sums))
    rows: list[SavingsRow] = []
    total = _Sums()
    for key_id, group in sums.items():
        total.add(group)
        key, name, gss_code = labels[key_id]
        rows.append(SavingsRow(
            key=key, name=name, id=key_id, gss_code=gss_code,
            **group.figures(savings_visible=savings_visible),
        ))
    if savings_visible:
        rows.sort(key=lambda r: (-(r.saving or 0), r.key.casefold()))
    else:
        rows.sort(key=lambda r: (-r.contracted_value, r.key.casefold()))
    return SavingsReport(
        group_by=grouping, scope=scope, savings_visible=savings_visible,
        from_date=from_date, to_date=to_date, rows=rows,
        totals=SavingsFigures(**total.figures(savings_visible=savings_visible)),
    )


def range_problem(from_date: date | None, to_date: date | None) -> Invalid | None:
    """Why the date range cannot be reported (it ends before it starts), or None."""
    if from_date is not None and to_date is not None and to_date < from_date:
        return Invalid("to must be the same as or after from.", field="to")
    return None


def _sums(
    session: Session, actor: User, scope: Scope, grouping: GroupBy,
    from_date: date | None, to_date: date | None,
) -> dict[int, _Sums]:
    """The database's totals per group, over the contracts ``scope`` lets the actor see."""
    key_column = _KEY_COLUMNS[grouping]
    query = sa.select(
        key_column,
        func.count(),
        func.sum(Contract.value_pence),
        func.sum(func.coalesce(Contract.standalone_value_pence, Contract.value_pence)),
        func.sum(case((col(Contract.standalone_value_pence).is_(None), 1), else_=0)),
    ).group_by(key_column)
    if scope == Scope.BOROUGH:
        query = query.where(col(Contract.buyer_id) == actor.organisation_id)
    elif scope == Scope.PROVIDER:
        query = query.where(col(Contract.supplier_id) == actor.organisation_id)
    if from_date is not None:
        query = query.where(col(Contract.issued_at) >= _start_of(from_date))
    if to_date is not None:
        query = query.where(col(Contract.issued_at) < _start_of(to_date + timedelta(days=1)))
    return {
        int(key): _Sums(int(count), int(value or 0), int(standalone or 0), int(missing or 0))
        for key, count, value, standalone, missing in session.execute(query).all()
    }


def _start_of(day: date) -> datetime:
    """A report's days are England's: 14 July starts at 23:00 UTC on 13 July in summer."""
    return start_of_london_day(day)


def _labels(
    session: Session, grouping: GroupBy, ids: list[int]
) -> dict[int, tuple[str, str, str | None]]:
    """(key, name, gss_code) for each borough, category or provider id."""
    if not ids:
        return {}
    if grouping == GroupBy.CATEGORY:
        categories = session.exec(select(Category).where(col(Category.id).in_(ids))).all()
        return {pk(c): (c.code, c.name, None) for c in categories}
    organisations = session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    return {
        pk(o): (o.name, o.name, o.gss_code if grouping == GroupBy.BOROUGH else None)
        for o in organisations
    }


def csv_filename(report: SavingsReport) -> str:
    """``savings-by-borough.csv`` and so on."""
    return f"savings-by-{report.group_by.value}.csv"


def savings_csv(report: SavingsReport) -> str:
    """The report as CSV: a header row, one row per group, then a totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([
            safe_cell(row.key), safe_cell(row.name), row.gss_code or "", *_csv_figures(row),
        ])
    writer.writerow(["Total", "", "", *_csv_figures(report.totals)])
    return buffer.getvalue()


def _csv_figures(figures: SavingsFigures) -> list[str]:
    def text(value: Decimal | int | None, places: int = 2) -> str:
        if value is None:
            return ""
        if isinstance(value, int):
            return str(value)
        return f"{value:.{places}f}"

    return [
        str(figures.contracts),
        text(figures.contracted_value),
        text(figures.standalone_value),
        text(figures.saving),
        text(figures.saving_pct, 1),
        text(figures.no_reference_rate),
    ]


