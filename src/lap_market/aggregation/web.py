"""Pages for aggregation: the preview of lots and savings, and a draft's lot editor."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from lap_market.accounts.deps import web_role
from lap_market.accounts.models import Role, User
from lap_market.aggregation import lots, service
from lap_market.aggregation.planning import Line, LotPlan
from lap_market.aggregation.policy import can_edit_lots
from lap_market.aggregation.schemas import AggregateRequest, EditorForm
from lap_market.db import SessionDep
from lap_market.demand import service as demand_service
from lap_market.primitives import Id
from lap_market.templating import render
from lap_market.tenders.models import Tender
from lap_market.web.actions import Errors, Form, FormAction, NoFields, attempt, form_action
from lap_market.web.deps import web_router
from lap_market.web.forms import page_number, parse_form

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


def _preview(
    session: Session, officer: User, form: Form
) -> tuple[service.Preview | None, Errors]:
    """The preview for the filters on the form, or the errors that prevent one."""
    tried = attempt(session, lambda: service.preview_aggregation(
        session, officer, filters=parse_form(AggregateRequest, form)))
    return tried.result, tried.errors


def _preview_page(
    request: Request, session: Session, officer: User, form: Form, errors: Errors
) -> Response:
    form = {k: form.get(k, "") for k in FILTER_FIELDS}
    preview = None
    if not errors:
        preview, errors = _preview(session, officer, form)
    context = {
        "page_title": "Preview aggregation",
        "form": form,
        "errors": errors,
        "labels": LABELS,
        "preview": preview,
        **_filter_form(session),
    }
    status_code = 422 if errors else 200
    return render(request, "aggregation/pages/preview.html", context, status_code=status_code)


@router.get("/pipeline/aggregate", response_class=HTMLResponse)
def preview(request: Request, session: SessionDep, officer: Officer) -> Response:
    """The lots and savings pooling the matching submitted demand would give; nothing is
    written until the officer creates the draft."""
    form = {k: request.query_params.get(k, "") for k in FILTER_FIELDS}
    return _preview_page(request, session, officer, form, {})


def _created(pooling: service.Pooling) -> str:
    count = sum(len(plan.lines) for plan in pooling.plans)
    return (
        f"Draft tender {pooling.tender.reference} holds {count} pooled "
        f"need{'s' if count != 1 else ''} in {len(pooling.lots)} "
        f"lot{'s' if len(pooling.lots) != 1 else ''}. Check the lots below before publishing."
    )


@router.post("/pipeline/aggregate", response_class=HTMLResponse)
async def create_draft(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Create the draft tender the preview showed, then open its lot editor."""
    return await form_action(request, session, FormAction(
        model=AggregateRequest,
        run=lambda data: service.pool_demand(session, officer, filters=data),
        page=lambda errors, form: _preview_page(request, session, officer, form, errors),
        done=lambda pooling: f"/tenders/{pooling.tender.id}/lots",
        message=_created,
    ))


# A pooled draft can hold 33,000 lines: each lot shows a page of them (with a choice of lot
# beside each), so the page stays a few hundred rows whatever the draft's size.
LINES_PER_PAGE = 100


@dataclass
class LinePage:
    lines: list[Line]
    page: int
    pages: int
    choices: list[int]  # the lots a line of this lot may move to (same category and unit)


def _line_pages(request: Request, plans: list[LotPlan]) -> dict[int, LinePage]:
    """The lines each lot shows: page 1, or the page asked for (``?lot=N&page=P``)."""
    raw_lot = request.query_params.get("lot", "")
    asked_lot = int(raw_lot) if raw_lot.isdigit() and len(raw_lot) <= 6 else None
    asked_page = page_number(request)
    shown = {}
    for plan in plans:
        pages = max(1, -(-len(plan.lines) // LINES_PER_PAGE))
        page = min(asked_page, pages) if plan.number == asked_lot else 1
        start = (page - 1) * LINES_PER_PAGE
        shown[plan.number] = LinePage(
            lines=plan.lines[start:start + LINES_PER_PAGE], page=page, pages=pages,
            choices=[p.number for p in plans if p.unit.id == plan.unit.id],
        )
    return shown


def _editor(
    request: Request,
    session: Session,
    tender: Tender,
    *,
    errors: Errors | None = None,
    message: str | None = None,
) -> Response:
    plans = lots.tender_lot_plans(session, tender)
    context = {
        "page_title": f"Lots of {tender.reference}",
        "tender": tender,
        "lots": plans,
        "shown": _line_pages(request, plans),
        "per_page": LINES_PER_PAGE,
        "editable": can_edit_lots(tender),
        "errors": errors or {},
        "message": message,
        "totals": service.Preview(lots=plans),
    }
    return render(
        request, "aggregation/pages/lots.html", context, block="editor",
        status_code=422 if errors else 200,
    )


@router.get("/tenders/{tender_id}/lots", response_class=HTMLResponse)
def lot_editor(request: Request, session: SessionDep, officer: Officer, tender_id: Id) -> Response:
    """A draft's lots, each demand line with a choice of where it goes."""
    return _editor(request, session, service.get_draft(session, officer, tender_id))


def _moved(count: int) -> str:
    if not count:
        return "Nothing was moved."
    return f"{count} line{'s' if count != 1 else ''} moved; the figures are recomputed."


def _save(session: Session, officer: User, tender_id: int, data: EditorForm) -> int:
    """Apply the editor's moves (none is fine: nothing changes); how many lines moved."""
    if data.moves:
        lots.edit_lots(session, officer, tender_id, data=data.as_edit())
    return len(data.moves)


@router.post("/tenders/{tender_id}/lots", response_class=HTMLResponse)
async def save_lots(
    request: Request, session: SessionDep, officer: Officer, tender_id: Id
) -> Response:
    """Apply the moves chosen in the editor; figures are recomputed."""
    service.get_draft(session, officer, tender_id)  # 404 before reading the form

    def again(errors: Errors, _form: Form) -> Response:
        return _editor(request, session, service.get_draft(session, officer, tender_id),
                       errors=errors)

    def in_place(count: int) -> Response:
        tender = service.get_draft(session, officer, tender_id)
        session.refresh(tender)
        return _editor(request, session, tender, message=_moved(count))

    return await form_action(request, session, FormAction(
        model=EditorForm,
        run=lambda data: _save(session, officer, tender_id, data),
        page=again,
        done=lambda _count: f"/tenders/{tender_id}/lots",
        message=_moved,
        fragment=in_place,
    ))


@router.post("/tenders/{tender_id}/lots/delete", response_class=HTMLResponse)
async def delete_draft(
    request: Request, session: SessionDep, officer: Officer, tender_id: Id
) -> Response:
    """Delete the draft; its demand goes back to the pipeline."""
    tender = service.get_draft(session, officer, tender_id)
    reference = tender.reference
    return await form_action(request, session, FormAction(
        model=NoFields,
        run=lambda _data: service.delete_draft(session, officer, tender_id),
        page=lambda errors, _form: _editor(
            request, session, service.get_draft(session, officer, tender_id), errors=errors
        ),
        done=lambda _none: "/pipeline?status=submitted",
        message=lambda _none: f"Draft tender {reference} was deleted; its needs are back in "
        "the pipeline.",
    ))
