"""The payments report (how promptly boroughs pay) and the contract register.

Both are computed by the database: one grouped query each, whatever the number of invoices.
"""

import csv
import io
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.clock import clock
from lap_market.contract_management import policy
from lap_market.contract_management.models import (
    ChangeStatus,
    ContractChange,
    Invoice,
    InvoiceStatus,
)
from lap_market.contract_management.schemas import PaymentRow, PaymentsReport
from lap_market.contracts.models import Contract
from lap_market.errors import Invalid
from lap_market.money import from_pence
from lap_market.reports.service import safe_cell

ONE_PLACE = Decimal("0.1")
PAYMENT_COLUMNS = [
    "key",
    "name",
    "invoices_paid",
    "paid",
    "paid_within_30_days",
    "paid_within_30_days_pct",
    "average_days_to_pay",
    "overdue_now",
    "overdue_amount",
]
REGISTER_COLUMNS = [
    "reference",
    "kind",
    "buyer",
    "supplier",
    "status",
    "start_date",
    "end_date",
    "original_value",
    "value",
    "changes_in_effect",
    "invoiced",
    "paid",
    "terminated_on",
]


def _scope(query: Any, actor: User, buyer_col: Any, supplier_col: Any) -> Any:
    """Officers see every row; a borough its own as buyer; a provider its own as supplier."""
    return policy.scoped(
        query, actor, buyer=buyer_col, supplier=supplier_col,
        refusal="Reports are for boroughs, providers and procurement officers.",
    )


def payments_report(session: Session, actor: User, *, group_by: str) -> PaymentsReport:
    """Per borough (or provider): invoices paid, the share paid within 30 days, the average
    days to pay, and what is overdue now."""
    if group_by not in ("borough", "provider"):
        raise Invalid("Group by borough or provider.", field="group_by")
    key = col(Invoice.buyer_id) if group_by == "borough" else col(Invoice.supplier_id)
    today = clock.today()
    paid = col(Invoice.status) == InvoiceStatus.PAID
    overdue = sa.and_(col(Invoice.status).in_(policy.OWED), col(Invoice.due_on) < today)
    total = col(Invoice.amount_pence) + col(Invoice.vat_pence)

    def count_if(condition: Any) -> Any:
        return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)

    def sum_if(condition: Any) -> Any:
        return func.coalesce(func.sum(sa.case((condition, total), else_=0)), 0)

    query = sa.select(
        key,
        count_if(paid),
        sum_if(paid),
        count_if(sa.and_(paid, col(Invoice.paid_on) <= col(Invoice.due_on))),
        func.coalesce(func.sum(sa.case((paid, col(Invoice.days_to_pay)), else_=0)), 0),
        count_if(overdue),
        sum_if(overdue),
    ).group_by(key)
    query = _scope(query, actor, col(Invoice.buyer_id), col(Invoice.supplier_id))
    result = session.execute(query).all()
    keys = [int(row[0]) for row in result]
    figures = [tuple(int(v) for v in row[1:]) for row in result]
    names = (
        dict(
            session.execute(
                sa.select(col(Organisation.id), col(Organisation.name)).where(
                    col(Organisation.id).in_(keys)
                )
            ).all()
        )
        if keys
        else {}
    )
    rows = sorted(
        (_row(k, str(names.get(k, "")), f) for k, f in zip(keys, figures, strict=True)),
        key=lambda r: r.name,
    )
    totals = tuple(sum(f[i] for f in figures) for i in range(6))
    return PaymentsReport(
        group_by=group_by,
        as_of=today,
        rows=rows,
        totals=_row(0, "Total", totals if figures else (0,) * 6),
    )


def _row(key: int, name: str, f: tuple[int, ...]) -> PaymentRow:
    count, paid, within, days, overdue, overdue_amount = f
    return PaymentRow(
        key=key,
        name=name,
        invoices_paid=count,
        paid=from_pence(paid),
        paid_within_30_days=within,
        paid_within_30_days_pct=(Decimal(within * 100) / count).quantize(ONE_PLACE)
        if count
        else None,
        average_days_to_pay=(Decimal(days) / count).quantize(ONE_PLACE) if count else None,
        overdue_now=overdue,
        overdue_amount=from_pence(overdue_amount),
    )


def payments_csv(report: PaymentsReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PAYMENT_COLUMNS)
    for row in [*report.rows, report.totals]:
        writer.writerow(
            [
                row.key or "",
                safe_cell(row.name),
                row.invoices_paid,
                f"{row.paid:.2f}",
                row.paid_within_30_days,
                _text(row.paid_within_30_days_pct),
                _text(row.average_days_to_pay),
                row.overdue_now,
                f"{row.overdue_amount:.2f}",
            ]
        )
    return buffer.getvalue()


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.1f}"


def register_rows(session: Session, actor: User) -> list[dict[str, Any]]:
    """Every contract the actor may see, with its changes, invoices and payments."""
    changes = (
        select(ContractChange.contract_id, func.count().label("n"))
        .where(ContractChange.status == ChangeStatus.IN_EFFECT)
        .group_by(col(ContractChange.contract_id))
        .subquery()
    )
    paid = (
        select(Invoice.contract_id, func.sum(col(Invoice.amount_pence)).label("paid"))
        .where(Invoice.status == InvoiceStatus.PAID)
        .group_by(col(Invoice.contract_id))
        .subquery()
    )
    buyer = sa.orm.aliased(Organisation)
    supplier = sa.orm.aliased(Organisation)
    query = (
        sa.select(
            Contract,
            col(buyer.name),
            col(supplier.name),
            func.coalesce(changes.c.n, 0),
            func.coalesce(paid.c.paid, 0),
        )
        .join(buyer, col(buyer.id) == col(Contract.buyer_id))
        .join(supplier, col(supplier.id) == col(Contract.supplier_id))
        .outerjoin(changes, changes.c.contract_id == col(Contract.id))
        .outerjoin(paid, paid.c.contract_id == col(Contract.id))
        .order_by(col(Contract.reference))
    )
    query = _scope(query, actor, col(Contract.buyer_id), col(Contract.supplier_id))
    today = clock.today()
    return [
        {
            "reference": c.reference,
            "kind": c.kind,
            "buyer": buyer_name,
            "supplier": supplier_name,
            "status": policy.status(c, today),
            "start_date": c.start_date.isoformat(),
            "end_date": policy.end_date(c).isoformat(),
            "original_value": f"{from_pence(c.value_pence):.2f}",
            "value": f"{from_pence(policy.value_pence(c)):.2f}",
            "changes_in_effect": int(n),
            "invoiced": f"{from_pence(c.invoiced_pence):.2f}",
            "paid": f"{from_pence(int(paid_pence)):.2f}",
            "terminated_on": c.terminated_on.isoformat() if c.terminated_on else "",
        }
        for c, buyer_name, supplier_name, n, paid_pence in session.execute(query).all()
    ]


def register_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(str(row[c])) for c in REGISTER_COLUMNS])
    return buffer.getvalue()
