"""The API view of a freshly pooled draft, built from the figures pooling computed."""

from operator import itemgetter

from fastapi.responses import Response

from lap_market.aggregation.planning import LotPlan
from lap_market.aggregation.service import Pooling
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.modeling import pk
from lap_market.tenders.models import Lot
from lap_market.tenders.read import tender_view
from lap_market.tenders.schemas import LotRead, TenderRead


def _lot_read(lot: Lot, plan: LotPlan) -> LotRead:
    # Built, not validated: every value comes from pooling's own figures and types, and a
    # lot can list 33,000 demand ids.
    return LotRead.model_construct(
        id=pk(lot),
        number=lot.number,
        title=lot.title,
        status=lot.status,
        category=plan.unit.category_code,
        unit=plan.unit.code,
        total_quantity=lot.total_quantity,
        boroughs=plan.boroughs,
        # As every other tender view lists them: by id.
        demand_ids=sorted(map(itemgetter(0), plan.lines)),
        estimated_value=plan.estimated_value,
        standalone_value=plan.standalone_value,
        estimated_saving=plan.estimated_saving,
        no_reference_rate=plan.no_reference_rate,
        bid_count=None,
    )


def pooling_read(pooling: Pooling, settings: Settings) -> TenderRead:
    """What ``tender_read`` would return for the new draft, without reading it back."""
    lots = [_lot_read(lot, plan) for lot, plan in zip(pooling.lots, pooling.plans, strict=True)]
    return tender_view(pooling.tender, lots, [], settings, clock.now())


def pooling_response(pooling: Pooling, settings: Settings, status_code: int) -> Response:
    """``pooling_read`` as the JSON FastAPI would send for it, serialised in one call (no
    second validation and no intermediate dict of every demand id)."""
    body = pooling_read(pooling, settings).model_dump_json()
    return Response(body, status_code=status_code, media_type="application/json")
