"""Pages after signature: a contract's invoices, changes and termination, the supplier's
invoice form, the borough's approval queue, and the payments report."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from lap_market.accounts.deps import SettingsDep, web_role
from lap_market.accounts.models import Role, User
from lap_market.clock import clock
from lap_market.contract_management import changes, invoices, policy, read, reports_web, termination
from lap_market.contract_management.models import ChangeKind, ChangeReason, TerminationReason
from lap_market.contract_management.schemas import (
    ChangeCreate,
    DisputeCreate,
    InvoiceCreate,
    PaymentCreate,
    RejectCreate,
    TerminationCreate,
)
from lap_market.contracts.models import Contract
from lap_market.db import SessionDep
from lap_market.errors import Forbidden, NotFound
from lap_market.primitives import Id, PageNumber
from lap_market.templating import render
from lap_market.web.actions import Errors, Form, FormAction, NoFields
from lap_market.web.deps import WebCall, web_router

router = web_router()
PartyPage = Annotated[
    User, Depends(web_role(Role.BOROUGH_MANAGER, Role.PROVIDER, Role.PROCUREMENT_OFFICER))
]


async def _party_call(
    request: Request, session: SessionDep, settings: SettingsDep, user: PartyPage
) -> WebCall:
    """A request from a contract's possible parties or an officer (others: 403)."""
    return WebCall(request, session, settings, user)


Party = Annotated[WebCall, Depends(_party_call)]
CHANGE_KINDS = [
    (ChangeKind.VALUE.value, "Value"),
    (ChangeKind.TERM.value, "End date"),
    (ChangeKind.QUANTITY.value, "Quantity"),
]
CHANGE_REASONS = [(r.value, r.value.replace("_", " ").capitalize()) for r in ChangeReason]
TERMINATION_REASONS = [(r.value, r.value.capitalize()) for r in TerminationReason]
DONE_MESSAGES = {
    "invoice-sent": "Invoice sent. The buyer has 30 days from today to pay it.",
    "invoice-approved": "Invoice approved for payment.",
    "invoice-disputed": "Invoice disputed. The supplier has been told why.",
    "invoice-paid": "Payment recorded.",
    "invoice-withdrawn": "Invoice withdrawn. It no longer counts against the contract.",
    "change-proposed": "Change proposed. It takes effect once both parties accept it.",
    "change-accepted": "Your acceptance of the change is recorded.",
    "change-rejected": "Change rejected.",
    "terminated": "The contract is terminated. Both parties and the officers have been told.",
}


def sections(session: Session, user: User, contract: Contract) -> dict[str, Any]:
    """What the contract page shows after signature, for its parties and officers."""
    return {
        "spend": read.spend(session, contract),
        "invoices": read.invoice_reads(session, read.contract_invoices(session, contract)),
        "changes": read.change_reads(session, read.changes_of(session, contract)),
        "can_invoice": policy.can_invoice_now(user, contract),
        "can_propose_change": policy.can_propose_change_now(user, contract),
        "change_side": policy.change_side(user, contract),
        "can_terminate": policy.can_terminate_now(user, contract),
    }


@dataclass(frozen=True)
class ContractForm:
    """A form page about one contract: its template, who may use it, what it shows, and what
    posting it does: its schema, its service call (session, user, contract id, data) and the
    key of its success message."""

    template: str
    may: Callable[[User, Contract], bool]
    refusal: str
    shows: Callable[[Session, Contract], dict[str, Any]]
    model: type[BaseModel]
    submit: Callable[[Session, User, int, Any], object]
    done: str


INVOICE_FORM = ContractForm(
    "contract_management/pages/invoice_form.html",
    policy.can_invoice,
    "Only the supplier invoices against this contract.",
    lambda session, contract: {"spend": read.spend(session, contract)},
    InvoiceCreate, invoices.submit_invoice, "invoice-sent",
)
CHANGE_FORM = ContractForm(
    "contract_management/pages/change_form.html",
    policy.can_propose_change,
    "Only the buyer or a procurement officer proposes changes.",
    lambda session, contract: {
        "spend": read.spend(session, contract),
        "kinds": CHANGE_KINDS,
        "reasons": CHANGE_REASONS,
    },
    ChangeCreate, changes.propose_change, "change-proposed",
)
TERMINATION_FORM = ContractForm(
    "contract_management/pages/terminate.html",
    policy.can_terminate,
    "Only the buyer or a procurement officer terminates a contract.",
    lambda _session, _contract: {"reasons": TERMINATION_REASONS},
    TerminationCreate, termination.terminate, "terminated",
)


