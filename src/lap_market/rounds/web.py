"""Pages for demand rounds: the list (and opening one), the officer's round page with the
response grid, reminders, extension and pooling, and the borough's round page with its
lines, CSV import, confirmation, nil return and its own estimated saving."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from lap_market.accounts.deps import SettingsDep, web_role
from lap_market.accounts.models import Role, User
from lap_market.catalogue.models import Category
from lap_market.clock import LONDON, clock
from lap_market.db import SessionDep
from lap_market.demand import csv_import
from lap_market.demand import service as demand_service
from lap_market.demand.csv_import import CsvInvalid
from lap_market.demand.schemas import DemandCreate
from lap_market.errors import DomainError, Invalid, PayloadTooLarge
from lap_market.rounds import estimate, grid, policy, returns, service, tendering
from lap_market.rounds.schemas import RoundConfirm, RoundCreate, RoundExtend
from lap_market.templating import render
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors, domain_form_errors, parse_form

router = web_router()
Reader = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER, Role.BOROUGH_MANAGER))]
Officer = Annotated[User, Depends(web_role(Role.PROCUREMENT_OFFICER))]
Manager = Annotated[User, Depends(web_role(Role.BOROUGH_MANAGER))]
LABELS = {
    "title": "Title", "categories": "Categories", "term_start": "Term starts",
    "term_end": "Term ends", "closes_at": "Closes at", "guidance": "Guidance",
    "reason": "Reason", "service": "Service and unit", "quantity": "Quantity",
    "start_date": "Service starts", "end_date": "Service ends", "file": "CSV file",
    "budget_reference": "Budget reference", "lines": "Lines", "responses": "Responses",
}
DONE = {
    "opened": "The round is open and the boroughs have been invited.",
    "reminded": "The boroughs that have not confirmed have been reminded.",
    "extended": "The close has been moved and the boroughs told.",
    "tendered": "The confirmed lines have been pooled into a draft tender.",
    "line": "The line has been added; confirm your return again when it is complete.",
    "imported": "The file's lines have been added; confirm your return again when complete.",
    "withdrawn": "The line has been withdrawn; confirm your return again.",
    "confirmed": "Your return is confirmed.", "nil": "Your nil return is recorded.",
}


def _london(value: str) -> datetime | str:
    """A ``datetime-local`` value is London wall-clock time; anything else is left for the
    schema to refuse, naming the field."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


def _form(raw: Any) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def _list_page(request: Request, session: Session, user: User, *, status_code: int = 200,
               **extra: Any) -> Response:
    rounds = grid.summaries(session, user, service.list_rounds(session, user))
    categories = [(c.code, c.name)
                  for c in session.exec(select(Category).order_by(col(Category.id))).all()]
    context = {"page_title": "Demand rounds", "rounds": rounds, "categories": categories,
               "errors": {}, "form": {}, "chosen": [], "labels": LABELS,
               "is_officer": policy.is_officer(user), **extra}
    return render(request, "rounds/pages/list.html", context, status_code=status_code)


@router.get("/rounds", response_class=HTMLResponse)
def rounds_list(request: Request, session: SessionDep, user: Reader) -> Response:
    """Rounds the user may see; officers open new ones here."""
    return _list_page(request, session, user)


