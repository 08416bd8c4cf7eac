"""Pages for demand: a borough's "our needs" and the officer's demand pipeline."""

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from lap_market.accounts import service as accounts
from lap_market.accounts.deps import SettingsDep, web_role
from lap_market.accounts.models import OrgKind, Role, User
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.db import SessionDep, in_worker_thread
from lap_market.demand import csv_import, policy, reads, service
from lap_market.demand.csv_import import CsvInvalid
from lap_market.demand.models import Demand, DemandStatus
from lap_market.demand.schemas import DemandFilters, NeedForm
from lap_market.errors import PayloadTooLarge
from lap_market.primitives import Id
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, attempt, checked, form_action, redirect
from lap_market.web.deps import web_router
from lap_market.web.forms import page_number, parse_query

router = web_router()
Manager = Annotated[User, Depends(web_role(Role.BOROUGH_MANAGER))]
Officer = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER))]
Viewer = Annotated[User, Depends(web_role(Role.BOROUGH_MANAGER, Role.PROCUREMENT_OFFICER))]
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


CARRIED = ("quantity", "start_date", "end_date")


def carried_form(request: Request, index: service.UnitIndex) -> dict[str, str]:
    """The need form pre-filled from the compare page, an offer or a quote (query string)."""
    params = request.query_params
    form = {name: (params.get(name) or "").strip()[:30] for name in CARRIED}
    category, unit = params.get("category") or "", params.get("unit") or ""
    if (category, unit) in index.units:
        form["service"] = f"{category}:{unit}"
    return {k: v for k, v in form.items() if v}


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
        "demands": reads.demand_reads(session, demands),
        "total": total, "page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "counts": reads.status_counts(session, manager),
        "options": service_options(index), "units": index.by_id, "index": index,
        "errors": {}, "form": carried_form(request, index), "labels": LABELS,
        "row_errors": [], "row_error_total": 0, "header": ",".join(csv_import.HEADER),
        **extra,
    }
    return render(request, "demand/pages/needs.html", context, status_code=status_code)


@router.get("/needs", response_class=HTMLResponse)
def needs(request: Request, session: SessionDep, manager: Manager) -> Response:
    """The borough's needs: raise one, upload a CSV, see each line's status."""
    return _needs_page(request, session, manager)


def describe(session: Session, demand: Demand) -> str:
    """A need as its borough knows it: "D12: 120 linear metre per year of Archive storage,
    1 April 2027 to 31 March 2030"."""
    unit = service.unit_index(session).by_id[demand.unit_id]
    quantity = Decimal(demand.quantity).normalize()
    return (f"D{demand.id}: {quantity:,f} {unit.name} of {unit.category_name}, "
            f"{demand.start_date:%-d %B %Y} to {demand.end_date:%-d %B %Y}")


@router.post("/needs", response_class=HTMLResponse)
async def raise_need(request: Request, session: SessionDep, manager: Manager) -> Response:
    """Raise one need from the form, then show it with a receipt."""
    return await form_action(request, session, FormAction(
        model=NeedForm,
        run=lambda data: service.create_demand(session, manager, data=data.to_create()),
        page=lambda errors, form: _needs_page(
            request, session, manager, errors=_service_field(errors), form=form),
        done=lambda demand: f"/needs/{demand.id}",
        message=lambda demand: f"Need raised: {describe(session, demand)}. "
                               "The partnership can now pool it into a joint tender.",
    ))


def _service_field(errors: dict[str, str]) -> dict[str, str]:
    """Category and unit are one choice on the form."""
    merged: dict[str, str] = {}
    for name, message in errors.items():
        if name in ("category", "unit", "service"):
            merged.setdefault("service", "Choose a service and unit" if "required" in message
                              or "at least" in message else message)
        else:
            merged[name] = message
    return merged