def _shown(call: WebCall, template: str, errors: Errors | None, **context: Any) -> Response:
    """A page of this module; shown again after a refusal, with its errors and a 422."""
    return render(
        call.request, template, {**context, "errors": errors or {}},
        status_code=422 if errors else 200,
    )


def _contract_form(
    call: WebCall, contract_id: Id, page: ContractForm, form: Form, errors: Errors
) -> Response:
    session, user = call.session, call.user
    contract = invoices.contract_for(session, user, contract_id)
    if not page.may(user, contract):
        raise Forbidden(page.refusal)
    return _shown(
        call, page.template, errors, contract=contract, form=form, **page.shows(session, contract)
    )


async def _contract_action(call: WebCall, contract_id: int, page: ContractForm) -> Response:
    """Post a form about one contract: on success back to the contract with its message."""
    return await call.act(FormAction(
        model=page.model,
        run=lambda data: page.submit(call.session, call.user, contract_id, data),
        page=lambda errors, form: _contract_form(call, contract_id, page, form, errors),
        done=lambda _result: f"/contracts/{contract_id}",
        message=lambda _result: DONE_MESSAGES[page.done],
    ))


# --- invoices --------------------------------------------------------------------------------


@router.get("/contracts/{contract_id}/invoices/new", response_class=HTMLResponse)
def invoice_form(call: Party, contract_id: Id) -> Response:
    """The supplier's invoice form."""
    today = clock.today().isoformat()
    return _contract_form(call, contract_id, INVOICE_FORM, {"issued_on": today}, {})


@router.post("/contracts/{contract_id}/invoices/new", response_class=HTMLResponse)
async def send_invoice(call: Party, contract_id: Id) -> Response:
    """Send an invoice; back to the contract, whose spend now counts it."""
    return await _contract_action(call, contract_id, INVOICE_FORM)


def _invoice_page(call: WebCall, invoice_id: int, errors: Errors | None = None) -> Response:
    session, user = call.session, call.user
    invoice, contract = invoices.get_invoice(session, user, invoice_id)
    return _shown(
        call, "contract_management/pages/invoice.html", errors,
        invoice=read.invoice_read(session, invoice), contract=contract,
        can_approve=policy.can_approve(user, contract, invoice),
        can_pay=policy.can_record_payment(user, contract, invoice),
        can_dispute=policy.can_dispute(user, contract, invoice),
        can_withdraw=policy.can_withdraw_now(user, invoice),
        today=clock.today().isoformat(),
    )


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice_page(call: Party, invoice_id: Id) -> Response:
    """One invoice and what its buyer (approve, dispute, paid) or supplier may do with it."""
    return _invoice_page(call, invoice_id)


@dataclass(frozen=True)
class Step:
    """A button (or small form) on an invoice or change page: its schema, its service call
    (session, user, row id, data) and the key of its success message."""

    model: type[BaseModel]
    run: Callable[[Session, User, int, Any], object]
    done: str


INVOICE_STEPS = {
    "approve": Step(NoFields, lambda s, u, i, _d: invoices.approve_invoice(s, u, i),
                    "invoice-approved"),
    "dispute": Step(DisputeCreate, invoices.dispute_invoice, "invoice-disputed"),
    "paid": Step(PaymentCreate, invoices.record_payment, "invoice-paid"),
    "withdraw": Step(NoFields, lambda s, u, i, _d: invoices.withdraw_invoice(s, u, i),
                     "invoice-withdrawn"),
}
CHANGE_STEPS = {
    "accept": Step(NoFields, lambda s, u, c, _d: changes.accept_change(s, u, c),
                   "change-accepted"),
    "reject": Step(RejectCreate, changes.reject_change, "change-rejected"),
}