@router.post("/rounds", response_class=HTMLResponse)
async def open_round(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Open a round from the form (all boroughs invited)."""
    raw = await request.form()
    form, chosen = _form(raw), [v for v in raw.getlist("categories") if isinstance(v, str)]
    data: dict[str, Any] = {**form, "categories": chosen}
    if form.get("closes_at"):
        data["closes_at"] = _london(form["closes_at"])
    try:
        round_ = service.open_round(session, officer, data=parse_form(RoundCreate, data))
    except FormErrors as exc:
        return _list_page(request, session, officer, status_code=422, errors=_first(exc.errors),
                          form=form, chosen=chosen)
    except DomainError as exc:
        session.rollback()
        return _list_page(request, session, officer, status_code=exc.status_code,
                          errors=domain_form_errors(exc), form=form, chosen=chosen)
    return RedirectResponse(f"/rounds/{round_.id}?done=opened", status_code=303)


def _first(errors: dict[str, str]) -> dict[str, str]:
    """``categories.0`` and the like belong to their field."""
    merged: dict[str, str] = {}
    for name, message in errors.items():
        merged.setdefault(name.split(".")[0], message)
    return merged


def _round_page(request: Request, session: Session, user: User, round_id: int, *,
                status_code: int = 200, **extra: Any) -> Response:
    round_ = service.get_round(session, user, round_id)
    now = clock.now()
    context: dict[str, Any] = {
        "page_title": f"{round_.reference} {round_.title}",
        "round": grid.round_read(session, user, round_),
        "estimate": estimate.estimate(session, user, round_),
        "is_officer": policy.is_officer(user), "can_remind": policy.can_remind(round_, now),
        "can_extend": policy.can_extend(round_, now),
        "can_aggregate": policy.can_aggregate(round_, now),
        "is_open": policy.is_open(round_, now),
        "done": DONE.get(request.query_params.get("done", "")),
        "errors": {}, "form": {}, "labels": LABELS, "row_errors": [],
        "header": ",".join(csv_import.HEADER), **extra,
    }
    if policy.is_manager(user):
        index = demand_service.unit_index(session)
        context["lines"] = demand_service.demand_reads(
            session, grid.own_lines(session, user, round_id))
        context["options"] = [
            (f"{u.category_code}:{u.code}", f"{u.category_name} – {u.name}")
            for u in sorted(index.units.values(), key=lambda u: (u.category_id, u.id))
            if u.category_code in context["round"].categories
        ]
    return render(request, "rounds/pages/round.html", context, status_code=status_code)


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, session: SessionDep, user: Reader, round_id: int) -> Response:
    """The officer's grid and actions, or the borough's return."""
    return _round_page(request, session, user, round_id)


def _act(request: Request, session: Session, user: User, round_id: int, done: str,
         action: Callable[[], object], form: dict[str, Any] | None = None) -> Response:
    """Run one service call; on a refusal show the page with the message beside its field."""
    try:
        action()
    except FormErrors as exc:
        return _round_page(request, session, user, round_id, status_code=422,
                           errors=_first(exc.errors), form=form or {})
    except CsvInvalid as exc:
        session.rollback()
        return _round_page(request, session, user, round_id, status_code=422,
                           errors={"file": exc.detail}, row_errors=exc.errors[:200])
    except DomainError as exc:
        session.rollback()
        errors = domain_form_errors(exc)
        if "category" in errors or "unit" in errors:
            errors = {"service": errors.get("category") or errors["unit"]}
        return _round_page(request, session, user, round_id, status_code=exc.status_code,
                           errors=errors, form=form or {})
    return RedirectResponse(f"/rounds/{round_id}?done={done}", status_code=303)


@router.post("/rounds/{round_id}/remind", response_class=HTMLResponse)
def remind(request: Request, session: SessionDep, officer: Officer, round_id: int) -> Response:
    return _act(request, session, officer, round_id, "reminded",
                lambda: service.remind(session, officer, round_id))


@router.post("/rounds/{round_id}/extend", response_class=HTMLResponse)
async def extend(request: Request, session: SessionDep, officer: Officer,
                 round_id: int) -> Response:
    form = _form(await request.form())
    data: dict[str, Any] = {**form, "closes_at": _london(form.get("closes_at", ""))}

    def run() -> None:
        service.extend(session, officer, round_id, data=parse_form(RoundExtend, data))

    return _act(request, session, officer, round_id, "extended", run, form)


@router.post("/rounds/{round_id}/aggregate", response_class=HTMLResponse)
def aggregate(request: Request, session: SessionDep, officer: Officer, round_id: int) -> Response:
    return _act(request, session, officer, round_id, "tendered",
                lambda: tendering.aggregate_round(session, officer, round_id))


@router.post("/rounds/{round_id}/lines", response_class=HTMLResponse)
async def add_line(request: Request, session: SessionDep, manager: Manager,
                   round_id: int) -> Response:
    form = _form(await request.form())
    data: dict[str, Any] = dict(form)
    category, _, unit = data.pop("service", "").partition(":")
    data.update(category=category, unit=unit, round_id=round_id)

    def run() -> None:
        try:
            parsed = parse_form(DemandCreate, data)
        except FormErrors as exc:
            if "category" in exc.errors or "unit" in exc.errors:
                exc.errors["service"] = "Choose a service and unit"
            raise
        demand_service.create_demand(session, manager, data=parsed)

    return _act(request, session, manager, round_id, "line", run, form)


@router.post("/rounds/{round_id}/lines/import", response_class=HTMLResponse)
async def import_lines(request: Request, session: SessionDep, manager: Manager,
                       settings: SettingsDep, round_id: int) -> Response:
    upload = (await request.form()).get("file")
    body = await upload.read(settings.max_upload_bytes + 1) if isinstance(
        upload, UploadFile) and upload.filename else None

    def run() -> None:
        if body is None:
            raise Invalid("Choose a CSV file to upload.", field="file")
        if len(body) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file")
        csv_import.import_demands(session, manager, body=body, settings=settings,
                                  round_id=round_id)

    return _act(request, session, manager, round_id, "imported", run)


@router.post("/rounds/{round_id}/lines/{demand_id}/withdraw", response_class=HTMLResponse)
def withdraw_line(request: Request, session: SessionDep, manager: Manager, round_id: int,
                  demand_id: int) -> Response:
    return _act(request, session, manager, round_id, "withdrawn",
                lambda: service.withdraw_line(session, manager, round_id, demand_id))


@router.post("/rounds/{round_id}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: SessionDep, manager: Manager,
                  round_id: int) -> Response:
    form = _form(await request.form())

    def run() -> None:
        parsed = parse_form(RoundConfirm, form)
        returns.confirm_return(session, manager, round_id,
                               budget_reference=parsed.budget_reference)

    return _act(request, session, manager, round_id, "confirmed", run, form)


@router.post("/rounds/{round_id}/nil-return", response_class=HTMLResponse)
def nil_return(request: Request, session: SessionDep, manager: Manager,
               round_id: int) -> Response:
    return _act(request, session, manager, round_id, "nil",
                lambda: returns.declare_nil_return(session, manager, round_id))
