"""JSON routes for pooling demand into a draft tender, editing its lots and deleting it."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from lap_market.accounts.deps import CurrentUser, SettingsDep, require_role
from lap_market.accounts.models import Role, User
from lap_market.aggregation import lots, service
from lap_market.aggregation.read import pooling_response
from lap_market.aggregation.schemas import AggregateRequest, LotEdit
from lap_market.db import SessionDep
from lap_market.primitives import Id
from lap_market.tenders.read import tender_read
from lap_market.tenders.schemas import TenderRead

router = APIRouter(prefix="/api/v1", tags=["aggregation"])
Officer = Annotated[User, Depends(require_role(Role.PROCUREMENT_OFFICER))]


@router.post("/tenders/aggregate", response_model=TenderRead, status_code=201)
def aggregate(
    session: SessionDep, settings: SettingsDep, officer: Officer, data: AggregateRequest
) -> Response:
    """Pool every matching ``submitted`` demand into one new draft tender with lots.

    A lot groups demand of one category and unit whose service terms overlap. 422 when no
    submitted demand matches (for instance when it has all been pooled already).
    """
    # The declared model documents the answer; it is serialised straight from pooling's
    # figures (FastAPI would validate it again and build a dict of every demand id first).
    return pooling_response(service.pool_demand(session, officer, filters=data), settings, 201)


@router.patch("/tenders/{tender_id}/lots", response_model=TenderRead)
def edit_lots(
    session: SessionDep, settings: SettingsDep, officer: CurrentUser, tender_id: Id, data: LotEdit
) -> TenderRead:
    """Move demand lines of a draft: ``to_lot`` is a lot number, ``"new"``, or null (out of
    the draft, back to ``submitted``). Only to a lot of the same category and unit."""
    tender = lots.edit_lots(session, officer, tender_id, data=data)
    return tender_read(session, tender, settings)


@router.delete("/tenders/{tender_id}", status_code=204)
def delete_draft(session: SessionDep, officer: CurrentUser, tender_id: Id) -> Response:
    """Delete a draft tender; its demand returns to ``submitted``. 409 once published."""
    service.delete_draft(session, officer, tender_id)
    return Response(status_code=204)