async def _step(
    call: WebCall, pk: int, step: Step | None, *,
    page: Callable[[WebCall, int, Errors], Response], done: str,
) -> Response:
    """Take ``step`` on the row; refusals shown on its ``page``, success goes to ``done``."""
    if step is None:
        raise NotFound("No such action.")
    return await call.act(FormAction(
        model=step.model,
        run=lambda data: step.run(call.session, call.user, pk, data),
        page=lambda errors, _form: page(call, pk, errors),
        done=lambda _row: done,
        message=lambda _row: DONE_MESSAGES[step.done],
    ))


@router.post("/invoices/{invoice_id}/{action}", response_class=HTMLResponse)
async def invoice_action(call: Party, invoice_id: Id, action: str) -> Response:
    """Approve, dispute (with a reason), record payment, or withdraw."""
    return await _step(
        call, invoice_id, INVOICE_STEPS.get(action),
        page=_invoice_page, done=f"/invoices/{invoice_id}",
    )


@router.get("/invoices", response_class=HTMLResponse)
def invoices_page(
    request: Request,
    session: SessionDep,
    user: PartyPage,
    status: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[bool | None, Query()] = None,
    page: Annotated[PageNumber, Query()] = 1,
) -> Response:
    """The approval queue: invoices the borough pays (or the supplier sent), soonest due."""
    status = status if status in {"submitted", "approved", "disputed", "paid"} else None
    listing = read.invoice_page(
        session, user, status=status, overdue=overdue, page=page, page_size=50
    )
    return render(
        request,
        "contract_management/pages/invoices.html",
        {"listing": listing, "status": status or "", "overdue": overdue},
    )


# --- changes ---------------------------------------------------------------------------------


@router.get("/contracts/{contract_id}/changes/new", response_class=HTMLResponse)
def change_form(call: Party, contract_id: Id) -> Response:
    return _contract_form(call, contract_id, CHANGE_FORM, {"kind": "value"}, {})


@router.post("/contracts/{contract_id}/changes/new", response_class=HTMLResponse)
async def propose_change(call: Party, contract_id: Id) -> Response:
    """Propose a change; it takes effect once both parties accept it."""
    return await _contract_action(call, contract_id, CHANGE_FORM)


def _change_page(call: WebCall, change_id: int, errors: Errors | None = None) -> Response:
    session, user = call.session, call.user
    change, contract = changes.get_change(session, user, change_id)
    return _shown(
        call, "contract_management/pages/change.html", errors,
        change=read.change_read(session, change), contract=contract,
        can_accept=policy.is_open(change) and policy.can_accept_change(user, contract, change),
        can_reject=policy.is_open(change) and policy.can_reject_change(user, contract),
    )


@router.get("/contract-changes/{change_id}", response_class=HTMLResponse)
def change_page(call: Party, change_id: Id) -> Response:
    """One proposed change: what it does, the 10 % test, and accept or reject."""
    return _change_page(call, change_id)


@router.post("/contract-changes/{change_id}/{action}", response_class=HTMLResponse)
async def change_action(call: Party, change_id: Id, action: str) -> Response:
    """Accept or reject a proposed change, then back to the contract."""
    _change, contract = changes.get_change(call.session, call.user, change_id)
    return await _step(
        call, change_id, CHANGE_STEPS.get(action),
        page=_change_page, done=f"/contracts/{contract.id}",
    )


# --- termination -----------------------------------------------------------------------------


@router.get("/contracts/{contract_id}/terminate", response_class=HTMLResponse)
def termination_form(call: Party, contract_id: Id) -> Response:
    """Confirm a termination: effective date, reason and explanation."""
    return _contract_form(call, contract_id, TERMINATION_FORM, {}, {})


@router.post("/contracts/{contract_id}/terminate", response_class=HTMLResponse)
async def terminate(call: Party, contract_id: Id) -> Response:
    """Terminate with effect from a date; both parties and the officers are told."""
    return await _contract_action(call, contract_id, TERMINATION_FORM)


# The payments report's pages live beside these, in their own module.
router.include_router(reports_web.router)
