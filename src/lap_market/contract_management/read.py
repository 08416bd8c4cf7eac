"""Reading invoices, spend and changes as the API and pages show them."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.clock import as_utc, clock
from lap_market.contract_management import policy
from lap_market.contract_management.models import ContractChange, Invoice, InvoiceStatus
from lap_market.contract_management.schemas import (
    AcceptanceRead,
    ChangeRead,
    InvoicePage,
    InvoiceRead,
    SpendRead,
)
from lap_market.contracts.models import Contract
from lap_market.modeling import loaded_with
from lap_market.money import from_pence

ONE_PLACE = Decimal("0.1")


INVOICE_RELATIONS = ("contract", "supplier", "buyer")
CHANGE_RELATIONS = ("proposed_by", "buyer_accepted_by", "supplier_accepted_by")


def invoice_reads(session: Session, invoices: Sequence[Invoice]) -> list[InvoiceRead]:
    """API views of invoices, with their contract and parties read in bulk."""
    today = clock.today()
    return [
        InvoiceRead(
            id=i.id,
            contract_id=i.contract_id,
            contract_reference=i.contract.reference,
            supplier_id=i.supplier_id,
            supplier_name=i.supplier.name,
            buyer_id=i.buyer_id,
            buyer_name=i.buyer.name,
            number=i.number,
            issued_on=i.issued_on,
            received_on=i.received_on,
            due_on=i.due_on,
            period_start=i.period_start,
            period_end=i.period_end,
            amount=from_pence(i.amount_pence),
            vat=from_pence(i.vat_pence),
            total=from_pence(i.amount_pence + i.vat_pence),
            status=i.status,
            overdue=policy.is_overdue(i, today),
            days_to_pay=(i.paid_on - i.received_on).days if i.paid_on else None,
            dispute_reason=i.dispute_reason,
            paid_on=i.paid_on,
            submitted_at=as_utc(i.submitted_at),
            approved_at=as_utc(i.approved_at) if i.approved_at else None,
        )
        for i in loaded_with(session, Invoice, invoices, INVOICE_RELATIONS)
    ]


def invoice_read(session: Session, invoice: Invoice) -> InvoiceRead:
    return invoice_reads(session, [invoice])[0]


def contract_invoices(session: Session, contract: Contract) -> list[Invoice]:
    return list(
        session.exec(
            select(Invoice)
            .where(Invoice.contract_id == contract.id)
            .order_by(col(Invoice.received_on).desc(), col(Invoice.id).desc())
        ).all()
    )


def invoice_page(
    session: Session,
    actor: User,
    *,
    status: str | None,
    overdue: bool | None,
    page: int,
    page_size: int,
) -> InvoicePage:
    """The invoices the actor's organisation sends or pays (officers: all), newest first."""
    query = policy.scoped(
        select(Invoice), actor, buyer=Invoice.buyer_id, supplier=Invoice.supplier_id,
        refusal="Invoices are for boroughs, providers and procurement officers.",
    )
    if status:
        query = query.where(Invoice.status == status)
    if overdue is not None:
        late = sa.and_(col(Invoice.status).in_(policy.OWED), col(Invoice.due_on) < clock.today())
        query = query.where(late if overdue else sa.not_(late))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Invoice.due_on), col(Invoice.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return InvoicePage(
        items=invoice_reads(session, rows), page=page, page_size=page_size, total=int(total)
    )


def spend(session: Session, contract: Contract) -> SpendRead:
    """Value, invoiced, approved, paid and remaining, summed by the database."""
    status_col = col(Invoice.status)
    approved_states = (InvoiceStatus.APPROVED, InvoiceStatus.PAID)
    row = session.execute(
        sa.select(
            func.coalesce(
                func.sum(
                    sa.case((status_col.in_(approved_states), col(Invoice.amount_pence)), else_=0)
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    sa.case((status_col == InvoiceStatus.PAID, col(Invoice.amount_pence)), else_=0)
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    sa.case(
                        (
                            sa.and_(
                                status_col.in_(policy.OWED), col(Invoice.due_on) < clock.today()
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(col(Invoice.contract_id) == contract.id)
    ).one()
    value = policy.value_pence(contract)
    invoiced = contract.invoiced_pence
    pct = (Decimal(invoiced * 100) / value).quantize(ONE_PLACE) if value else Decimal(0)
    warning = "100" if pct >= 100 else "80" if pct >= 80 else "none"
    return SpendRead(
        contract_id=contract.id,
        reference=contract.reference,
        status=policy.status(contract, clock.today()),
        value=from_pence(value),
        original_value=from_pence(contract.value_pence),
        invoiced=from_pence(invoiced),
        approved=from_pence(int(row[0])),
        paid=from_pence(int(row[1])),
        remaining=from_pence(value - invoiced),
        invoiced_pct=pct,
        warning=warning,
        overdue_invoices=int(row[2]),
        start_date=contract.start_date,
        end_date=policy.end_date(contract),
        terminated_on=contract.terminated_on,
    )


def changes_of(session: Session, contract: Contract) -> list[ContractChange]:
    return list(
        session.exec(
            select(ContractChange)
            .where(ContractChange.contract_id == contract.id)
            .order_by(col(ContractChange.number))
        ).all()
    )


def _acceptance(by: User | None, at: datetime | None) -> AcceptanceRead | None:
    if by is None or at is None:
        return None
    return AcceptanceRead(by_name=by.name, at=as_utc(at))


def change_reads(session: Session, changes: Sequence[ContractChange]) -> list[ChangeRead]:
    """API views of changes, with who proposed and accepted them read in bulk."""
    return [
        ChangeRead(
            id=c.id,
            contract_id=c.contract_id,
            number=c.number,
            kind=c.kind,
            reason_code=c.reason_code,
            explanation=c.explanation,
            value_before=from_pence(c.value_before_pence),
            value_after=from_pence(c.value_after_pence),
            end_date_before=c.end_date_before,
            end_date_after=c.end_date_after,
            quantity_before=c.quantity_before,
            quantity_after=c.quantity_after,
            cumulative_change_pct=c.cumulative_change_pct,
            substantial=c.substantial,
            change_notice_required=c.substantial,
            change_notice_reference=c.change_notice_reference,
            status=c.status,
            proposed_by_name=c.proposed_by.name,
            proposed_at=as_utc(c.proposed_at),
            buyer_acceptance=_acceptance(c.buyer_accepted_by, c.buyer_accepted_at),
            supplier_acceptance=_acceptance(c.supplier_accepted_by, c.supplier_accepted_at),
            effective_at=as_utc(c.effective_at) if c.effective_at else None,
            rejection_reason=c.rejection_reason,
        )
        for c in loaded_with(session, ContractChange, changes, CHANGE_RELATIONS)
    ]


def change_read(session: Session, change: ContractChange) -> ChangeRead:
    return change_reads(session, [change])[0]
