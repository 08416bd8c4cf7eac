"""JSON API: call-offs, direct commissioning, contracts, acceptance and the PDFs."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from lap_market.accounts.deps import CurrentUser, SettingsDep, require_role
from lap_market.accounts.models import Role, User
from lap_market.contracts import acceptance, call_off_jobs, direct, service
from lap_market.contracts.models import ContractKind, ContractStatus
from lap_market.contracts.schemas import (
    CallOffIssueRead,
    CallOffProgressRead,
    ContractAccept,
    ContractRead,
    DirectCommissionCreate,
    DirectQuoteRead,
)
from lap_market.db import SessionDep
from lap_market.paging import Paged, PageNumber, PageSize
from lap_market.primitives import Id

router = APIRouter(prefix="/api/v1", tags=["contracts"])
Officer = Annotated[User, Depends(require_role(Role.PROCUREMENT_OFFICER))]
BoroughManager = Annotated[User, Depends(require_role(Role.BOROUGH_MANAGER))]


@router.post(
    "/tenders/{tender_id}/lots/{lot_id}/call-offs",
    response_model=CallOffIssueRead,
    responses={
        201: {"model": CallOffIssueRead},
        409: {"description": "Not awarded, or standstill not over (body has standstill_ends)"},
    },
)
def issue_call_offs(
    request: Request, session: SessionDep, settings: SettingsDep, officer: Officer,
    tender_id: Id, lot_id: Id,
) -> Response:
    """Issue one call-off contract per demand in an awarded lot once its standstill has ended.

    Runs the same durable job as the web page, and answers when it has finished: 201 with
    the new contracts; 200 with the existing ones when they were issued before.
    """
    result = call_off_jobs.issue_now(
        session, request.app.state.engine, settings, officer, tender_id=tender_id, lot_id=lot_id
    )
    body = CallOffIssueRead(
        tender_id=tender_id,
        lot_id=lot_id,
        issued=result.issued,
        lot_status=result.lot.status,
        tender_status=result.tender.status,
        contracts=service.contract_reads(session, result.contracts),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if result.issued else 200)


@router.get(
    "/tenders/{tender_id}/lots/{lot_id}/call-offs/progress", response_model=CallOffProgressRead
)
def call_off_progress(
    session: SessionDep, officer: Officer, tender_id: Id, lot_id: Id
) -> CallOffProgressRead:
    """Progress of the latest call-off batch of a lot ("12 of 33")."""
    batch = call_off_jobs.latest_batch(session, officer, tender_id=tender_id, lot_id=lot_id)
    return CallOffProgressRead(
        batch_id=batch.id,
        lot_id=batch.lot_id,
        status=batch.status,
        done=batch.done,
        total=batch.total,
        error=batch.error,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
    )


@router.post("/contracts/quote", response_model=DirectQuoteRead)
def quote_direct(
    session: SessionDep,
    settings: SettingsDep,
    manager: BoroughManager,
    data: DirectCommissionCreate,
) -> DirectQuoteRead:
    """Price a direct commission without making it (422 saying why it cannot be made)."""
    quote = direct.quote_direct(session, manager, data=data, settings=settings)
    return DirectQuoteRead(
        offer_id=data.offer_id,
        offer_version_id=quote.version.id,
        quantity=quote.quantity,
        unit_price=quote.unit_price,
        tier_min_quantity=quote.tier_min_quantity,
        term_days=quote.days,
        value=quote.value,
        vat=quote.vat,
        total=quote.total,
        direct_award_limit=quote.limit,
    )


@router.post("/contracts", response_model=ContractRead, status_code=201)
def commission(
    session: SessionDep,
    settings: SettingsDep,
    manager: BoroughManager,
    data: DirectCommissionCreate,
) -> ContractRead:
    """Commission a published catalogue offer directly, within the direct-award limit."""
    contract = direct.commission_offer(session, manager, data=data, settings=settings)
    return service.contract_read(session, contract)


@router.get("/contracts", response_model=Paged[ContractRead])
def list_contracts(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[ContractStatus | None, Query()] = None,
    kind: Annotated[ContractKind | None, Query()] = None,
    tender_id: Annotated[Id | None, Query()] = None,
    lot_id: Annotated[Id | None, Query()] = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Paged[ContractRead]:
    """Your organisation's contracts (officers: all), newest first, a page at a time."""
    contracts, total = service.page_contracts(
        session, user, status=status, kind=kind, tender_id=tender_id, lot_id=lot_id,
        page=page, page_size=page_size,
    )
    return Paged[ContractRead](
        items=service.contract_reads(session, contracts),
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/contracts/{contract_id}", response_model=ContractRead)
def get_contract(session: SessionDep, user: CurrentUser, contract_id: Id) -> ContractRead:
    """One contract (its parties and officers only)."""
    return service.contract_read(session, service.get_contract(session, user, contract_id))


@router.post("/contracts/{contract_id}/accept", response_model=ContractRead)
def accept(
    session: SessionDep, user: CurrentUser, contract_id: Id, data: ContractAccept | None = None
) -> ContractRead:
    """Accept for your party: the buyer's borough manager or the supplier's provider. The
    buyer may send ``{"po_number": "…"}``, printed on the contract and quoted on invoices."""
    contract = acceptance.accept_contract(
        session, user, contract_id, po_number=data.po_number if data else None
    )
    return service.contract_read(session, contract)


@router.get(
    "/contracts/{contract_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def contract_pdf(
    session: SessionDep,
    user: CurrentUser,
    contract_id: Id,
    version: Annotated[Id | None, Query()] = None,
) -> Response:
    """The contract PDF, byte for byte as stored; the latest version's SHA-256 is on the
    record. ``version=1`` is the document as issued; each acceptance adds a version."""
    return pdf_response(session, user, contract_id, version=version)


def pdf_response(
    session: SessionDep, user: User, contract_id: int, *, version: int | None = None
) -> Response:
    """The stored PDF as a download, with its SHA-256 in ``X-Content-SHA256``."""
    document = service.get_document(session, user, contract_id, version=version)
    contract = service.get_contract(session, user, contract_id)
    return Response(
        content=bytes(document.content),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{contract.reference}.pdf"',
            "X-Content-SHA256": document.sha256,
            "X-Document-Version": str(document.version),
            "Cache-Control": "private, no-store",
        },
    )
