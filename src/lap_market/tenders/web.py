"""Tender pages for officers (the workspace) and boroughs (their tenders). Every action
calls the same services as the API; providers' pages are in ``opportunities_web``."""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts.deps import SettingsDep, WebUser
from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.db import SessionDep
from lap_market.money import from_pence
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id
from lap_market.rounds.grid import rounds_for_tenders
from lap_market.templating import is_htmx, render
from lap_market.tenders import cancellation, evaluation, questions, service
from lap_market.tenders.models import TenderStatus
from lap_market.tenders.opportunities_web import router as opportunities_router
from lap_market.tenders.policy import can_evaluate, is_officer, is_provider
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import (
    AmendmentCreate,
    AnswerCreate,
    AwardIn,
    ReasonIn,
    ScoreIn,
    TenderUpdate,
)
from lap_market.tenders.web_forms import (
    london_input,
    parse_local,
    run_action,
    supplier_names,
    validate_form,
)
from lap_market.web.deps import web_router
from lap_market.web.forms import FormErrors

router = web_router()
router.include_router(opportunities_router)
STATUSES = [s.value for s in TenderStatus]
PAGE_SIZE = 50


# --- officer and borough: the tender list and workspace -----------------------------------


@router.get("/tenders", response_class=HTMLResponse)
def tender_list(
    request: Request,
    session: SessionDep,
    user: WebUser,
    status: str | None = None,
    page: PageNumber = 1,
) -> Response:
    """Officers: every tender; boroughs: tenders holding their demand; a page at a time."""
    if is_provider(user):
        return RedirectResponse("/opportunities", status_code=303)
    status = status if status in STATUSES else None
    tenders, total = service.page_tenders(
        session, user, status=status, page=page, page_size=PAGE_SIZE
    )
    now = clock.now()

    def page_url(number: int) -> str:
        return "/tenders?" + urlencode({**({"status": status} if status else {}), "page": number})

    return render(
        request,
        "tenders/pages/list.html",
        {
            "tenders": tenders,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "page_url": page_url,
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
    if officer and can_evaluate(tender):
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
            "demand_round": rounds_for_tenders(session, [tender.id]).get(tender.id),  # type: ignore[list-item, arg-type]
        },
        block=block,
        status_code=status_code,
    )


@router.get("/tenders/{tender_id}", response_class=HTMLResponse)
def workspace(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: Id
) -> Response:
    """The officer's workspace, or a borough's read-only view."""
    if is_provider(user):
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
    except FormErrors as exc:
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
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: Id
) -> Response:
    """Save the draft's details."""
    form = dict(await request.form())

    def act() -> None:
        data = validate_form(
            TenderUpdate,
            {
                "title": form.get("title", ""),
                "description": form.get("description", ""),
                "price_weight": form.get("price_weight", ""),
                "quality_weight": form.get("quality_weight", ""),
                "clarification_deadline": parse_local(str(form.get("clarification_deadline", ""))),
                "submission_deadline": parse_local(str(form.get("submission_deadline", ""))),
            },
            "",
        )
        run_action(session, "", lambda: service.update_tender(session, user, tender_id, data=data))

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#details"
    )


@router.post("/tenders/{tender_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: Id
) -> Response:
    """Publish the draft."""
    return _officer_action(
        request,
        session,
        settings,
        user,
        tender_id,
        {},
        lambda: run_action(session, "", lambda: service.publish_tender(session, user, tender_id)),
    )


@router.post("/tenders/{tender_id}/amendments", response_class=HTMLResponse)
async def amend(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: Id
) -> Response:
    """Issue an amendment."""
    form = dict(await request.form())

    def act() -> None:
        data = validate_form(
            AmendmentCreate,
            {
                "reason": form.get("amend_reason", ""),
                "description": form.get("amend_description", ""),
                "clarification_deadline": parse_local(
                    str(form.get("amend_clarification_deadline", ""))
                ),
                "submission_deadline": parse_local(str(form.get("amend_submission_deadline", ""))),
            },
            "amend_",
        )
        run_action(
            session, "amend_", lambda: service.amend_tender(session, user, tender_id, data=data)
        )

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#amendments"
    )


