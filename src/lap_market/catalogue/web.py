"""Catalogue pages: browse and search, an offer with its price calculator, the comparison,
and providers' own offers with create/edit/publish/withdraw forms."""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import model_validator
from sqlmodel import Session

from lap_market.accounts.deps import WebUser, web_provider
from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager
from lap_market.catalogue import browse, offer_reads, policy, quotes, reference, service
from lap_market.catalogue.models import Offer
from lap_market.catalogue.schemas import MAX_TIERS, OfferCreate, OfferUpdate
from lap_market.db import SessionDep
from lap_market.errors import Invalid
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id, form_date
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, checked, form_action
from lap_market.web.deps import web_router
from lap_market.web.forms import (
    page_number,
    query_text,
)

router = web_router()
ProviderPage = Annotated[User, Depends(web_provider)]
PAGE_SIZE = 20
MY_OFFERS_PAGE_SIZE = 50
TIER_ROWS = 4
SORTS = [("name", "Name"), ("price", "Price in the chosen unit (lowest first)")]
COMMISSIONED = [("yes", "LMA commissioned services only"), ("no", "Contractors only")]


def _text(request: Request, name: str, limit: int = 200) -> str:
    return query_text(request, name, limit)


def _reference_context(session: SessionDep) -> dict[str, Any]:
    ref = reference.load_reference(session)
    categories = list(ref.categories.values())
    groups = [(c, ref.units_of(c)) for c in categories]
    unit_names: dict[str, str] = {}
    for info in ref.units.values():
        unit_names.setdefault(info.code, info.name)
    return {"categories": categories, "unit_groups": groups, "unit_names": unit_names}


TERM_FIELDS = ("quantity", "start_date", "end_date")


def carried(form: dict[str, str], **extra: str) -> str:
    """The quantity and term chosen so far, as a query string the next page pre-fills from."""
    kept = {name: form[name] for name in TERM_FIELDS if form.get(name)}
    return urlencode({**extra, **kept})


# --- browse -------------------------------------------------------------------------------


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Published offers, with filters and a search box that update the list in place."""
    filters = {
        name: _text(request, name)
        for name in ("q", "category", "unit", "commissioned", "quantity", "sort")
    }
    page = page_number(request)
    _default_price_unit(session, filters)
    result, errors = checked(lambda: browse.browse_offers(
        session,
        user,
        category=filters["category"] or None,
        unit=filters["unit"] or None,
        q=filters["q"] or None,
        commissioned={"yes": True, "no": False}.get(filters["commissioned"]),
        quantity=filters["quantity"] or None,
        sort="price" if filters["sort"] == "price" else "name",
        page=page,
        page_size=PAGE_SIZE,
    ), (Invalid,))
    pages = 0 if result is None else (result.total + PAGE_SIZE - 1) // PAGE_SIZE
    kept = {k: v for k, v in filters.items() if v}

    def page_url(number: int) -> str:
        return "/catalogue?" + urlencode({**kept, "page": number})

    return render(
        request,
        "catalogue/pages/catalogue.html",
        {
            "filters": filters,
            "result": result,
            "errors": errors,
            "page": page,
            "pages": pages,
            "page_url": page_url,
            "sorts": SORTS,
            "commissioned_options": COMMISSIONED,
            **_reference_context(session),
        },
        block="results",
    )


def _default_price_unit(session: SessionDep, filters: dict[str, str]) -> None:
    """Price ranks one unit at a time: with a category but no unit, take its first unit."""
    if filters["sort"] != "price" or filters["unit"] or not filters["category"]:
        return
    ref = reference.load_reference(session)
    category = ref.categories.get(filters["category"])
    units = ref.units_of(category) if category else []
    if units:
        filters["unit"] = units[0].code


@router.get("/catalogue/offers/{offer_id}", response_class=HTMLResponse)
def offer_page(request: Request, session: SessionDep, user: WebUser, offer_id: Id) -> Response:
    """An offer, its tiers and versions, and a price calculator (quantity and term)."""
    offer = offer_reads.get_offer_for_read(session, user, offer_id)
    form = {name: _text(request, name, 20) for name in ("quantity", "start_date", "end_date")}
    errors: dict[str, str] = {}
    quote = None
    if any(form.values()):
        start = form_date(form["start_date"], "start_date", errors)
        end = form_date(form["end_date"], "end_date", errors)
        if not form["quantity"]:
            errors["quantity"] = "Enter a quantity"
        if not errors:
            quote, errors = checked(lambda: quotes.quote_for(
                session,
                user,
                offer_id=offer_id,
                quantity=form["quantity"],
                start_date=start,
                end_date=end,
            ))
    return render(
        request,
        "catalogue/pages/offer.html",
        {"offer": offer, "form": form, "errors": errors, "quote": quote,
         "can_commission": policy.can_commission(user, offer),
         "carried": carried(form),
         "need_query": carried(form, category=offer.category, unit=offer.unit),
         "back_query": carried(form, category=offer.category, unit=offer.unit)},
        block="calculator",
        status_code=422 if errors else 200,
    )


@router.get("/catalogue/compare", response_class=HTMLResponse)
def compare_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """The offers in one category and unit side by side, cheapest first at a quantity."""
    form = {name: _text(request, name, 40)
            for name in ("category", "unit", "quantity", "start_date", "end_date")}
    errors: dict[str, str] = {}
    offers = None
    for name in ("start_date", "end_date"):
        if form[name]:
            form_date(form[name], name, errors)  # optional, but a real date when given
    if any(form.values()):
        for name, message in (
            ("category", "Choose a category"),
            ("unit", "Choose a unit"),
            ("quantity", "Enter a quantity"),
        ):
            if not form[name]:
                errors.setdefault(name, message)
        if not errors:
            offers, errors = checked(lambda: browse.compare_offers(
                session,
                user,
                category=form["category"],
                unit=form["unit"],
                quantity=form["quantity"],
            ), (Invalid,))
    return render(
        request,
        "catalogue/pages/compare.html",
        {"form": form, "errors": errors, "offers": offers, **_reference_context(session),
         "carried": carried(form),
         "need_query": carried(form, category=form["category"], unit=form["unit"]),
         "may_commission": is_borough_manager(user)},
        block="comparison",
        status_code=422 if errors else 200,
    )


# --- my offers ------------------------------------------------------------------------------


def _my_offers(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    error: str | None = None,
    offer_id: int | None = None,
    page: int = 1,
) -> Response:
    offers, total = offer_reads.page_own_offers(
        session, user, page=page, page_size=MY_OFFERS_PAGE_SIZE
    )
    return render(
        request,
        "catalogue/pages/my_offers.html",
        {
            "offers": offers,
            "page": page,
            "pages": page_count(total, MY_OFFERS_PAGE_SIZE),
            "page_url": lambda number: f"/my-offers?page={number}",
            "error": error,
            "error_offer_id": offer_id,
        },
    )


@router.get("/my-offers", response_class=HTMLResponse)
def my_offers_page(
    request: Request, session: SessionDep, user: ProviderPage, page: PageNumber = 1
) -> Response:
    """The provider's own offers in every status, with publish and withdraw buttons."""
    return _my_offers(request, session, user, page=page)


