"""JSON API: invoices, spend, changes, termination, the payments report and the register."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from lap_market.accounts.deps import CurrentUser, api_router
from lap_market.contract_management import changes, invoices, read, reports, termination
from lap_market.contract_management.models import InvoiceStatus
from lap_market.contract_management.schemas import (
    ChangeCreate,
    ChangeRead,
    DisputeCreate,
    InvoiceCreate,
    InvoicePage,
    InvoiceRead,
    PaymentCreate,
    PaymentsReport,
    RegisterRow,
    RejectCreate,
    SpendRead,
    TerminationCreate,
    TerminationRead,
)
from lap_market.db import SessionDep
from lap_market.primitives import Id, PageNumber
from lap_market.reports.api import CSV_RESPONSE, Accept, csv_download, wants_csv

router = api_router("contract management")


@router.post("/contracts/{contract_id}/invoices", response_model=InvoiceRead, status_code=201)
def submit_invoice(
    session: SessionDep, user: CurrentUser, contract_id: Id, data: InvoiceCreate
) -> InvoiceRead:
    """The supplier's invoice (amounts as decimal strings); due 30 days after receipt."""
    invoice = invoices.submit_invoice(session, user, contract_id, data)
    session.flush()
    return read.invoice_read(session, invoice)


@router.get("/contracts/{contract_id}/invoices", response_model=list[InvoiceRead])
def contract_invoices(session: SessionDep, user: CurrentUser, contract_id: Id) -> list[InvoiceRead]:
    """Every invoice on the contract, newest first (its parties and officers)."""
    contract = invoices.contract_for(session, user, contract_id)
    return read.invoice_reads(session, read.contract_invoices(session, contract))


@router.get("/invoices", response_model=InvoicePage)
def list_invoices(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    overdue: Annotated[bool | None, Query()] = None,
    page: Annotated[PageNumber, Query()] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InvoicePage:
    """Invoices your organisation sends or pays (officers: all), the soonest due first."""
    return read.invoice_page(
        session, user, status=status, overdue=overdue, page=page, page_size=page_size
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceRead)
def get_invoice(session: SessionDep, user: CurrentUser, invoice_id: Id) -> InvoiceRead:
    invoice, _contract = invoices.get_invoice(session, user, invoice_id)
    return read.invoice_read(session, invoice)


@router.post("/invoices/{invoice_id}/approve", response_model=InvoiceRead)
def approve(session: SessionDep, user: CurrentUser, invoice_id: Id) -> InvoiceRead:
    """The buyer approves the invoice for payment."""
    return read.invoice_read(session, invoices.approve_invoice(session, user, invoice_id))


@router.post("/invoices/{invoice_id}/dispute", response_model=InvoiceRead)
def dispute(
    session: SessionDep, user: CurrentUser, invoice_id: Id, data: DisputeCreate
) -> InvoiceRead:
    """The buyer disputes the invoice, with a reason the supplier sees."""
    invoice = invoices.dispute_invoice(session, user, invoice_id, data)
    return read.invoice_read(session, invoice)


@router.post("/invoices/{invoice_id}/paid", response_model=InvoiceRead)
def paid(
    session: SessionDep, user: CurrentUser, invoice_id: Id, data: PaymentCreate
) -> InvoiceRead:
    """The buyer records the date an approved invoice was paid."""
    invoice = invoices.record_payment(session, user, invoice_id, data)
    return read.invoice_read(session, invoice)


@router.post("/invoices/{invoice_id}/withdraw", response_model=InvoiceRead)
def withdraw(session: SessionDep, user: CurrentUser, invoice_id: Id) -> InvoiceRead:
    """The supplier withdraws an invoice not yet approved; it no longer counts."""
    invoice = invoices.withdraw_invoice(session, user, invoice_id)
    return read.invoice_read(session, invoice)


@router.get("/contracts/{contract_id}/spend", response_model=SpendRead)
def spend(session: SessionDep, user: CurrentUser, contract_id: Id) -> SpendRead:
    """Value (after changes), invoiced, approved, paid and remaining; warnings at 80 %/100 %."""
    return read.spend(session, invoices.contract_for(session, user, contract_id))


@router.post("/contracts/{contract_id}/changes", response_model=ChangeRead, status_code=201)
def propose_change(
    session: SessionDep, user: CurrentUser, contract_id: Id, data: ChangeCreate
) -> ChangeRead:
    """Propose a change; the response gives the cumulative change in value and whether it is
    substantial (over 10 %) and so needs a change notice."""
    change = changes.propose_change(session, user, contract_id, data)
    return read.change_read(session, change)


@router.get("/contracts/{contract_id}/changes", response_model=list[ChangeRead])
def list_changes(session: SessionDep, user: CurrentUser, contract_id: Id) -> list[ChangeRead]:
    contract = invoices.contract_for(session, user, contract_id)
    return read.change_reads(session, read.changes_of(session, contract))


@router.post("/contract-changes/{change_id}/accept", response_model=ChangeRead)
def accept_change(session: SessionDep, user: CurrentUser, change_id: Id) -> ChangeRead:
    """Accept for your party; the change takes effect once both parties have."""
    return read.change_read(session, changes.accept_change(session, user, change_id))


@router.post("/contract-changes/{change_id}/reject", response_model=ChangeRead)
def reject_change(
    session: SessionDep, user: CurrentUser, change_id: Id, data: RejectCreate
) -> ChangeRead:
    change = changes.reject_change(session, user, change_id, data)
    return read.change_read(session, change)


@router.post("/contracts/{contract_id}/terminate", response_model=TerminationRead)
def terminate(
    session: SessionDep, user: CurrentUser, contract_id: Id, data: TerminationCreate
) -> TerminationRead:
    """End the contract with effect from a date; invoices for later periods are refused."""
    contract = termination.terminate(session, user, contract_id, data)
    return TerminationRead(
        contract_id=contract.id,
        reference=contract.reference,
        status=contract.status,
        effective_on=data.effective_on,
        reason_code=data.reason_code,
        explanation=data.explanation,
    )


@router.get("/reports/payments", response_model=PaymentsReport, responses=CSV_RESPONSE)
def payments(
    session: SessionDep,
    user: CurrentUser,
    group_by: Annotated[
        str, Query(json_schema_extra={"enum": ["borough", "provider"]})
    ] = "borough",
    accept: Accept = None,
) -> Response | PaymentsReport:
    """Payment performance: invoices paid, share paid within 30 days, average days to pay,
    overdue now. Send `Accept: text/csv` for CSV."""
    report = reports.payments_report(session, user, group_by=group_by)
    if wants_csv(accept):
        return csv_download(reports.payments_csv(report), f"payments-by-{group_by}.csv")
    return report


@router.get("/reports/contract-register", response_model=list[RegisterRow], responses=CSV_RESPONSE)
def contract_register(
    session: SessionDep, user: CurrentUser, accept: Accept = None
) -> Response | list[dict[str, object]]:
    """Every contract you may see with its value, changes, invoiced, paid, status and end
    date. Send `Accept: text/csv` for CSV."""
    rows = reports.register_rows(session, user)
    if wants_csv(accept):
        return csv_download(reports.register_csv(rows), "contract-register.csv")
    return rows
