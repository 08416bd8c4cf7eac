"""Pages for demand rounds: the list (and opening one), the officer's round page with the
response grid, reminders, extension and pooling, and the borough's round page with its
lines, CSV import, confirmation, nil return and its own estimated saving."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, field_validator
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from lap_market.accounts.deps import SettingsDep, web_role
from lap_market.accounts.models import Role, User
from lap_market.catalogue.models import Category
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.db import SessionDep, in_worker_thread
from lap_market.demand import csv_import, reads
from lap_market.demand import service as demand_service
from lap_market.demand.csv_import import CsvInvalid
from lap_market.demand.schemas import DemandCreate
from lap_market.errors import Invalid, PayloadTooLarge
from lap_market.modeling import pk
from lap_market.rounds import estimate, grid, policy, returns, service, tendering
from lap_market.rounds.models import DemandRound
from lap_market.rounds.schemas import RoundConfirm, RoundCreate, RoundExtend
from lap_market.templating import render
from lap_market.web.actions import (
    FormAction,
    NoFields,
    attempt,
    form_action,
    perform,
    read_form,
    redirect,
)
from lap_market.web.deps import web_router
from lap_market.web.forms import london_local, parse_form

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


class _RoundCreateForm(RoundCreate):
    """The page's form: the close is a ``datetime-local`` value in London time."""

    @field_validator("closes_at", mode="before")
    @classmethod
    def _in_london(cls, value: object) -> object:
        return london_local(value)


class _RoundExtendForm(RoundExtend):
    """The page's form: the new close is a ``datetime-local`` value in London time."""

    @field_validator("closes_at", mode="before")
    @classmethod
    def _in_london(cls, value: object) -> object:
        return london_local(value)


@router.post("/rounds", response_class=HTMLResponse)
async def open_round(request: Request, session: SessionDep, officer: Officer) -> Response:
    """Open a round from the form (all boroughs invited)."""
    # Categories are ticked boxes: several values under one name, which the form dict drops.
    chosen = [v for v in (await request.form()).getlist("categories") if isinstance(v, str)]

    def run(form: dict[str, str]) -> DemandRound:
        data = parse_form(_RoundCreateForm, {**form, "categories": chosen})
        return service.open_round(session, officer, data=data)

    form = await read_form(request)
    return await perform(request, session, FormAction(
        model=NoFields,
        run=lambda _: run(form),
        page=lambda errors, form: _list_page(request, session, officer, errors=_first(errors),
                                             form=form, chosen=chosen),
        done=lambda round_: f"/rounds/{pk(round_)}",
        message=lambda _: DONE["opened"],
    ), form)


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
        "errors": {}, "form": {}, "labels": LABELS, "row_errors": [],
        "header": ",".join(csv_import.HEADER), **extra,
    }
    if policy.is_manager(user):
        index = demand_service.unit_index(session)
        context["lines"] = reads.demand_reads(
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


def _page_errors(errors: dict[str, str], form: dict[str, str]) -> dict[str, str]:
    """Errors as the round page names its fields: ``categories.0`` belongs to ``categories``,
    and a refused category or unit to the one "Service and unit" choice."""
    errors = _first(errors)
    category, unit = errors.pop("category", None), errors.pop("unit", None)
    if category or unit:
        chosen = ":" in form.get("service", "")
        errors["service"] = (category or unit or "") if chosen else "Choose a service and unit"
    return errors


def _act(
    request: Request, session: Session, user: User, round_id: int, done: str,
    run: Callable[[Any], object], model: type[BaseModel] = NoFields,
) -> FormAction[Any, object]:
    """A round page action: on a refusal the page again with the message beside its field,
    else back to the round with what was done."""
    return FormAction(
        model=model,
        run=run,
        page=lambda errors, form: _round_page(request, session, user, round_id,
                                              errors=_page_errors(errors, form), form=form),
        done=lambda _: f"/rounds/{round_id}",
        message=lambda _: DONE[done],
    )


@router.post("/rounds/{round_id}/remind", response_class=HTMLResponse)
async def remind(request: Request, session: SessionDep, officer: Officer,
                 round_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, officer, round_id, "reminded",
        lambda _: service.remind(session, officer, round_id)))


