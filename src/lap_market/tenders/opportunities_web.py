"""Providers' tender pages: open opportunities, questions and sealed bids, and every
organisation's notifications."""

from functools import partial

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lap_market.accounts.deps import WebUser
from lap_market.clock import clock, format_london
from lap_market.db import SessionDep
from lap_market.money import from_pence
from lap_market.paging import PageNumber, page_count
from lap_market.primitives import Id
from lap_market.templating import is_htmx, render
from lap_market.tenders import awards, bids, notifications, questions, service
from lap_market.tenders.api import NotificationId
from lap_market.tenders.confirmations import lot_of
from lap_market.tenders.models import Bid, Tender, TenderStatus
from lap_market.tenders.policy import can_ask, is_provider
from lap_market.tenders.read import effective_status
from lap_market.tenders.web_forms import (
    BidForm,
    QuestionForm,
    bid_labels,
    bid_receipt,
    lot_label,
    supplier_names,
)
from lap_market.web.actions import Errors, Form, FormAction, NoFields
from lap_market.web.deps import WebCall, WebCallDep, web_router

router = web_router()
PAST_PAGE_SIZE = 50


# --- providers: opportunities ----------------------------------------------------------------


@router.get("/opportunities", response_class=HTMLResponse)
def opportunities(
    request: Request, session: SessionDep, user: WebUser, page: PageNumber = 1
) -> Response:
    """Open tenders with their deadlines, and the provider's past ones a page at a time."""
    if not is_provider(user):
        return RedirectResponse("/tenders", status_code=303)
    now = clock.now()
    open_ = service.list_tenders(session, user, status=TenderStatus.PUBLISHED)
    past, total = service.page_tenders(
        session, user, page=page, page_size=PAST_PAGE_SIZE, not_status=TenderStatus.PUBLISHED
    )
    return render(
        request,
        "tenders/pages/opportunities.html",
        {
            "open": open_,
            "past": past,
            "page": page,
            "pages": page_count(total, PAST_PAGE_SIZE),
            "page_url": lambda number: f"/opportunities?page={number}",
            "effective": {t.id: effective_status(t, now) for t in open_ + past},
            "unread": notifications.unread_count(session, user),
        },
    )


def _opportunity(
    call: WebCall, tender_id: int, errors: Errors | None = None, form: Form | None = None
) -> Response:
    """The opportunity; after a refused form, with its errors and the values typed."""
    request, session, user = call.request, call.session, call.user
    tender: Tender = service.get_tender(session, user, tender_id)
    view = service.view_tender(session, user, tender, call.settings)
    now = clock.now()
    by_lot = awards.lot_awards(session, tender)
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
            "bid_prices": {lot_id: from_pence(b.unit_price_pence) for lot_id, b in mine.items()},
            "labels": bid_labels(view.lots),
            "tender": tender,
            "view": view,
            "status": view.status,
            "questions": questions.question_reads(session, user, tender),
            "mine": mine,
            "awards": by_lot,
            "award_prices": {k: from_pence(a.unit_price_pence) for k, a in by_lot.items()},
            "suppliers": supplier_names(session, by_lot),
            "can_ask": can_ask(user, tender, now),
            "errors": errors or {},
            "form": form or {},
        },
    )


@router.get("/opportunities/{tender_id}", response_class=HTMLResponse)
def opportunity(call: WebCallDep, tender_id: Id) -> Response:
    """A tender as providers see it: lots, bid forms, amendments and answers."""
    if not is_provider(call.user):
        return RedirectResponse(f"/tenders/{tender_id}", status_code=303)
    return _opportunity(call, tender_id)


@router.post("/opportunities/{tender_id}/questions", response_class=HTMLResponse)
async def ask(call: WebCallDep, tender_id: Id) -> Response:
    """Ask a clarification question."""
    return await call.act(FormAction(
        model=QuestionForm,
        run=lambda data: questions.ask_question(
            call.session, call.user, tender_id, data=data.create()
        ),
        page=partial(_opportunity, call, tender_id),
        done=lambda q: f"/opportunities/{tender_id}#questions",
        message=lambda q: f"Your question was sent at {format_london(q.asked_at)}. The answer "
        "will be published to every provider without naming you.",
    ))


@router.post("/opportunities/{tender_id}/lots/{lot_id}/bid", response_class=HTMLResponse)
async def put_bid(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Submit or replace the organisation's bid for a lot; the receipt says when it arrived."""
    return await call.act(prefixed=True, action=FormAction(
        model=BidForm,
        run=lambda data: bids.submit_bid(
            call.session, call.user, tender_id, lot_id, data=data.create()
        ),
        page=partial(_opportunity, call, tender_id),
        done=lambda result: f"/opportunities/{tender_id}#lot-{lot_id}",
        message=lambda result: bid_receipt(
            result[0], lot_of(call.session, call.user, tender_id, lot_id), result[1]
        ),
        prefix=f"bid_{lot_id}_",
    ))


@router.post("/opportunities/{tender_id}/lots/{lot_id}/withdraw", response_class=HTMLResponse)
async def withdraw(call: WebCallDep, tender_id: Id, lot_id: Id) -> Response:
    """Withdraw the organisation's bid for a lot."""

    def message(bid: Bid) -> str:
        lot = lot_of(call.session, call.user, tender_id, lot_id)
        return (
            f"Your bid for {lot_label(lot)} was withdrawn at {format_london(bid.updated_at)}. "
            "You may bid again until the submission deadline."
        )

    return await call.act(FormAction(
        model=NoFields,
        run=lambda _: bids.withdraw_bid(call.session, call.user, tender_id, lot_id),
        page=partial(_opportunity, call, tender_id),
        done=lambda bid: f"/opportunities/{tender_id}#lot-{lot_id}",
        message=message,
        prefix=f"bid_{lot_id}_",
    ))


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
    request: Request, session: SessionDep, user: WebUser, notification_id: NotificationId
) -> Response:
    """Mark a notification read."""
    notifications.mark_read(session, user, notification_id)
    if is_htmx(request):
        return notification_list(request, session, user)
    return RedirectResponse("/notifications", status_code=303)
