"""Tender pages for officers (the workspace) and boroughs (their tenders). Every action goes
through ``lap_market.web.actions.FormAction`` and calls the same services as the API; the
irreversible ones (publish, award, revoke, cancel) have a confirmation page first. Providers'
pages are in ``opportunities_web``; the confirmation pages' contents in ``confirmations``."""

from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts.deps import WebUser
from lap_market.accounts.policy import is_borough_manager
from lap_market.clock import clock, format_london
from lap_market.db import SessionDep
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id
from lap_market.rounds.grid import rounds_for_tenders
from lap_market.templating import render
from lap_market.tenders import (
    awards,
    cancellation,
    declarations,
    drafting,
    evaluation,
    questions,
    service,
)
from lap_market.tenders import confirmations as confirm
from lap_market.tenders.models import Lot, Tender, TenderStatus
from lap_market.tenders.opportunities_web import router as opportunities_router
from lap_market.tenders.policy import (
    can_evaluate,
    is_officer,
    is_provider,
    lot_display_status,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import AwardIn, DeclarationForm, MitigationIn
from lap_market.tenders.web_forms import (
    AmendmentForm,
    AnswerForm,
    LotScoresForm,
    ReasonForm,
    TenderDetailsForm,
    london_input,
    lot_label,
    supplier_names,
    workspace_labels,
)
from lap_market.web.actions import Errors, Form, FormAction, NoFields
from lap_market.web.deps import WebCall, WebCallDep, web_router

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
    if is_provider(user) and not is_borough_manager(user):  # a selling borough buys here too
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
            "borough": is_borough_manager(user),
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "page_url": page_url,
            "status": status or "",
            "statuses": STATUSES,
            "effective": {t.id: effective_status(t, now) for t in tenders},
        },
        block="results",
    )


def _evaluations(session: SessionDep, tender: Tender, lots: list[Lot]) -> dict[int, Any]:
    """Each lot's ranked bids, once the deadline has unsealed them."""
    if not can_evaluate(tender):
        return {}
    return {pk(lot): evaluation.evaluation_rows(session, tender, lot) for lot in lots}


def _workspace(
    call: WebCall, tender_id: int, errors: Errors | None = None, form: Form | None = None
) -> Response:
    """The workspace; after a refused form, with its errors and the values typed."""
    request, session, user, settings = call.request, call.session, call.user, call.settings
    tender = service.get_tender(session, user, tender_id)
    view = service.view_tender(session, user, tender, settings)
    officer = is_officer(user)
    lots = service.tender_lots(session, tender)
    evaluations = _evaluations(session, tender, lots) if officer else {}
    by_lot = awards.lot_awards(session, tender)
    asked = questions.question_reads(session, user, tender)
    return render(
        request,
        "tenders/pages/workspace.html",
        {
            "tender": tender,
            "view": view,
            "status": view.status,
            "officer": officer,
            "lots": lots,
            "lot_status": lambda lot: lot_display_status(tender, lot.status),
            "questions": asked,
            "evaluations": evaluations,
            "statements": evaluation.quality_statements(session, evaluations),
            "awards": by_lot,
            "award_prices": {k: from_pence(a.unit_price_pence) for k, a in by_lot.items()},
            "suppliers": supplier_names(session, by_lot),
            "errors": errors or {},
            "labels": workspace_labels(lots, evaluations, asked),
            "form": form or {},
            "standstill_preview": awards.standstill_end_if_awarded_today(settings),
            "standstill_days": settings.standstill_working_days,
            "min_tender_days": settings.min_tender_days,
            "clar_input": london_input(tender.clarification_deadline),
            "sub_input": london_input(tender.submission_deadline),
            **declarations.workspace_context(session, user, tender),
            "demand_round": rounds_for_tenders(session, [pk(tender)]).get(pk(tender)),
        },
    )


@router.get("/tenders/{tender_id}", response_class=HTMLResponse)
def workspace(call: WebCallDep, tender_id: Id) -> Response:
    """The officer's workspace, or a borough's read-only view."""
    user = call.user
    if is_provider(user) and not is_borough_manager(user):  # a selling borough buys here too
        return RedirectResponse(f"/opportunities/{tender_id}", status_code=303)
    return _workspace(call, tender_id)


# --- details and publishing ---------------------------------------------------------------


