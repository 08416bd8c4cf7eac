"""The income report: each borough's income from selling to other members, its spend, and
its net position.

A contract between two boroughs is one row: the buyer's spend and the seller's income, so
the partnership's spend counts it once and the savings report (which groups contracts by
buyer) never counts it twice. Sums are the database's; values are contracted values ex VAT.
"""

import csv
import io
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.accounts.policy import is_borough_manager, is_officer
from lap_market.clock import start_of_london_day
from lap_market.contracts.models import Contract
from lap_market.errors import Forbidden, Invalid
from lap_market.money import from_pence
from lap_market.reports.schemas import IncomeFigures, IncomeReport, IncomeRow, Scope

CSV_COLUMNS = ["borough", "gss_code", "contracts_sold", "income", "contracts_bought", "spend",
               "net"]


def income_scope(actor: User) -> Scope:
    """Officers see every borough; a borough manager its own borough's row."""
    if is_officer(actor):
        return Scope.PARTNERSHIP
    if is_borough_manager(actor):
        return Scope.BOROUGH
    raise Forbidden("The income report is for procurement officers and borough managers.")


def _issued_between(query: Any, from_date: date | None, to_date: date | None) -> Any:
    """Days are England's, as in the savings report."""
    if from_date is not None:
        query = query.where(col(Contract.issued_at) >= start_of_london_day(from_date))
    if to_date is not None:
        query = query.where(
            col(Contract.issued_at) < start_of_london_day(to_date + timedelta(days=1))
        )
    return query


def _sums(session: Session, side: Any, where: list[Any], from_date: date | None,
          to_date: date | None) -> dict[int, tuple[int, int]]:
    """(count, value in pence) of contracts per organisation on one side (buyer or seller)."""
    query = sa.select(side, func.count(), func.sum(Contract.value_pence)).where(*where)
    query = _issued_between(query.group_by(side), from_date, to_date)
    rows = session.execute(query).all()
    return {int(org): (int(n), int(v or 0)) for org, n, v in rows}


def income_report(
    session: Session, actor: User, *, group_by: str | None = "borough",
    from_date: date | None = None, to_date: date | None = None,
) -> IncomeReport:
    """Per borough: contracts sold to other members and their value (income), contracts
    bought and their value (spend), and income less spend, with totals."""
    scope = income_scope(actor)
    if (group_by or "borough") != "borough":
        raise Invalid("group_by must be borough.", field="group_by")
    if from_date is not None and to_date is not None and to_date < from_date:
        raise Invalid("to must be the same as or after from.", field="to")
    boroughs = select(Organisation.id).where(Organisation.kind == OrgKind.BOROUGH)
    if scope == Scope.BOROUGH:
        boroughs = boroughs.where(Organisation.id == actor.organisation_id)
    selling = [col(Contract.supplier_id).in_(boroughs),
               col(Contract.buyer_id) != col(Contract.supplier_id)]
    sold = _sums(session, Contract.supplier_id, selling, from_date, to_date)
    bought = _sums(session, Contract.buyer_id, [col(Contract.buyer_id).in_(boroughs)],
                   from_date, to_date)
    return _report(session, scope, sold, bought, from_date, to_date)


def _report(session: Session, scope: Scope, sold: dict[int, tuple[int, int]],
            bought: dict[int, tuple[int, int]], from_date: date | None,
            to_date: date | None) -> IncomeReport:
    ids = set(sold) | set(bought)
    orgs = {o.id: o for o in session.exec(
        select(Organisation).where(col(Organisation.id).in_(ids))).all()} if ids else {}
    rows = [
        IncomeRow(id=i, name=orgs[i].name, gss_code=orgs[i].gss_code,
                  **_figures(sold.get(i, (0, 0)), bought.get(i, (0, 0))))
        for i in ids
    ]
    # Net earners first, then by name.
    rows.sort(key=lambda r: (-r.net, r.name.casefold()))
    total_sold = (sum(n for n, _ in sold.values()), sum(v for _, v in sold.values()))
    total_bought = (sum(n for n, _ in bought.values()), sum(v for _, v in bought.values()))
    return IncomeReport(
        group_by="borough", scope=scope, from_date=from_date, to_date=to_date, rows=rows,
        totals=IncomeFigures(**_figures(total_sold, total_bought)),
    )


def _figures(sold: tuple[int, int], bought: tuple[int, int]) -> dict[str, Any]:
    return {
        "contracts_sold": sold[0], "income": from_pence(sold[1]),
        "contracts_bought": bought[0], "spend": from_pence(bought[1]),
        "net": from_pence(sold[1] - bought[1]),
    }


def income_csv(report: IncomeReport) -> str:
    """The report as CSV: a header row, one row per borough, then a totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([row.name, row.gss_code or "", *_csv_figures(row)])
    writer.writerow(["Total", "", *_csv_figures(report.totals)])
    return buffer.getvalue()


def _csv_figures(f: IncomeFigures) -> list[str]:
    return [str(f.contracts_sold), f"{f.income:.2f}", str(f.contracts_bought),
            f"{f.spend:.2f}", f"{f.net:.2f}"]