def _form_tiers(form: dict[str, str]) -> tuple[list[dict[str, str]], list[int]]:
    """Filled tier rows as dicts, and each one's row index on the form."""
    tiers: list[dict[str, str]] = []
    rows: list[int] = []
    for index in range(MAX_TIERS):
        minimum = form.get(f"tiers.{index}.min_quantity", "").strip()
        price = form.get(f"tiers.{index}.unit_price", "").strip()
        if minimum or price:
            tiers.append({"min_quantity": minimum, "unit_price": price})
            rows.append(index)
    return tiers, rows


def _row_errors(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Error keys for compacted tiers ("tiers.1.unit_price") back to their form rows."""
    mapped: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".")
        if (
            parts[0] == "tiers"
            and len(parts) >= 2
            and parts[1].isdigit()
            and int(parts[1]) < len(rows)
        ):
            parts[1] = str(rows[int(parts[1])])
            key = ".".join(parts)
            if len(parts) == 2:
                key = f"{key}.min_quantity"
        elif key == "tiers":
            key = "tiers.0.min_quantity"
        mapped.setdefault(key, message)
    return mapped


def _offer_data(form: dict[str, str], *, editing: bool) -> tuple[dict[str, Any], list[int]]:
    data: dict[str, Any] = {}
    for name in ("category", "title", "description", "unit", "lead_time_days", "valid_from"):
        value = form.get(name, "").strip()
        if value or (name == "description" and editing):
            data[name] = value
    for name in ("capacity", "valid_until"):
        value = form.get(name, "").strip()
        if value:
            data[name] = value
        elif editing:
            data[name] = None  # blank on the edit form clears it
    tiers, rows = _form_tiers(form)
    data["tiers"] = tiers
    return data, rows


class NewOfferForm(OfferCreate):
    """The new-offer form: flat fields and numbered tier rows, read as an ``OfferCreate``."""

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, form: dict[str, str]) -> dict[str, Any]:
        return _offer_data(form, editing=False)[0]


class OfferEditForm(OfferUpdate):
    """The edit form, read as an ``OfferUpdate`` (a blank optional field clears it)."""

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, form: dict[str, str]) -> dict[str, Any]:
        return _offer_data(form, editing=True)[0]


class FixedCategoryEditForm(OfferUpdate):
    """The edit form of an offer whose category may no longer change."""

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, form: dict[str, str]) -> dict[str, Any]:
        data = _offer_data(form, editing=True)[0]
        data.pop("category", None)
        return data


def _form_page(
    request: Request,
    session: SessionDep,
    *,
    form: dict[str, Any],
    errors: dict[str, str],
    offer: Any = None,
) -> Response:
    rows = max(TIER_ROWS, len([k for k in form if k.endswith(".min_quantity")]))
    return render(
        request,
        "catalogue/pages/offer_form.html",
        {
            "form": form,
            "errors": errors,
            "offer": offer,
            "tier_rows": min(rows, MAX_TIERS),
            **_reference_context(session),
        },
        status_code=422 if errors else 200,
    )


@router.get("/my-offers/new", response_class=HTMLResponse)
def new_offer_page(request: Request, session: SessionDep, user: ProviderPage) -> Response:
    """The form for a new offer."""
    return _form_page(request, session, form={"lead_time_days": "10"}, errors={})


@router.post("/my-offers/new", response_class=HTMLResponse)
async def create_offer(request: Request, session: SessionDep, user: ProviderPage) -> Response:
    """Save a new draft offer from the form."""
    return await form_action(request, session, FormAction(
        model=NewOfferForm,
        run=lambda data: service.create_offer(session, user, data=data),
        page=lambda errors, form: _form_page(
            request, session, form=form, errors=_row_errors(errors, _form_tiers(form)[1])
        ),
        done=lambda _offer: "/my-offers",
        message=lambda _offer: "Offer created.",
    ))


def _edit_form(offer: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "category": offer.category,
        "title": offer.title,
        "description": offer.description,
        "unit": offer.unit,
        "capacity": "" if offer.capacity is None else f"{offer.capacity.normalize():f}",
        "lead_time_days": str(offer.lead_time_days),
        "valid_from": offer.valid_from.isoformat(),
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else "",
    }
    for index, tier in enumerate(offer.tiers):
        form[f"tiers.{index}.min_quantity"] = f"{tier.min_quantity.normalize():f}"
        form[f"tiers.{index}.unit_price"] = f"{tier.unit_price:.2f}"
    return form


def _own_offer(session: SessionDep, user: User, offer_id: int) -> Any:
    return offer_reads.offer_read(session, service.get_own_offer(session, user, offer_id))


@router.get("/my-offers/{offer_id}/edit", response_class=HTMLResponse)
def edit_offer_page(
    request: Request, session: SessionDep, user: ProviderPage, offer_id: Id
) -> Response:
    """The form to change an offer."""
    offer = _own_offer(session, user, offer_id)
    return _form_page(request, session, form=_edit_form(offer), errors={}, offer=offer)


@router.post("/my-offers/{offer_id}/edit", response_class=HTMLResponse)
async def edit_offer(
    request: Request, session: SessionDep, user: ProviderPage, offer_id: Id
) -> Response:
    """Save changes; new rates on a published offer make a new version."""
    offer = _own_offer(session, user, offer_id)
    return await form_action(request, session, FormAction(
        # A published offer's category is fixed: a stale one on the form is left out.
        model=OfferEditForm if policy.can_change_category(offer) else FixedCategoryEditForm,
        run=lambda data: service.update_offer(session, user, offer_id, data=data),
        page=lambda errors, form: _form_page(
            request, session, form=form, errors=_row_errors(errors, _form_tiers(form)[1]),
            offer=offer,
        ),
        done=lambda _offer: "/my-offers",
        message=lambda _offer: "Offer updated.",
    ))


def _status_change(
    request: Request, session: SessionDep, user: User, offer_id: int, *,
    change: Callable[[Session, User, int], Offer], done: str,
) -> FormAction[NoFields, Offer]:
    """Publish or withdraw from the list; a refusal is shown on the offer's row."""
    return FormAction(
        model=NoFields,
        run=lambda _none: change(session, user, offer_id),
        page=lambda errors, _form: _my_offers(
            request, session, user, error=next(iter(errors.values())), offer_id=offer_id
        ),
        done=lambda _offer: "/my-offers",
        message=lambda _offer: f"Offer {done}.",
    )


@router.post("/my-offers/{offer_id}/publish", response_class=HTMLResponse)
async def publish_offer(
    request: Request, session: SessionDep, user: ProviderPage, offer_id: Id
) -> Response:
    """Publish a draft; a refusal is shown on the offer's row of the list."""
    return await form_action(request, session, _status_change(
        request, session, user, offer_id, change=service.publish_offer, done="published"
    ))


@router.post("/my-offers/{offer_id}/withdraw", response_class=HTMLResponse)
async def withdraw_offer(
    request: Request, session: SessionDep, user: ProviderPage, offer_id: Id
) -> Response:
    """Withdraw an offer; a refusal is shown on the offer's row of the list."""
    return await form_action(request, session, _status_change(
        request, session, user, offer_id, change=service.withdraw_offer, done="withdrawn"
    ))
