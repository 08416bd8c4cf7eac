"""Pages for demand: a borough's "our needs" and the officer's demand pipeline."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from lap_market.accounts import service as accounts
from lap_market.accounts.deps import SettingsDep, web_role
from lap_market.accounts.models import OrgKind, Role, User
from lap_market.db import SessionDep
from lap_market.demand import csv_import, service
from lap_market.demand.csv_import import CsvInvalid
from lap_market.demand.models import DemandStatus
from lap_market.demand.schemas import DemandCreate, DemandFilters
from lap_market.errors import DomainError, PayloadTooLarge
from lap_market.primitives import Id
from lap_market.templating import render
from lap_market.web.deps import web_router
from lap_market.web.forms import (
    FormErrors,
    domain_form_errors,
    page_number,
    parse_form,
    parse_query,
)

router = web_router()
Manager = Annotated[User, Depends(web_role(Role.BOROUGH_MANAGER))]
Officer = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER))]
PAGE_SIZE = 50
MAX_ERRORS_SHOWN = 200
LABELS = {
    "service": "Service and unit", "quantity": "Quantity", "start_date": "Service starts",
    "end_date": "Service ends", "needed_by": "Needed by", "specification": "Specification",
    "budget_ceiling": "Budget ceiling", "file": "CSV file",
}


def service_options(index: service.UnitIndex) -> list[tuple[str, str]]:
    """One choice per category and unit ("storage:box_year"), so no script is needed."""
    return [
        (f"{u.category_code}:{u.code}", f"{u.category_name} – {u.name}")
        for u in sorted(index.units.values(), key=lambda u: (u.category_id, u.id))
    ]


def _needs_page(
    request: Request, session: Session, manager: User, *, status_code: int = 200, **extra: Any
) -> Response:
    page = page_number(request)
    demands, total = service.list_demands(
        session, manager, filters=DemandFilters(), page=page, page_size=PAGE_SIZE
    )
    index = service.unit_index(session)
    context: dict[str, Any] = {
        "page_title": "Our needs",
        "organisation": accounts.get_organisation(session, manager.organisation_id),
        "demands": service.demand_reads(session, demands),
        "total": total, "page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "counts": service.status_counts(session, manager),
        "options": service_options(index), "units": index.by_id,
        "errors": {}, "form": {}, "labels": LABELS, "row_errors": [], "row_error_total": 0,
        "header": ",".join(csv_import.HEADER),
        "created": request.query_params.get("created"),
        "imported": request.query_params.get("imported"),
        "withdrawn": request.query_params.get("withdrawn"),
        **extra,
    }
    return render(request, "demand/pages/needs.html", context, status_code=status_code)


@router.get("/needs", response_class=HTMLResponse)
def needs(request: Request, session: SessionDep, manager: Manager) -> Response:
    """The borough's needs: raise one, upload a CSV, see each line's status."""
    return _needs_page(request, session, manager)


@router.post("/needs", response_class=HTMLResponse)
async def raise_need(request: Request, session: SessionDep, manager: Manager) -> Response:
    """Raise one need from the form."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    data = dict(form)
    category, _, unit = data.pop("service", "").partition(":")
    data.update(category=category, unit=unit)
    try:
        parsed = parse_form(DemandCreate, data)
        demand = service.create_demand(session, manager, data=parsed)
    except FormErrors as exc:
        return _needs_page(request, session, manager, status_code=422,
                           errors=_service_field(exc.errors), form=form)
    except DomainError as exc:
        session.rollback()
        return _needs_page(request, session, manager, status_code=exc.status_code,
                           errors=_service_field(domain_form_errors(exc)), form=form)
    return RedirectResponse(f"/needs?created={demand.id}", status_code=303)


def _service_field(errors: dict[str, str]) -> dict[str, str]:
    """Category and unit are one choice on the form."""
    merged: dict[str, str] = {}
    for name, message in errors.items():
        if name in ("category", "unit"):
            merged.setdefault("service", "Choose a service and unit" if "required" in message
                              or "at least 1" in message else message)
        else:
            merged[name] = message
    return merged


@router.post("/needs/import", response_class=HTMLResponse)
async def import_needs(
    request: Request, session: SessionDep, manager: Manager, settings: SettingsDep
) -> Response:
    """Raise every row of an uploaded CSV file, or none and a table of the bad rows."""
    upload = (await request.form()).get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _needs_page(request, session, manager, status_code=422,
                               errors={"file": "Choose a CSV file to upload"})
        body = await upload.read(settings.max_upload_bytes + 1)
        if len(body) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file"
            )
        ids = csv_import.import_demands(session, manager, body=body, settings=settings)
    except CsvInvalid as exc:
        session.rollback()
        return _needs_page(
            request, session, manager, status_code=422, errors={"file": exc.detail},
            row_errors=exc.errors[:MAX_ERRORS_SHOWN], row_error_total=len(exc.errors),
        )
    except DomainError as exc:
        session.rollback()
        return _needs_page(request, session, manager, status_code=exc.status_code,
                           errors={"file": exc.detail})
    return RedirectResponse(f"/needs?imported={len(ids)}", status_code=303)


@router.post("/needs/{demand_id}/withdraw", response_class=HTMLResponse)
def withdraw_need(
    request: Request, session: SessionDep, manager: Manager, demand_id: Id
) -> Response:
    """Withdraw one of the borough's submitted needs."""
    service.withdraw_demand(session, manager, demand_id)
    return RedirectResponse(f"/needs?withdrawn={demand_id}", status_code=303)


@router.get("/pipeline", response_class=HTMLResponse)
def pipeline(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Every borough's demand: filters, totals per category and unit, the lines."""
    params = request.query_params
    filters = parse_query(DemandFilters, {
        "category": params.get("category") or None, "unit": params.get("unit") or None,
        "status": params.get("status") or None, "borough": params.get("borough") or None,
    })
    page = page_number(request)
    errors: dict[str, str] = {}
    try:
        summary = service.pipeline_summary(session, officer, filters=filters)
        demands, total = service.list_demands(
            session, officer, filters=filters, page=page, page_size=PAGE_SIZE
        )
    except DomainError as exc:
        errors = domain_form_errors(exc)
        summary, demands, total = [], [], 0
    index = service.unit_index(session)
    chosen = {k: v for k, v in filters.model_dump().items() if v}
    preview_query = urlencode(
        {k: v for k, v in chosen.items() if k in ("category", "unit")}
    )
    context = {
        "page_title": "Demand pipeline",
        "filters": filters, "errors": errors, "summary": summary,
        "demands": service.demand_reads(session, demands), "total": total, "page": page,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "categories": [(code, name) for code, (_id, name) in index.categories.items()],
        "unit_options": sorted({(u.code, u.name) for u in index.by_id.values()}),
        "statuses": [(s.value, s.value.replace("_", " ").capitalize()) for s in DemandStatus],
        "boroughs": [(o.gss_code, o.name) for o in accounts.list_organisations(
            session, kind=OrgKind.BOROUGH)],
        "query": urlencode(chosen), "preview_query": preview_query,
    }
    return render(request, "demand/pages/pipeline.html", context, block="results",
                  status_code=422 if errors else 200)