@router.post("/needs/import", response_class=HTMLResponse)
async def import_needs(
    request: Request, session: SessionDep, manager: Manager, settings: SettingsDep
) -> Response:
    """Raise every row of an uploaded CSV file, or none and a table of the bad rows.

    A file upload cannot go through FormAction (its form is text only), so this route
    answers with ``refused`` and ``redirect`` from the same module."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await in_worker_thread(lambda: _needs_page(
            request, session, manager, status_code=422,
            errors={"file": "Choose a CSV file to upload"}))
    body = await upload.read(settings.max_upload_bytes + 1)
    return await in_worker_thread(lambda: _imported(request, session, manager, settings,
                                                    upload.filename or "", body))


def _imported(request: Request, session: Session, manager: User, settings: Settings,
              filename: str, body: bytes) -> Response:
    """The import's outcome page: the needs raised, or the file's refusals."""
    tried = attempt(session, lambda: _import(session, manager, settings, body))
    if isinstance(tried.refusal, CsvInvalid):
        rows = tried.refusal.errors
        return _needs_page(
            request, session, manager, status_code=422, errors={"file": tried.refusal.detail},
            row_errors=rows[:MAX_ERRORS_SHOWN], row_error_total=len(rows),
        )
    if tried.refusal is not None or tried.result is None:
        status = tried.refusal.status_code if tried.refusal else 422
        return _needs_page(request, session, manager, status_code=status, errors=tried.errors)
    ids = tried.result
    lines = f"{len(ids):,} need{'s' if len(ids) != 1 else ''}"
    return redirect("/needs", f"{lines} raised from {filename} "
                              f"(D{ids[0]} to D{ids[-1]}).")


def _import(session: Session, manager: User, settings: Settings, body: bytes) -> list[int]:
    if len(body) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file"
        )
    return csv_import.import_demands(session, manager, body=body, settings=settings)


@router.get("/demands/import/template.csv")
def import_template(session: SessionDep, _manager: Manager) -> Response:
    """A CSV file with the header and one example row per category, to fill in."""
    return Response(
        csv_import.template(service.unit_index(session), clock.today()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="needs-template.csv"'},
    )


# --- one need -------------------------------------------------------------------------------


def _need_page(
    request: Request, session: Session, user: User, demand_id: int,
    errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
) -> Response:
    demand = service.get_demand(session, user, demand_id)
    index = service.unit_index(session)
    read = reads.demand_reads(session, [demand])[0]
    stored = {
        "service": f"{read.category}:{read.unit}", "quantity": f"{read.quantity.normalize():f}",
        "start_date": read.start_date.isoformat(), "end_date": read.end_date.isoformat(),
        "needed_by": read.needed_by.isoformat() if read.needed_by else "",
        "specification": read.specification,
        "budget_ceiling": f"{read.budget_ceiling:.2f}" if read.budget_ceiling else "",
    }
    return render(request, "demand/pages/need.html", {
        "page_title": f"Need D{demand.id}", "demand": read,
        "unit": index.by_id[demand.unit_id],
        "history": reads.demand_history(session, user, demand),
        "can_change": policy.can_change(user, demand), "options": service_options(index),
        "back": ("/needs", "our needs") if policy.sees_only_own(user)
        else ("/pipeline", "the demand pipeline"),
        "errors": errors or {}, "form": form if form is not None else stored, "labels": LABELS,
    }, status_code=422 if errors else 200)


@router.get("/needs/{demand_id}", response_class=HTMLResponse)
def need_page(request: Request, session: SessionDep, user: Viewer, demand_id: Id) -> Response:
    """One need: its specification, budget, term, status and history; editable until pooled."""
    return _need_page(request, session, user, demand_id)


@router.post("/needs/{demand_id}", response_class=HTMLResponse)
async def edit_need(
    request: Request, session: SessionDep, manager: Manager, demand_id: Id
) -> Response:
    """Save the changed need (every field is on the form, so each is sent)."""
    return await form_action(request, session, FormAction(
        model=NeedForm,
        run=lambda data: service.update_demand(
            session, manager, demand_id, data=data.to_update()),
        page=lambda errors, form: _need_page(
            request, session, manager, demand_id, _service_field(errors), form),
        done=lambda demand: f"/needs/{demand.id}",
        message=lambda demand: f"Need changed: {describe(session, demand)}.",
    ))


@router.post("/needs/{demand_id}/withdraw", response_class=HTMLResponse)
async def withdraw_need(
    request: Request, session: SessionDep, manager: Manager, demand_id: Id
) -> Response:
    """Withdraw one of the borough's submitted needs."""
    return await form_action(request, session, FormAction(
        model=NoFields,
        run=lambda _data: service.withdraw_demand(session, manager, demand_id),
        page=lambda errors, _form: _needs_page(request, session, manager, errors=errors),
        done=lambda _demand: "/needs",
        message=lambda demand: f"Need withdrawn: {describe(session, demand)}.",
    ))


@router.get("/pipeline", response_class=HTMLResponse)
def pipeline(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Every borough's demand: filters, totals per category and unit, the lines."""
    params = request.query_params
    filters = parse_query(DemandFilters, {
        "category": params.get("category") or None, "unit": params.get("unit") or None,
        "status": params.get("status") or None, "borough": params.get("borough") or None,
    })
    page = page_number(request)
    found, errors = checked(lambda: (
        reads.pipeline_summary(session, officer, filters=filters),
        service.list_demands(session, officer, filters=filters, page=page, page_size=PAGE_SIZE),
    ))
    summary, (demands, total) = found or ([], ([], 0))
    index = service.unit_index(session)
    chosen = {k: v for k, v in filters.model_dump().items() if v}
    preview_query = urlencode(
        {k: v for k, v in chosen.items() if k in ("category", "unit")}
    )
    context = {
        "page_title": "Demand pipeline",
        "filters": filters, "errors": errors, "summary": summary,
        "demands": reads.demand_reads(session, demands), "total": total, "page": page,
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
