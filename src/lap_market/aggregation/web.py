"""Pages for aggregation: the preview of lots and savings, and a draft's lot editor."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from lap_market.accounts.deps import web_role
from lap_market.accounts.models import Role, User
from lap_market.aggregation import service
from lap_market.aggregation.schemas import AggregateRequest, LotEdit, LotMove
from lap_market.db import SessionDep
from lap_market.demand import service as demand_service
from lap_market.errors import DomainError
from lap_market.primitives import Id
from lap_market.templating import is_htmx, render
from lap_market.tenders.models import Tender, TenderStatus
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors, domain_form_errors, parse_form, validation_messages

router = web_router()
Officer = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER))]
FILTER_FIELDS = ("category", "unit", "needed_by_from", "needed_by_to", "title")
LABELS = {
    "category": "Category",
    "unit": "Unit",
    "needed_by_from": "Needed by, from",
    "needed_by_to": "Needed by, to",
    "title": "Tender title",
    "demand": "Demand",
}


def _filter_form(session: Session) -> dict[str, Any]:
    index = demand_service.unit_index(session)
    return {
        "categories": [(code, name) for code, (_id, name) in index.categories.items()],
        "unit_options": sorted({(u.code, u.name) for u in index.by_id.values()}),
    }


def _preview_page(
    request: Request,
    session: Session,
    officer: User,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    preview = None
    if not errors:
        try:
            filters = parse_form(AggregateRequest, form)
            preview = service.preview_aggregation(session, officer, filters=filters)
        except FormErrors as exc:
            errors = exc.errors
        except DomainError as exc:
            errors = domain_form_errors(exc)
    context = {
        "page_title": "Preview aggregation",
        "form": form,
        "errors": errors,
        "labels": LABELS,
        "preview": preview,
        **_filter_form(session),
    }
    if errors and status_code == 200:
        status_code = 422
    return render(request, "aggregation/pages/preview.html", context, status_code=status_code)


@router.get("/pipeline/aggregate", response_class=HTMLResponse)
def preview(request: Request, session: SessionDep, officer: Officer) -> Response:
    """The lots and savings pooling the matching submitted demand would give; nothing is
    written until the officer creates the draft."""
    form = {k: request.query_params.get(k, "") for k in FILTER_FIELDS}
    return _preview_page(request, session, officer, form, {})


@router.post("/pipeline/aggregate", response_class=HTMLResponse)
async def create_draft(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Create the draft tender the preview showed, then open its lot editor."""
    raw = await request.form()
    form = {k: str(raw.get(k, "")) for k in FILTER_FIELDS}
    try:
        tender = service.aggregate_demand(
            session, officer, filters=parse_form(AggregateRequest, form)
        )
    except FormErrors as exc:
        return _preview_page(request, session, officer, form, exc.errors, 422)
    except DomainError as exc:
        session.rollback()
        return _preview_page(
            request, session, officer, form, domain_form_errors(exc), exc.status_code
        )
    return RedirectResponse(f"/tenders/{tender.id}/lots?created=1", status_code=303)


def _editor(
    request: Request,
    session: Session,
    officer: User,
    tender: Tender,
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    plans = service.tender_lot_plans(session, tender)
    units = {p.unit.id: p.unit for p in plans}
    context = {
        "page_title": f"Lots of {tender.reference}",
        "tender": tender,
        "lots": plans,
        "units": units,
        "editable": tender.status == TenderStatus.DRAFT,
        "errors": errors or {},
        "message": message,
        "created": request.query_params.get("created"),
        "moved": request.query_params.get("moved"),
        "totals": service.Preview(lots=plans),
    }
    return render(
        request, "aggregation/pages/lots.html", context, block="editor", status_code=status_code
    )


@router.get("/tenders/{tender_id}/lots", response_class=HTMLResponse)
def lot_editor(request: Request, session: SessionDep, officer: Officer, tender_id: Id) -> Response:
    """A draft's lots, each demand line with a choice of where it goes."""
    return _editor(request, session, officer, service.get_draft(session, officer, tender_id))


@router.post("/tenders/{tender_id}/lots", response_class=HTMLResponse)
async def save_lots(
    request: Request, session: SessionDep, officer: Officer, tender_id: Id
) -> Response:
    """Apply the moves chosen in the editor; figures are recomputed."""
    tender = service.get_draft(session, officer, tender_id)
    raw = await request.form()
    moves: list[dict[str, Any]] = []
    for key, value in raw.items():
        if not key.startswith("move-") or not isinstance(value, str):
            continue
        current = raw.get(f"current-{key.removeprefix('move-')}")
        if value == current:
            continue
        to_lot: Any = None if value == "out" else ("new" if value == "new" else value)
        moves.append({"demand_id": key.removeprefix("move-"), "to_lot": to_lot})
    if not moves:
        return _editor(request, session, officer, tender, message="Nothing was moved.")
    try:
        data = LotEdit(moves=[LotMove.model_validate(m) for m in moves])
        service.edit_lots(session, officer, tender_id, data=data)
    except ValidationError as exc:
        return _editor(
            request, session, officer, tender, errors=validation_messages(exc), status_code=422
        )
    except DomainError as exc:
        session.rollback()
        return _editor(
            request,
            session,
            officer,
            service.get_draft(session, officer, tender_id),
            errors=domain_form_errors(exc),
            status_code=exc.status_code,
        )
    count = len(moves)
    message = f"{count} line{'s' if count != 1 else ''} moved; the figures are recomputed."
    if not is_htmx(request):
        return RedirectResponse(f"/tenders/{tender_id}/lots?moved={count}", status_code=303)
    session.refresh(tender)
    return _editor(request, session, officer, tender, message=message)


@router.post("/tenders/{tender_id}/lots/delete", response_class=HTMLResponse)
def delete_draft(session: SessionDep, officer: Officer, tender_id: Id) -> Response:
    """Delete the draft; its demand goes back to the pipeline."""
    service.delete_draft(session, officer, tender_id)
    return RedirectResponse("/pipeline?status=submitted", status_code=303)