@router.post("/tenders/{tender_id}/edit", response_class=HTMLResponse)
async def edit_tender(call: WebCallDep, tender_id: Id) -> Response:
    """Save the draft's details; "Publish" also checks everything publishing needs and goes
    on to the confirmation page."""

    def run(data: TenderDetailsForm) -> tuple[Tender, bool]:
        publishing = data.intent == "publish"
        tender = drafting.save_draft(
            call.session, call.user, tender_id, data=data.update(), publishing=publishing,
            settings=call.settings,
        )
        return tender, publishing

    return await call.act(FormAction(
        model=TenderDetailsForm,
        run=run,
        page=partial(_workspace, call, tender_id),
        done=lambda r: f"/tenders/{tender_id}/publish" if r[1] else f"/tenders/{tender_id}#details",
        message=lambda r: f"The details of {r[0].reference} were saved."
        + (" Check them below, then publish." if r[1] else ""),
    ))


@router.get("/tenders/{tender_id}/publish", response_class=HTMLResponse)
def confirm_publish(call: WebCallDep, tender_id: Id) -> Response:
    """What publishing will do, and the button that does it."""
    return confirm.publish_page(call, tender_id)


@router.post("/tenders/{tender_id}/publish", response_class=HTMLResponse)
async def publish(call: WebCallDep, tender_id: Id) -> Response:
    """Publish the draft (confirmed)."""
    return await call.act(FormAction(
        model=NoFields,
        run=lambda _: drafting.publish_tender(
            call.session, call.user, tender_id, settings=call.settings
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda t: f"/tenders/{tender_id}",
        message=lambda t: f"{t.reference} “{t.title}” was published at "
        f"{format_london(t.published_at)}. Providers have been told; bids are due by "
        f"{format_london(t.submission_deadline)}.",
    ))


@router.post("/tenders/{tender_id}/amendments", response_class=HTMLResponse)
async def amend(call: WebCallDep, tender_id: Id) -> Response:
    """Issue an amendment."""
    return await call.act(prefixed=True, action=FormAction(
        model=AmendmentForm,
        run=lambda data: drafting.amend_tender(
            call.session, call.user, tender_id, data=data.create()
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda a: f"/tenders/{tender_id}#amendments",
        message=lambda a: f"Amendment {a.number} was issued; providers have been told.",
        prefix="amend_",
    ))


@router.post("/tenders/{tender_id}/questions/{question_id}/answer", response_class=HTMLResponse)
async def answer(call: WebCallDep, tender_id: Id, question_id: Id) -> Response:
    """Answer a clarification question; the answer is published to every provider."""
    return await call.act(prefixed=True, action=FormAction(
        model=AnswerForm,
        run=lambda data: questions.answer_question(
            call.session, call.user, tender_id, question_id, data=data.create()
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda q: f"/tenders/{tender_id}#questions",
        message=lambda q: "Your answer was published to every provider, without naming who "
        "asked.",
        prefix=f"answer_{question_id}_",
    ))


# --- evaluation and award -----------------------------------------------------------------


@router.post("/tenders/{tender_id}/lots/{lot_id}/scores", response_class=HTMLResponse)
async def save_scores(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Save every quality score typed for a lot at once (all or none)."""

    def message(count: int) -> str:
        lot = confirm.lot_of(call.session, call.user, tender_id, lot_id)
        return f"{count} score{'s' if count != 1 else ''} saved for {lot_label(lot)}."

    return await call.act(FormAction(
        model=LotScoresForm,
        run=lambda data: evaluation.score_lot(
            call.session, call.user, tender_id, lot_id, scores=data.scores()
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda count: f"/tenders/{tender_id}#lot-{lot_id}",
        message=message,
    ))


@router.get("/tenders/{tender_id}/lots/{lot_id}/award", response_class=HTMLResponse)
def confirm_award(call: WebCallDep, tender_id: Id, lot_id: Id, bid_id: str = "") -> Response:
    """Who the lot goes to, at what price, when standstill ends; a reason when not first."""
    return confirm.award_page(call, tender_id, lot_id, form={"bid_id": bid_id[:64]})


@router.post("/tenders/{tender_id}/lots/{lot_id}/award", response_class=HTMLResponse)
async def award(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Award a lot (confirmed)."""
    return await call.act(FormAction(
        model=AwardIn,
        run=lambda data: awards.award_lot(
            call.session, call.user, tender_id, lot_id, data=data, settings=call.settings
        ),
        page=lambda errors, form: confirm.award_page(
            call, tender_id, lot_id, form=form, errors=errors
        ),
        done=lambda a: f"/tenders/{tender_id}#lot-{lot_id}",
        message=lambda a: confirm.award_receipt(call.session, a),
    ))


@router.post("/tenders/{tender_id}/lots/{lot_id}/unsuccessful", response_class=HTMLResponse)
async def unsuccessful(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Close a lot with no bids as unsuccessful; its boroughs' needs go back to them."""
    return await call.act(prefixed=True, action=FormAction(
        model=ReasonForm,
        run=lambda data: awards.mark_unsuccessful(
            call.session, call.user, tender_id, lot_id, reason=data.text()
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda lot: f"/tenders/{tender_id}#lot-{lot_id}",
        message=lambda lot: f"{lot_label(lot)} was closed as unsuccessful; the boroughs' needs "
        "in it are back with them as submitted.",
        prefix=f"unsuccessful_{lot_id}_",
    ))


@router.get("/awards/{award_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(call: WebCallDep, award_id: Id) -> Response:
    """What revoking the award will do, with the reason to give."""
    return confirm.revoke_page(call, award_id)


@router.post("/awards/{award_id}/revoke", response_class=HTMLResponse)
async def revoke(call: WebCallDep, award_id: Id) -> Response:
    """Revoke an award during standstill (confirmed, with a reason)."""
    return await call.act(FormAction(
        model=ReasonForm,
        run=lambda data: awards.revoke_award(
            call.session, call.user, award_id, reason=data.text()
        ),
        page=partial(confirm.revoke_page, call, award_id),
        done=lambda a: f"/tenders/{a.tender_id}#lot-{a.lot_id}",
        message=lambda a: confirm.revoke_receipt(call.session, a),
    ))


# --- cancelling -----------------------------------------------------------------------------


@router.get("/tenders/{tender_id}/lots/{lot_id}/cancel", response_class=HTMLResponse)
def confirm_cancel_lot(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """What cancelling one lot will do, with the reason to give."""
    return confirm.cancel_lot_page(call, tender_id, lot_id)


@router.post("/tenders/{tender_id}/lots/{lot_id}/cancel", response_class=HTMLResponse)
async def cancel_lot(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Cancel one lot (confirmed, with a reason)."""
    return await call.act(FormAction(
        model=ReasonForm,
        run=lambda data: cancellation.cancel_lot(
            call.session, call.user, tender_id, lot_id, reason=data.text()
        ),
        page=partial(confirm.cancel_lot_page, call, tender_id, lot_id),
        done=lambda lot: f"/tenders/{tender_id}#lots",
        message=lambda lot: f"{lot_label(lot)} was cancelled at {format_london(clock.now())}. "
        "Its bidders and boroughs have been told; the needs in it are back with the boroughs.",
    ))


@router.get("/tenders/{tender_id}/cancel", response_class=HTMLResponse)
def confirm_cancel_tender(call: WebCallDep, tender_id: Id) -> Response:
    """What cancelling the whole tender will do, with the reason to give."""
    return confirm.cancel_tender_page(call, tender_id)


@router.post("/tenders/{tender_id}/cancel", response_class=HTMLResponse)
async def cancel_tender(call: WebCallDep, tender_id: Id) -> Response:
    """Cancel the whole tender (confirmed, with a reason)."""
    return await call.act(FormAction(
        model=ReasonForm,
        run=lambda data: cancellation.cancel_tender(
            call.session, call.user, tender_id, reason=data.text()
        ),
        page=partial(confirm.cancel_tender_page, call, tender_id),
        done=lambda t: f"/tenders/{tender_id}",
        message=lambda t: f"{t.reference} “{t.title}” was cancelled at "
        f"{format_london(clock.now())}. Providers and boroughs have been told; the needs in "
        "it are back with the boroughs.",
    ))


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


# --- conflict-of-interest declarations ------------------------------------------------------


@router.post("/tenders/{tender_id}/declarations", response_class=HTMLResponse)
async def declare(call: WebCallDep, tender_id: Id) -> Response:
    """An officer declares no conflict, or a conflict with a bidder, for the tender."""
    return await call.act(FormAction(
        model=DeclarationForm,
        run=lambda data: declarations.declare(
            call.session, call.user, tender_id, data=data.declaration()
        ),
        page=partial(_workspace, call, tender_id),
        done=lambda _row: f"/tenders/{tender_id}#declarations",
        message=lambda row: (
            "Your declaration of a conflict of interest is recorded. Another officer must "
            "record how it is mitigated before you score or award this tender."
            if row.conflict else
            "Your declaration of no conflict of interest is recorded: you may score and award."
        ),
        prefix="declaration_",
    ))


@router.post("/declarations/{declaration_id}/mitigation", response_class=HTMLResponse)
async def mitigate(call: WebCallDep, declaration_id: Id) -> Response:
    """Another officer records how a declared conflict is mitigated."""
    row = declarations.get_declaration(call.session, call.user, declaration_id)
    return await call.act(FormAction(
        model=MitigationIn,
        run=lambda data: declarations.mitigate(
            call.session, call.user, declaration_id, data=data
        ),
        page=partial(_workspace, call, row.tender_id),
        done=lambda done: f"/tenders/{done.tender_id}#declarations",
        message=lambda _done: "The mitigation is recorded: the officer may now score and award.",
        prefix=f"mitigation_{declaration_id}_",
    ))
