"""Contract pages: the list, one contract (accept, download), issuing call-offs with
progress, and commissioning a catalogue offer directly."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from lap_market.accounts.deps import SettingsDep, WebUser, web_role
from lap_market.accounts.models import Organisation, Role, User
from lap_market.contract_management import web as management
from lap_market.contracts import acceptance, call_off_jobs, call_offs, direct, policy, service
from lap_market.contracts import api as contracts_api
from lap_market.contracts.models import ContractKind, ContractStatus
from lap_market.contracts.schemas import DirectCommissionCreate
from lap_market.db import SessionDep
from lap_market.errors import DomainError, Invalid
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id, Line
from lap_market.templating import is_htmx, render
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors, domain_form_errors, parse_form

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
    return {o.id: o for o in rows}  # type: ignore[misc]


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
            **management.sections(session, user, contract),
            **extra,
        },
        status_code=409 if extra.get("error") else 200,
    )


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(
    request: Request,
    session: SessionDep,
    user: PartyPage,
    contract_id: Id,
    accepted: Annotated[bool, Query()] = False,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """One contract: parties, charges, acceptance, the PDF; after signature its spend,
    invoices, changes and termination."""
    return _detail(request, session, user, contract_id, just_accepted=accepted,
                   done_message=management.DONE_MESSAGES.get(done or ""))


@router.post("/contracts/{contract_id}/accept", response_class=HTMLResponse)
def accept_contract(
    request: Request, session: SessionDep, user: PartyPage, contract_id: Id
) -> Response:
    """Accept for your party, then back to the contract."""
    try:
        acceptance.accept_contract(session, user, contract_id)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        session.rollback()
        return _detail(request, session, user, contract_id, error=exc.detail)
    return RedirectResponse(f"/contracts/{contract_id}?accepted=true", status_code=303)


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
def start_call_offs(
    request: Request, session: SessionDep, officer: OfficerPage, tender_id: Id, lot_id: Id
) -> Response:
    """Queue the issuing job; the page then follows the batch."""
    try:
        call_off_jobs.start_issue(session, officer, tender_id=tender_id, lot_id=lot_id)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        session.rollback()
        return _call_offs_page(
            request,
            session,
            officer,
            tender_id,
            lot_id,
            errors={"form": exc.detail},
            status_code=409,
        )
    if is_htmx(request):
        return _call_offs_page(request, session, officer, tender_id, lot_id)
    return RedirectResponse(f"/tenders/{tender_id}/lots/{lot_id}/call-offs", status_code=303)


# --- direct commissioning ----------------------------------------------------------------------


def _demand_link(view: direct.CommissionableOffer, form: dict[str, Any]) -> str:
    params = {"category": view.category.code, "unit": view.unit.code}
    for key in ("quantity", "start_date", "end_date"):
        if form.get(key):
            params[key] = str(form[key])
    return "/needs?" + urlencode(params)


def _commission_page(
    request: Request,
    session: Session,
    user: User,
    settings: Any,
    offer_id: int,
    form: dict[str, Any],
    *,
    submit: bool,
) -> Response:
    view = direct.commissionable_offer(session, user, offer_id, settings=settings)
    errors: dict[str, str] = {}
    quote = None
    reason = None
    if any(form.get(k) for k in ("quantity", "start_date", "end_date")):
        try:
            data = parse_form(DirectCommissionCreate, {**form, "offer_id": offer_id})
            if submit:
                contract = direct.commission_offer(session, user, data=data, settings=settings)
                return RedirectResponse(f"/contracts/{contract.id}", status_code=303)
            quote = direct.quote_direct(session, user, data=data, settings=settings)
        except FormErrors as exc:
            errors = exc.errors
        except Invalid as exc:
            session.rollback()
            errors = domain_form_errors(exc)
            reason = exc.extra.get("reason")
    return render(
        request,
        "contracts/pages/commission.html",
        {
            "offer": view.offer,
            "provider": view.provider,
            "category": view.category,
            "unit": view.unit,
            "tiers": view.tiers,
            "available": view.available,
            "limit": view.limit,
            "form": form,
            "errors": errors,
            "quote": quote,
            "reason": reason,
            "demand_link": _demand_link(view, form),
        },
        status_code=422 if errors else 200,
    )


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
    return _commission_page(request, session, manager, settings, offer_id, form, submit=False)


@router.post("/catalogue/offers/{offer_id}/commission", response_class=HTMLResponse)
async def commission(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    manager: ManagerPage,
    offer_id: Id,
) -> Response:
    """Commission the offer; on 422 say why and offer to raise it as demand instead."""
    raw = await request.form()
    form = {k: str(raw.get(k, ""))[:30] for k in ("quantity", "start_date", "end_date")}
    return _commission_page(request, session, manager, settings, offer_id, form, submit=True)