@router.post("/tenders/{tender_id}/questions/{question_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: Id,
    question_id: Id,
) -> Response:
    """Answer a clarification question."""
    form = dict(await request.form())
    prefix = f"answer_{question_id}_"

    def act() -> None:
        data = validate_form(AnswerCreate, {"answer": form.get(prefix + "answer", "")}, prefix)
        run_action(
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
    tender_id: Id,
    bid_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """Score a bid in place (HTMX swaps the evaluation section)."""
    form = dict(await request.form())
    prefix = f"score_{bid_id}_"

    def act() -> None:
        data = validate_form(
            ScoreIn, {"quality_score": form.get(prefix + "quality_score", "")}, prefix
        )
        run_action(
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
    tender_id: Id,
    lot_id: Id,
) -> Response:
    """Award a lot."""
    form = dict(await request.form())
    prefix = f"award_{lot_id}_"

    def act() -> None:
        data = validate_form(
            AwardIn,
            {"bid_id": form.get(prefix + "bid_id", ""), "reason": form.get(prefix + "reason", "")},
            prefix,
        )
        run_action(
            session,
            prefix,
            lambda: evaluation.award_lot(
                session, user, tender_id, lot_id, data=data, settings=settings
            ),
        )

    return _officer_action(
        request, session, settings, user, tender_id, form, act, anchor="#evaluation"
    )


async def _reason_action(
    request: Request,
    session: SessionDep,
    settings: Settings,
    user: User,
    tender_id: int,
    prefix: str,
    act: Callable[[str], Any],
    *,
    anchor: str = "",
) -> Response:
    """A workspace form that gives one written reason (cancel, revoke, unsuccessful)."""
    form = dict(await request.form())
    reason = str(form.get(prefix + "reason", ""))

    def checked() -> Any:
        if reason.strip():  # a blank reason gets the service's own message
            validate_form(ReasonIn, {"reason": reason}, prefix)
        return run_action(session, prefix, lambda: act(reason))

    return _officer_action(
        request, session, settings, user, tender_id, form, checked, anchor=anchor
    )


@router.post("/tenders/{tender_id}/lots/{lot_id}/unsuccessful", response_class=HTMLResponse)
async def unsuccessful(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: Id,
    lot_id: Id,
) -> Response:
    """Mark a lot with no bids unsuccessful."""
    return await _reason_action(
        request,
        session,
        settings,
        user,
        tender_id,
        f"unsuccessful_{lot_id}_",
        lambda reason: evaluation.mark_unsuccessful(
            session, user, tender_id, lot_id, reason=reason
        ),
        anchor="#evaluation",
    )


@router.post("/tenders/{tender_id}/lots/{lot_id}/cancel", response_class=HTMLResponse)
async def cancel_lot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    tender_id: Id,
    lot_id: Id,
) -> Response:
    """Cancel one lot."""
    return await _reason_action(
        request,
        session,
        settings,
        user,
        tender_id,
        f"cancel_lot_{lot_id}_",
        lambda reason: cancellation.cancel_lot(session, user, tender_id, lot_id, reason=reason),
        anchor="#lots",
    )


@router.post("/tenders/{tender_id}/cancel", response_class=HTMLResponse)
async def cancel_tender(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, tender_id: Id
) -> Response:
    """Cancel the whole tender."""
    return await _reason_action(
        request,
        session,
        settings,
        user,
        tender_id,
        "cancel_",
        lambda reason: cancellation.cancel_tender(session, user, tender_id, reason=reason),
    )


@router.post("/awards/{award_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, session: SessionDep, settings: SettingsDep, user: WebUser, award_id: Id
) -> Response:
    """Revoke an award during standstill."""
    award_row = evaluation.get_award(session, user, award_id)
    return await _reason_action(
        request,
        session,
        settings,
        user,
        award_row.tender_id,
        f"revoke_{award_id}_",
        lambda reason: evaluation.revoke_award(session, user, award_id, reason=reason),
        anchor="#evaluation",
    )


@router.get("/tenders/{tender_id}/lots/{lot_id}/evaluation.csv")
def evaluation_csv(session: SessionDep, user: WebUser, tender_id: Id, lot_id: Id) -> Response:
    """Every bid of the lot with its scores, for the record."""
    body = evaluation.evaluation_csv(session, user, tender_id, lot_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evaluation-{tender_id}-lot-{lot_id}.csv"'
        },
    )
