"""Tender pages: the officer's workspace, the provider's opportunities, the borough's view,
and notifications. Every action calls the same services as the API."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import col, select

from lap_market.accounts.deps import SettingsDep, WebUser
from lap_market.accounts.models import Organisation, Role, User
from lap_market.clock import as_utc, clock
from lap_market.config import Settings
from lap_market.db import SessionDep
from lap_market.errors import DomainError, Forbidden, NotFound
from lap_market.money import from_pence
from lap_market.templating import is_htmx, render
from lap_market.tenders import bids, evaluation, notifications, questions, service
from lap_market.tenders.models import Award, Tender, TenderStatus
from lap_market.tenders.policy import is_officer
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import (
    AmendmentCreate,
    AnswerCreate,
    AwardIn,
    BidIn,
    QuestionCreate,
    ScoreIn,
    TenderUpdate,
)
from lap_market.web.deps import web_router
from lap_market.web.forms import validation_messages

router = web_router()
LONDON = ZoneInfo("Europe/London")
STATUSES = [s.value for s in TenderStatus]


class FormProblem(Exception):
    """A form that failed: errors keyed by the page's (prefixed) field names."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form problem")
        self.errors = errors


def london_input(value: datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` value in London time."""
    if value is None:
        return ""
    return as_utc(value).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _parse_local(value: str) -> str | None:
    """A ``datetime-local`` value (London time) as an ISO UTC string."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema names the field and the problem
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(ZoneInfo("UTC")).isoformat()


def _validate(model: type[BaseModel], data: dict[str, Any], prefix: str) -> Any:
    cleaned = {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        raise FormProblem({prefix + k: v for k, v in validation_messages(exc).items()}) from exc


def _run(session: SessionDep, prefix: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        key = prefix + exc.field if exc.field else prefix + "form"
        raise FormProblem({key: exc.detail}) from exc


def supplier_names(session: SessionDep, awards: dict[int, Award]) -> dict[int, str]:
    ids = {a.supplier_id for a in awards.values()}
    if not ids:
        return {}
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    return {o.id: o.name for o in rows}  # type: ignore[misc]


# --- officer and borough: the tender list and workspace -----------------------------------


@router.get("/tenders", response_class=HTMLResponse)
def tender_list(
    request: Request, session: SessionDep, user: WebUser, status: str | None = None
) -> Response:
    """Officers: every tender; boroughs: tenders holding their demand."""
    if user.role == Role.PROVIDER:
        return RedirectResponse("/opportunities", status_code=303)
    status = status if status in STATUSES else None
    tenders = service.list_tenders(session, user, status=status)
    now = clock.now()
    return render(
        request,
        "tenders/pages/list.html",
        {
            "tenders": tenders,
            "status": status or "",
            "statuses": STATUSES,
            "effective": {t.id: effective_status(t, now) for t in tenders},
        },
        block="results",
    )


def _workspace(
    request: Request,
    session: SessionDep,
    user: User,
    settings: Settings,
    tender_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    tender = service.get_tender(session, user, tender_id)
    view = service.view_tender(session, user, tender, settings)
    officer = is_officer(user)
    status = view.status
    lots = service.tender_lots(session, tender)
    evaluations: dict[int, Any] = {}
    awards = evaluation.lot_awards(session, tender)
    if officer and status not in (
        TenderStatus.DRAFT,
        TenderStatus.PUBLISHED,
        TenderStatus.CANCELLED,
    ):
        for lot in lots:
            evaluations[lot.id] = evaluation.evaluation_rows(session, tender, lot)  # type: ignore[index]
    return render(
        request,
        "tenders/pages/workspace.html",
        {
            "tender": tender,
            "view": view,
            "status": status,
            "officer": officer,
            "lots": lots,
            "questions": questions.question_reads(session, user, tender),
            "evaluations": evaluations,
            "awards": awards,
            "award_prices": {k: from_pence(a.unit_price_pence) for k, a in awards.items()},
            "suppliers": supplier_names(session, awards),
            "standstill_preview": evaluation.standstill_end_if_awarded_today(settings),
            "standstill_days": settings.standstill_working_days,
            "errors": errors or {},
            "form": form or {},
            "clar_input": london_input(tender.clarification_deadline),
            "sub_input": london_input(tender.submission_deadline),
        },
        block=block,
        status_code=status_code,
    )


@router.get("/tenders/{tender_id}", response_class=HTMLResponse)
def workspace(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """The officer's workspace, or a borough's read-only view."""
    if user.role == Role.PROVIDER:
        return RedirectResponse(f"/opportunities/{tender_id}", status_code=303)
    return _workspace(request, session, user, settings, tender_id)


def _officer_action(
    request: Request,
    session: SessionDep,
    settings: Settings,
    user: User,
    tender_id: int,
    form: dict[str, Any],
    action: Callable[[], Any],
    *,
    anchor: str = "",
    block: str | None = None,
) -> Response:
    try:
        action()
    except FormProblem as exc:
        session.rollback()
        return _workspace(
            request,
            session,
            user,
            settings,
            tender_id,
            errors=exc.errors,
            form=form,
            block=block,
            status_code=422,
        )
    if block and is_htmx(request):
        return _workspace(request, session, user, settings, tender_id, block=block)
    return RedirectResponse(f"/tenders/{tender_id}{anchor}", status_code=303)


@router.post("/tenders/{tender_id}/edit", response_class=HTMLResponse)
async def edit_tender(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """Save the draft's details."""
    form = dict(await request.form())

    def act() -> None:
        data = _validate(
            TenderUpdate,
            {
                "title": form.get("title", ""),
                "description": form.get("description", ""),
                "price_weight": form.get("price_weight", ""),
                "quality_weight": form.get("quality_weight", ""),
                "clarification_deadline": _parse_local(str(form.get("clarification_deadline", ""))),
                "submission_deadline": _parse_local(str(form.get("submission_deadline", ""))),
            },
            "",
        )
        _run(session, "", lambda: service.update_tender(session, user, tender_id, data=data))

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#details"
    )


@router.post("/tenders/{tender_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """Publish the draft."""
    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        {},
        lambda: _run(session, "", lambda: service.publish_tender(session, user, tender_id)),
    )


@router.post("/tenders/{tender_id}/amendments", response_class=HTMLResponse)
async def amend(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """Issue an amendment."""
    form = dict(await request.form())

    def act() -> None:
        data = _validate(
            AmendmentCreate,
            {
                "reason": form.get("amend_reason", ""),
                "description": form.get("amend_description", ""),
                "clarification_deadline": _parse_local(
                    str(form.get("amend_clarification_deadline", ""))
                ),
                "submission_deadline": _parse_local(str(form.get("amend_submission_deadline", ""))),
            },
            "amend_",
        )
        _run(session, "amend_", lambda: service.amend_tender(session, user, tender_id, data=data))

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#amendments"
    )


@router.post("/tenders/{tender_id}/questions/{question_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    question_id: int,
) -> Response:
    """Answer a clarification question."""
    form = dict(await request.form())
    prefix = f"answer_{question_id}_"

    def act() -> None:
        data = _validate(AnswerCreate, {"answer": form.get(prefix + "answer", "")}, prefix)
        _run(
            session,
            prefix,
            lambda: questions.answer_question(session, user, tender_id, question_id, data=data),
        )

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#questions"
    )


@router.post("/tenders/{tender_id}/bids/{bid_id}/score", response_class=HTMLResponse)
async def score(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    bid_id: int,
) -> Response:
    """Score a bid in place (HTMX swaps the evaluation section)."""
    form = dict(await request.form())
    prefix = f"score_{bid_id}_"

    def act() -> None:
        data = _validate(ScoreIn, {"quality_score": form.get(prefix + "quality_score", "")}, prefix)
        _run(
            session,
            prefix,
            lambda: evaluation.score_bid(session, user, bid_id, quality_score=data.quality_score),
        )

    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        form,
        act,
        anchor="#evaluation",
        block="evaluation",
    )


@router.post("/tenders/{tender_id}/lots/{lot_id}/award", response_class=HTMLResponse)
async def award(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    lot_id: int,
) -> Response:
    """Award a lot."""
    form = dict(await request.form())
    prefix = f"award_{lot_id}_"

    def act() -> None:
        data = _validate(
            AwardIn,
            {"bid_id": form.get(prefix + "bid_id", ""), "reason": form.get(prefix + "reason", "")},
            prefix,
        )
        _run(
            session,
            prefix,
            lambda: evaluation.award_lot(
                session, user, tender_id, lot_id, data=data, settings=settings
            ),
        )

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#evaluation"
    )


@router.post("/tenders/{tender_id}/lots/{lot_id}/unsuccessful", response_class=HTMLResponse)
async def unsuccessful(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    lot_id: int,
) -> Response:
    """Mark a lot with no bids unsuccessful."""
    form = dict(await request.form())
    prefix = f"unsuccessful_{lot_id}_"
    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        form,
        lambda: _run(
            session,
            prefix,
            lambda: evaluation.mark_unsuccessful(
                session, user, tender_id, lot_id, reason=str(form.get(prefix + "reason", ""))
            ),
        ),
        anchor="#evaluation",
    )


@router.post("/tenders/{tender_id}/lots/{lot_id}/cancel", response_class=HTMLResponse)
async def cancel_lot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    lot_id: int,
) -> Response:
    """Cancel one lot."""
    form = dict(await request.form())
    prefix = f"cancel_lot_{lot_id}_"
    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        form,
        lambda: _run(
            session,
            prefix,
            lambda: service.cancel_lot(
                session, user, tender_id, lot_id, reason=str(form.get(prefix + "reason", ""))
            ),
        ),
        anchor="#lots",
    )


@router.post("/tenders/{tender_id}/cancel", response_class=HTMLResponse)
async def cancel_tender(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """Cancel the whole tender."""
    form = dict(await request.form())
    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        form,
        lambda: _run(
            session,
            "cancel_",
            lambda: service.cancel_tender(
                session, user, tender_id, reason=str(form.get("cancel_reason", ""))
            ),
        ),
    )


@router.post("/awards/{award_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, award_id: int
) -> Response:
    """Revoke an award during standstill."""
    form = dict(await request.form())
    award_row = evaluation.get_award(session, user, award_id)
    prefix = f"revoke_{award_id}_"
    return _officer_action(
        request,
        session,
        settings,
        user,
        award_row.tender_id,
        form,
        lambda: _run(
            session,
            prefix,
            lambda: evaluation.revoke_award(
                session, user, award_id, reason=str(form.get(prefix + "reason", ""))
            ),
        ),
        anchor="#evaluation",
    )


@router.get("/tenders/{tender_id}/lots/{lot_id}/evaluation.csv")
def evaluation_csv(session: SessionDep, user: WebUser, tender_id: int, lot_id: int) -> Response:
    """Every bid of the lot with its scores, for the record."""
    body = evaluation.evaluation_csv(session, user, tender_id, lot_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evaluation-{tender_id}-lot-{lot_id}.csv"'
        },
    )


# --- providers: opportunities ----------------------------------------------------------------


@router.get("/opportunities", response_class=HTMLResponse)
def opportunities(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Open tenders with their deadlines, and the provider's past ones."""
    if user.role != Role.PROVIDER:
        return RedirectResponse("/tenders", status_code=303)
    now = clock.now()
    tenders = service.list_tenders(session, user)
    open_ = [t for t in tenders if effective_status(t, now) == TenderStatus.PUBLISHED]
    past = [t for t in tenders if effective_status(t, now) != TenderStatus.PUBLISHED]
    return render(
        request,
        "tenders/pages/opportunities.html",
        {
            "open": open_,
            "past": past,
            "effective": {t.id: effective_status(t, now) for t in tenders},
            "unread": notifications.unread_count(session, user),
        },
    )


def _opportunity(
    request: Request,
    session: SessionDep,
    settings: Settings,
    user: User,
    tender_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    tender: Tender = service.get_tender(session, user, tender_id)
    view = service.view_tender(session, user, tender, settings)
    now = clock.now()
    awards = evaluation.lot_awards(session, tender)
    mine = bids.own_bids(session, user, tender)
    return render(
        request,
        "tenders/pages/opportunity.html",
        {
            "bid_price_inputs": {
                lot_id: f"{from_pence(b.unit_price_pence):.2f}"
                for lot_id, b in mine.items()
                if b.status == "active"
            },
            "tender": tender,
            "view": view,
            "status": view.status,
            "questions": questions.question_reads(session, user, tender),
            "mine": mine,
            "awards": awards,
            "award_prices": {k: from_pence(a.unit_price_pence) for k, a in awards.items()},
            "suppliers": supplier_names(session, awards),
            "can_ask": view.status == TenderStatus.PUBLISHED
            and tender.clarification_deadline is not None
            and as_utc(tender.clarification_deadline) > now,
            "errors": errors or {},
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get("/opportunities/{tender_id}", response_class=HTMLResponse)
def opportunity(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """A tender as providers see it: lots, bid forms, amendments and answers."""
    if user.role != Role.PROVIDER:
        return RedirectResponse(f"/tenders/{tender_id}", status_code=303)
    return _opportunity(request, session, settings, user, tender_id)


def _provider_action(
    request: Request,
    session: SessionDep,
    settings: Settings,
    user: User,
    tender_id: int,
    form: dict[str, Any],
    action: Callable[[], Any],
    anchor: str,
) -> Response:
    try:
        action()
    except FormProblem as exc:
        session.rollback()
        return _opportunity(
            request,
            session,
            settings,
            user,
            tender_id,
            errors=exc.errors,
            form=form,
            status_code=422,
        )
    return RedirectResponse(f"/opportunities/{tender_id}{anchor}", status_code=303)


@router.post("/opportunities/{tender_id}/questions", response_class=HTMLResponse)
async def ask(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: int
) -> Response:
    """Ask a clarification question."""
    form = dict(await request.form())

    def act() -> None:
        data = _validate(QuestionCreate, {"question": form.get("question", "")}, "")
        _run(session, "", lambda: questions.ask_question(session, user, tender_id, data=data))

    return _provider_action(request, session, settings, user, tender_id, form, act, "#questions")


@router.post("/opportunities/{tender_id}/lots/{lot_id}/bid", response_class=HTMLResponse)
async def put_bid(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    lot_id: int,
) -> Response:
    """Submit or replace the organisation's bid for a lot."""
    form = dict(await request.form())
    prefix = f"bid_{lot_id}_"

    def act() -> None:
        data = _validate(
            BidIn,
            {
                "unit_price": form.get(prefix + "unit_price", ""),
                "quality_statement": form.get(prefix + "quality_statement", ""),
            },
            prefix,
        )
        _run(session, prefix, lambda: bids.submit_bid(session, user, tender_id, lot_id, data=data))

    return _provider_action(
        request, session, settings, user, tender_id, form, act, f"#lot-{lot_id}"
    )


@router.post("/opportunities/{tender_id}/lots/{lot_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: int,
    lot_id: int,
) -> Response:
    """Withdraw the organisation's bid for a lot."""
    form = dict(await request.form())
    prefix = f"bid_{lot_id}_"
    return _provider_action(
        request,
        session,
        settings,
        user,
        tender_id,
        form,
        lambda: _run(session, prefix, lambda: bids.withdraw_bid(session, user, tender_id, lot_id)),
        f"#lot-{lot_id}",
    )


# --- notifications ----------------------------------------------------------------------------


@router.get("/notifications", response_class=HTMLResponse)
def notification_list(request: Request, session: SessionDep, user: WebUser) -> Response:
    """The organisation's notifications, newest first."""
    return render(
        request,
        "tenders/pages/notifications.html",
        {
            "notifications": notifications.list_notifications(session, user),
        },
        block="results",
    )


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def notification_read(
    request: Request, session: SessionDep, user: WebUser, notification_id: int
) -> Response:
    """Mark a notification read."""
    notifications.mark_read(session, user, notification_id)
    if is_htmx(request):
        return notification_list(request, session, user)
    return RedirectResponse("/notifications", status_code=303)
