"""JSON routes: categories, offers, browsing and quotes."""

from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from lap_market.accounts.deps import CurrentUser, ProviderUser, api_router
from lap_market.catalogue import browse, offer_reads, quotes, reference, service
from lap_market.catalogue.page_json import offer_page_json
from lap_market.catalogue.schemas import (
    CategoryRead,
    OfferCreate,
    OfferPage,
    OfferRead,
    OfferSearch,
    OfferSummary,
    OfferUpdate,
    QuoteRead,
)
from lap_market.db import SessionDep, on_loop
from lap_market.openapi import query_parameters
from lap_market.paging import Paged, PageNumber, PageSize
from lap_market.primitives import BusinessDate, Id, Line

router = api_router("catalogue")


@router.get("/categories", response_model=list[CategoryRead])
async def list_categories(session: SessionDep, _user: CurrentUser) -> list[CategoryRead]:
    """The service categories with their CPV codes and the units each may be bought in."""
    return await on_loop(session, lambda: reference.list_categories(session))


@router.post("/offers", response_model=OfferRead, status_code=201)
def create_offer(session: SessionDep, user: ProviderUser, data: OfferCreate) -> OfferRead:
    """Add a draft offer for the provider's own organisation."""
    offer = service.create_offer(session, user, data=data)
    return offer_reads.offer_read(session, offer)


async def offer_search(request: Request) -> OfferSearch:
    """The search's query parameters, validated as one model in one call (FastAPI's own
    parameter handling, field by field, cost a sixth of a search: issue 11); a refusal
    reads as FastAPI's own, naming ``query`` and the field."""
    try:
        return OfferSearch.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in errors]) from None


@router.get(
    "/offers",
    response_model=OfferPage,
    openapi_extra={"parameters": query_parameters(OfferSearch)},
)
async def browse_offers(
    session: SessionDep, user: CurrentUser, search: Annotated[OfferSearch, Depends(offer_search)]
) -> Response:
    """Published, currently valid offers (and your own drafts); with ``quantity`` each item
    carries its unit price at that quantity and ``sort=price`` orders by it. Prices in
    different units are never ranked together: ``sort=price`` needs ``unit`` (and
    ``category`` when that unit code belongs to several), else 422 naming the field."""
    # A page of indexed reads, on the event loop (db.runs_on_loop, db.on_loop); its rows
    # become OfferPage's JSON directly (see catalogue/page_json.py).
    found = await on_loop(session, lambda: browse.search_offers(
        session, user, category=search.category or None, unit=search.unit or None,
        q=search.q, provider_id=search.provider_id, commissioned=search.commissioned,
        quantity=search.quantity, sort=search.sort, page=search.page, page_size=search.page_size,
    ))  # fmt: skip
    return Response(offer_page_json(found, user.organisation_id), media_type="application/json")


@router.get("/my-offers", response_model=Paged[OfferSummary])
def list_own_offers(
    session: SessionDep, user: ProviderUser, page: PageNumber = 1, page_size: PageSize = 50
) -> Paged[OfferSummary]:
    """Your organisation's offers in every status (drafts and withdrawn too), newest first."""
    items, total = offer_reads.page_own_offers(session, user, page=page, page_size=page_size)
    return Paged[OfferSummary](items=items, total=total, page=page, page_size=page_size)


@router.get("/offers/{offer_id}", response_model=OfferRead)
async def read_offer(session: SessionDep, user: CurrentUser, offer_id: Id) -> OfferRead:
    """One offer with its current tiers and version history."""
    return await on_loop(session, lambda: offer_reads.get_offer_for_read(session, user, offer_id))


@router.patch("/offers/{offer_id}", response_model=OfferRead)
def update_offer(
    session: SessionDep, user: CurrentUser, offer_id: Id, data: OfferUpdate
) -> OfferRead:
    """Change an offer; new rates or unit on a published offer make a new version."""
    offer = service.update_offer(session, user, offer_id, data=data)
    return offer_reads.offer_read(session, offer)


@router.post("/offers/{offer_id}/publish", response_model=OfferRead)
def publish_offer(session: SessionDep, user: CurrentUser, offer_id: Id) -> OfferRead:
    """Publish a draft offer."""
    offer = service.publish_offer(session, user, offer_id)
    return offer_reads.offer_read(session, offer)


@router.post("/offers/{offer_id}/withdraw", response_model=OfferRead)
def withdraw_offer(session: SessionDep, user: CurrentUser, offer_id: Id) -> OfferRead:
    """Withdraw an offer from the catalogue."""
    offer = service.withdraw_offer(session, user, offer_id)
    return offer_reads.offer_read(session, offer)


@router.get("/offers/{offer_id}/quote", response_model=QuoteRead)
def quote_offer(
    session: SessionDep,
    user: CurrentUser,
    offer_id: Id,
    quantity: Annotated[Line, Query(max_length=20)],
    start_date: BusinessDate,
    end_date: BusinessDate,
) -> QuoteRead:
    """Price a quantity over a term (start to end inclusive) at the offer's current rates."""
    quote = quotes.quote_for(
        session,
        user,
        offer_id=offer_id,
        quantity=quantity,
        start_date=start_date,
        end_date=end_date,
    )
    return QuoteRead(**asdict(quote))
