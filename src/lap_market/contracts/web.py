"""Contract pages: the list, one contract (accept, download), issuing call-offs with
progress, and commissioning a catalogue offer directly."""

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from lap_market.accounts.deps import SettingsDep, WebUser, web_role
from lap_market.accounts.models import Organisation, Role, User
from lap_market.accounts.policy import is_officer
from lap_market.clock import format_london
from lap_market.contract_management import web as management
from lap_market.contracts import acceptance, call_off_jobs, call_offs, direct, policy, service
from lap_market.contracts import api as contracts_api
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.schemas import (
    CommissionForm,
    ContractAccept,
    DirectCommissionCreate,
    PoNumberForm,
)
from lap_market.db import SessionDep
from lap_market.errors import Invalid
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id, Line
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, attempt, form_action
from lap_market.web.deps import web_router
from lap_market.web.forms import parse_form

router = web_router()
OfficerPage = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER))]
ManagerPage = Annotated[User, Depends(web_role(Role.BOROUGH_MANAGER))]
PartyPage = Annotated[
    User, Depends(web_role(Role.BOROUGH_MANAGER, Role.PROVIDER, Role.PROCUREMENT_OFFICER))
]

STATUS_OPTIONS = [(s.value, s.value.capitalize()) for s in ContractStatus]
PAGE_SIZE = 50
KIND_OPTIONS = [(ContractKind.CALL_OFF.value, "Call-off"), (ContractKind.DIRECT.value, "Direct")]


def _org_names(session: Session, ids: set[int]) -> dict[int, Organisation]:
    if not ids:
        return {}
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    return {pk(o): o for o in rows}


@router.get("/contracts", response_class=HTMLResponse)
def contracts_page(
    request: Request,
    session: SessionDep,
    user: PartyPage,
    status: Annotated[Line | None, Query(max_length=20)] = None,
    kind: Annotated[Line | None, Query(max_length=20)] = None,
    page: PageNumber = 1,
) -> Response:
    """Your organisation's contracts (officers: all), filtered by status and kind, paged."""
    status = status if status in {s for s, _ in STATUS_OPTIONS} else None
    kind = kind if kind in {k for k, _ in KIND_OPTIONS} else None
    contracts, total = service.page_contracts(
        session, user, status=status, kind=kind, page=page, page_size=PAGE_SIZE
    )
    kept = {k: v for k, v in (("status", status), ("kind", kind)) if v}

    def page_url(number: int) -> str:
        return "/contracts?" + urlencode({**kept, "page": number})

    return render(
        request,
        "contracts/pages/list.html",
        {
            "contracts": service.contract_reads(session, contracts),
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "page_url": page_url,
            "status": status or "",
            "kind": kind or "",
            "status_options": STATUS_OPTIONS,
            "kind_options": KIND_OPTIONS,
            "ready_lots": call_offs.lots_awaiting_call_offs(session, user),
            "summary": service.summarise(session, user),
        },
        block="results",
    )


