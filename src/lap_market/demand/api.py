"""JSON routes for demand: raise, list, read, change, withdraw, import a CSV."""

from typing import Annotated

from fastapi import Query, Request

from lap_market.accounts.deps import CurrentUser, SettingsDep, api_router
from lap_market.db import SessionDep, in_worker_thread
from lap_market.demand import csv_import, reads, service
from lap_market.demand.models import Demand
from lap_market.demand.schemas import (
    DemandCreate,
    DemandFilters,
    DemandPage,
    DemandRead,
    DemandUpdate,
    ImportResult,
)
from lap_market.errors import Invalid, PayloadTooLarge
from lap_market.openapi import CsvImportError
from lap_market.primitives import Id, Line, PageNumber

router = api_router("demand")


def _one(session: SessionDep, demand: Demand) -> DemandRead:
    return reads.demand_reads(session, [demand])[0]


@router.post("/demands", response_model=DemandRead, status_code=201)
def create_demand(session: SessionDep, user: CurrentUser, data: DemandCreate) -> DemandRead:
    """Raise a need for your borough (borough managers). It starts ``submitted``."""
    return _one(session, service.create_demand(session, user, data=data))


@router.get("/demands", response_model=DemandPage)
def list_demands(
    session: SessionDep,
    user: CurrentUser,
    category: Annotated[Line | None, Query(max_length=40)] = None,
    unit: Annotated[Line | None, Query(max_length=40)] = None,
    status: Annotated[Line | None, Query(max_length=20)] = None,
    borough: Annotated[Line | None, Query(max_length=20, description="id or GSS code")] = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DemandPage:
    """Demand you may see: your borough's own, or (officers) everyone's, newest first."""
    filters = DemandFilters(category=category, unit=unit, status=status, borough=borough)
    demands, total = service.list_demands(
        session, user, filters=filters, page=page, page_size=page_size
    )
    return DemandPage(
        items=reads.demand_reads(session, demands), total=total, page=page, page_size=page_size
    )


@router.post(
    "/demands/import",
    response_model=ImportResult,
    status_code=201,
    responses={
        413: {"description": "More than the row limit, or a body over the upload limit."},
        422: {
            "description": "Bad rows: `errors` lists `{row, field, message}` for each.",
            "model": CsvImportError,
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "example": "category,unit,quantity,start_date,end_date,needed_by,"
                        "specification,budget_ceiling\nstorage,linear_metre_year,120,2027-04-01,2030-03-31,"
                        "2027-03-01,Acid-free boxes,40000.00\n",
                    }
                }
            },
        }
    },
)
async def import_demands(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    round_id: Annotated[
        int | None, Query(description="Lines of your borough's return to this demand round")
    ] = None,
) -> ImportResult:
    """Raise many lines at once from a CSV body (``Content-Type: text/csv``): all or none."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/csv"):
        raise Invalid(
            "Send the file as the request body with Content-Type: text/csv.", field="content_type"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file"
        )
    body = bytearray()
    async for piece in request.stream():
        body.extend(piece)
        if len(body) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file"
            )
    ids = await in_worker_thread(
        lambda: csv_import.import_demands(
            session, user, body=bytes(body), settings=settings, round_id=round_id
        )
    )
    return ImportResult(imported=len(ids), demand_ids=ids)


@router.get("/demands/{demand_id}", response_model=DemandRead)
def get_demand(session: SessionDep, user: CurrentUser, demand_id: Id) -> DemandRead:
    """One demand line (your borough's own, or any for officers)."""
    return _one(session, service.get_demand(session, user, demand_id))


@router.patch("/demands/{demand_id}", response_model=DemandRead)
def update_demand(
    session: SessionDep, user: CurrentUser, demand_id: Id, data: DemandUpdate
) -> DemandRead:
    """Change your borough's demand while it is ``submitted``."""
    return _one(session, service.update_demand(session, user, demand_id, data=data))


@router.post("/demands/{demand_id}/withdraw", response_model=DemandRead)
def withdraw_demand(session: SessionDep, user: CurrentUser, demand_id: Id) -> DemandRead:
    """Withdraw your borough's demand while it is ``submitted``."""
    return _one(session, service.withdraw_demand(session, user, demand_id))