@router.post("/rounds/{round_id}/extend", response_class=HTMLResponse)
async def extend(request: Request, session: SessionDep, officer: Officer,
                 round_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, officer, round_id, "extended",
        lambda data: service.extend(session, officer, round_id, data=data),
        model=_RoundExtendForm))


@router.post("/rounds/{round_id}/aggregate", response_class=HTMLResponse)
async def aggregate(request: Request, session: SessionDep, officer: Officer,
                    round_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, officer, round_id, "tendered",
        lambda _: tendering.aggregate_round(session, officer, round_id)))


def _line(form: dict[str, str], round_id: int) -> DemandCreate:
    """The line form as a demand: "Service and unit" is one ``category:unit`` choice."""
    data: dict[str, Any] = dict(form)
    category, _, unit = data.pop("service", "").partition(":")
    data.update(category=category, unit=unit, round_id=round_id)
    return parse_form(DemandCreate, data)


@router.post("/rounds/{round_id}/lines", response_class=HTMLResponse)
async def add_line(request: Request, session: SessionDep, manager: Manager,
                   round_id: int) -> Response:
    form = await read_form(request)
    return await perform(request, session, _act(
        request, session, manager, round_id, "line",
        lambda _: demand_service.create_demand(session, manager, data=_line(form, round_id)),
    ), form)


def _import(session: Session, manager: User, settings: Settings, round_id: int,
            body: bytes | None) -> None:
    if body is None:
        raise Invalid("Choose a CSV file to upload.", field="file")
    if len(body) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is over the {settings.max_upload_bytes:,}-byte limit.", field="file")
    csv_import.import_demands(session, manager, body=body, settings=settings, round_id=round_id)


@router.post("/rounds/{round_id}/lines/import", response_class=HTMLResponse)
async def import_lines(request: Request, session: SessionDep, manager: Manager,
                       settings: SettingsDep, round_id: int) -> Response:
    """A file upload, so not a FormAction: a bad file lists its rows beside the error."""
    upload = (await request.form()).get("file")
    body = await upload.read(settings.max_upload_bytes + 1) if isinstance(
        upload, UploadFile) and upload.filename else None

    def imported() -> Response:
        tried = attempt(session, lambda: _import(session, manager, settings, round_id, body))
        if tried.refusal is not None:
            rows = tried.refusal.errors[:200] if isinstance(tried.refusal, CsvInvalid) else []
            return _round_page(request, session, manager, round_id, status_code=422,
                               errors=tried.errors, row_errors=rows)
        return redirect(f"/rounds/{round_id}", DONE["imported"])

    return await in_worker_thread(imported)


@router.post("/rounds/{round_id}/lines/{demand_id}/withdraw", response_class=HTMLResponse)
async def withdraw_line(request: Request, session: SessionDep, manager: Manager, round_id: int,
                        demand_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, manager, round_id, "withdrawn",
        lambda _: service.withdraw_line(session, manager, round_id, demand_id)))


@router.post("/rounds/{round_id}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: SessionDep, manager: Manager,
                  round_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, manager, round_id, "confirmed",
        lambda data: returns.confirm_return(session, manager, round_id,
                                            budget_reference=data.budget_reference),
        model=RoundConfirm))


@router.post("/rounds/{round_id}/nil-return", response_class=HTMLResponse)
async def nil_return(request: Request, session: SessionDep, manager: Manager,
                     round_id: int) -> Response:
    return await form_action(request, session, _act(
        request, session, manager, round_id, "nil",
        lambda _: returns.declare_nil_return(session, manager, round_id)))