def _detail(
    request: Request, session: Session, user: User, contract_id: int, **extra: Any
) -> Response:
    contract = service.get_contract(session, user, contract_id)
    side = policy.acceptance_side(user, contract)
    read = service.contract_read(session, contract)
    accepted = read.buyer_acceptance if side == "buyer" else read.supplier_acceptance
    return render(
        request,
        "contracts/pages/detail.html",
        {
            "contract": read,
            "record": contract,
            "side": side,
            "can_accept": side is not None and accepted is None,
            "can_record_po": is_officer(user) and read.buyer_acceptance is None,
            "errors": {},
            "form": {},
            **management.sections(session, user, contract),
            **extra,
        },
    )


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(
    request: Request,
    session: SessionDep,
    user: PartyPage,
    contract_id: Id,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """One contract: parties, charges, acceptance, the PDF; after signature its spend,
    invoices, changes and termination."""
    return _detail(request, session, user, contract_id,
                   done_message=management.DONE_MESSAGES.get(done or ""))


def _accept_page(
    request: Request, session: Session, user: User, contract_id: int,
    errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
) -> Response:
    contract = service.get_contract(session, user, contract_id)
    side = policy.acceptance_side(user, contract)
    read = service.contract_read(session, contract)
    return render(request, "contracts/pages/accept.html", {
        "contract": read, "side": side, "errors": errors or {},
        "form": form or {"po_number": read.po_number or ""},
    })


@router.get("/contracts/{contract_id}/accept", response_class=HTMLResponse)
def accept_page(
    request: Request, session: SessionDep, user: PartyPage, contract_id: Id
) -> Response:
    """The confirmation step: what is being accepted, for whom, and (buyer) the PO number."""
    return _accept_page(request, session, user, contract_id)


def _acceptance_receipt(contract: Contract, user: User) -> str:
    """What the person accepted, for whom and when (London time), as the page confirms."""
    buyer = contract.buyer_accepted_by_id == user.id
    at = contract.buyer_accepted_at if buyer else contract.supplier_accepted_at
    po = f" with purchase order {contract.po_number}" if buyer and contract.po_number else ""
    active = " Both parties have accepted: the contract is now active." if (
        contract.status == ContractStatus.ACTIVE) else ""
    return (f"You accepted contract {contract.reference}{po} on "
            f"{format_london(at) if at else 'now'}. The PDF now shows your acceptance.{active}")


@router.post("/contracts/{contract_id}/accept", response_class=HTMLResponse)
async def accept_contract(
    request: Request, session: SessionDep, user: PartyPage, contract_id: Id
) -> Response:
    """Accept for your party (the buyer with its purchase-order number), then the receipt."""
    return await form_action(request, session, FormAction(
        model=ContractAccept,
        run=lambda data: acceptance.accept_contract(
            session, user, contract_id, po_number=data.po_number),
        page=lambda errors, form: _accept_page(request, session, user, contract_id, errors, form),
        done=lambda contract: f"/contracts/{contract.id}",
        message=lambda contract: _acceptance_receipt(contract, user),
    ))


@router.post("/contracts/{contract_id}/po-number", response_class=HTMLResponse)
async def record_po_number(
    request: Request, session: SessionDep, officer: OfficerPage, contract_id: Id
) -> Response:
    """An officer records the buyer's purchase-order number before the buyer accepts."""
    return await form_action(request, session, FormAction(
        model=PoNumberForm,
        run=lambda data: acceptance.record_po_number(
            session, officer, contract_id, data.po_number),
        page=lambda errors, form: _detail(request, session, officer, contract_id,
                                          errors=errors, form=form),
        done=lambda contract: f"/contracts/{contract.id}",
        message=lambda contract: (f"Purchase order {contract.po_number} recorded on "
                                  f"{contract.reference}; the PDF now shows it."),
    ))


@router.get("/contracts/{contract_id}/pdf", response_class=Response)
def contract_pdf(
    session: SessionDep, user: WebUser, contract_id: Id, version: Id | None = None
) -> Response:
    """Download the stored PDF (parties and officers only)."""
    return contracts_api.pdf_response(session, user, contract_id, version=version)


# --- call-offs -------------------------------------------------------------------------------


def _call_offs_page(
    request: Request,
    session: Session,
    user: User,
    tender_id: int,
    lot_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = call_off_jobs.call_off_view(session, user, tender_id=tender_id, lot_id=lot_id)
    return render(
        request,
        "contracts/pages/call_offs.html",
        {
            "view": view,
            "tender": view.tender,
            "lot": view.lot,
            "award": view.award,
            "batch": view.batch,
            "contracts": service.contract_reads(session, view.contracts),
            "errors": errors or {},
        },
        block="progress",
        status_code=status_code,
    )


@router.get("/tenders/{tender_id}/lots/{lot_id}/call-offs", response_class=HTMLResponse)
def call_offs_page(
    request: Request, session: SessionDep, officer: OfficerPage, tender_id: Id, lot_id: Id
) -> Response:
    """A lot's call-offs: issue them and watch the progress."""
    return _call_offs_page(request, session, officer, tender_id, lot_id)


@router.get("/tenders/{tender_id}/lots/{lot_id}/call-offs/progress", response_class=HTMLResponse)
def call_offs_progress(
    request: Request, session: SessionDep, officer: OfficerPage, tender_id: Id, lot_id: Id
) -> Response:
    """The progress block, polled by the page every second while a batch runs."""
    return _call_offs_page(request, session, officer, tender_id, lot_id)


@router.post("/tenders/{tender_id}/lots/{lot_id}/call-offs", response_class=HTMLResponse)
async def start_call_offs(
    request: Request, session: SessionDep, officer: OfficerPage, tender_id: Id, lot_id: Id
) -> Response:
    """Queue the issuing job; the page then follows the batch."""
    url = f"/tenders/{tender_id}/lots/{lot_id}/call-offs"
    return await form_action(request, session, FormAction(
        model=NoFields,
        run=lambda _data: call_off_jobs.start_issue(
            session, officer, tender_id=tender_id, lot_id=lot_id),
        page=lambda errors, _form: _call_offs_page(
            request, session, officer, tender_id, lot_id, errors=errors),
        done=lambda _batch: url,
        message=lambda _batch: "Issuing the lot's call-off contracts: progress is shown below.",
        fragment=lambda _batch: _call_offs_page(request, session, officer, tender_id, lot_id),
    ))


# --- direct commissioning ----------------------------------------------------------------------


def _demand_link(view: direct.CommissionableOffer, form: dict[str, Any]) -> str:
    params = {"category": view.category.code, "unit": view.unit.code}
    for key in ("quantity", "start_date", "end_date"):
        if form.get(key):
            params[key] = str(form[key])
    return "/needs?" + urlencode(params) + "#raise"


TERM_FIELDS = ("quantity", "start_date", "end_date")


def _commission_page(
    request: Request,
    session: Session,
    user: User,
    settings: Any,
    offer_id: int,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    """The offer's rates, the buyer's quantity and term, and (when they price) the quote to
    confirm, with a warning when another live offer is cheaper for the same."""
    view = direct.commissionable_offer(session, user, offer_id, settings=settings)
    checked = _check_quote(session, user, settings, offer_id, form)
    shown = errors or checked.errors
    return render(
        request,
        "contracts/pages/commission.html",
        {
            "offer": view.offer, "provider": view.provider, "category": view.category,
            "unit": view.unit, "tiers": view.tiers, "available": view.available,
            "limit": view.limit, "form": form, "errors": shown,
            "quote": None if errors else checked.quote, "cheaper": checked.cheaper,
            "reason": checked.reason, "demand_link": _demand_link(view, form),
            "back_link": _offer_link(offer_id, form),
        },
        status_code=422 if shown else 200,
    )


@dataclass
class _Checked:
    quote: direct.DirectQuote | None = None
    cheaper: direct.CheaperOffer | None = None
    errors: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def _check_quote(
    session: Session, user: User, settings: Any, offer_id: int, form: dict[str, Any]
) -> _Checked:
    """Price the form's quantity and term (nothing written), or say why it cannot be."""
    if not any(form.get(k) for k in TERM_FIELDS):
        return _Checked()
    def quote() -> tuple[DirectCommissionCreate, direct.DirectQuote]:
        data = parse_form(DirectCommissionCreate, {**form, "offer_id": offer_id})
        return data, direct.quote_direct(session, user, data=data, settings=settings)

    tried = attempt(session, quote, (Invalid,))
    if tried.result is None:
        reason = tried.refusal.extra.get("reason") if tried.refusal else None
        return _Checked(errors=tried.errors, reason=reason)
    data, priced = tried.result
    cheaper = direct.cheaper_offer(
        session, priced, start_date=data.start_date, end_date=data.end_date)
    return _Checked(quote=priced, cheaper=cheaper)


def _offer_link(offer_id: int, form: dict[str, Any]) -> str:
    kept = {k: str(form[k]) for k in TERM_FIELDS if form.get(k)}
    return f"/catalogue/offers/{offer_id}" + ("?" + urlencode(kept) if kept else "")


@router.get("/catalogue/offers/{offer_id}/commission", response_class=HTMLResponse)
def commission_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    manager: ManagerPage,
    offer_id: Id,
    quantity: Annotated[Line | None, Query(max_length=30)] = None,
    start_date: Annotated[Line | None, Query(max_length=10)] = None,
    end_date: Annotated[Line | None, Query(max_length=10)] = None,
) -> Response:
    """Check the price of commissioning an offer directly (the confirmation page)."""
    form = {"quantity": quantity or "", "start_date": start_date or "", "end_date": end_date or ""}
    return _commission_page(request, session, manager, settings, offer_id, form)


def _qty(value: Any) -> str:
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _commission_receipt(contract: Contract) -> str:
    return (f"Contract {contract.reference} made: {_qty(contract.quantity)} at "
            f"£{from_pence(contract.unit_price_pence):,.2f} each, "
            f"£{from_pence(contract.total_pence):,.2f} including VAT, from "
            f"{contract.start_date:%-d %B %Y} to {contract.end_date:%-d %B %Y}. "
            "Accept it below to sign for your borough.")


@router.post("/catalogue/offers/{offer_id}/commission", response_class=HTMLResponse)
async def commission(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    manager: ManagerPage,
    offer_id: Id,
) -> Response:
    """Commission the offer; on 422 say why and offer to raise it as demand instead."""
    return await form_action(request, session, FormAction(
        model=CommissionForm,
        run=lambda data: direct.commission_offer(
            session, manager, settings=settings,
            data=DirectCommissionCreate.model_validate(
                {**data.model_dump(), "offer_id": offer_id})),
        page=lambda errors, form: _commission_page(
            request, session, manager, settings, offer_id,
            {k: form.get(k, "")[:30] for k in TERM_FIELDS}, errors),
        done=lambda contract: f"/contracts/{contract.id}",
        message=_commission_receipt,
    ))
