"""Framework pages: the record (members by rank, prices, call-offs), the borough's call-off
form (showing whom the cascade asks first, and at what price), a call-off's progress, the
member's offer page (accept or decline), and a further competition's bids, scores and award."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from lap_market.accounts.deps import SettingsDep, WebUser
from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.accounts.policy import is_officer, is_provider, require
from lap_market.db import SessionDep
from lap_market.errors import NotFound
from lap_market.frameworks import cascade, competition, policy, service
from lap_market.frameworks.schemas import (
    CallOffCreate,
    CompetitionAwardIn,
    CompetitionBidIn,
    CompetitionScoreIn,
    DeclineIn,
    FrameworkRead,
)
from lap_market.primitives import Id, Line
from lap_market.templating import render
from lap_market.web.actions import FormAction, NoFields, form_action
from lap_market.web.deps import web_router
from lap_market.web.forms import london_local, parse_form

router = web_router()
LABELS = {
    "quantity": "Quantity", "start_date": "Service starts", "end_date": "Service ends",
    "specification": "Specification", "route": "How to call off", "borough_id": "Borough",
    "price_weight": "Price weight", "quality_weight": "Quality weight",
    "submission_deadline": "Bids due by", "reason": "Reason", "unit_price": "Unit price",
    "quality_statement": "Quality statement", "quality_score": "Quality score",
    "bid_id": "Bid", "framework_end": "Framework end",
}
ROUTES = [("direct_award", "Direct award: offer it to the top-ranked supplier at its framework "
           "price, then the next if it declines"),
          ("further_competition", "Further competition: ask every supplier on the lot to bid")]


class CallOffForm(BaseModel):
    """The call-off form as posted: its London-time deadline read before the API model."""

    model_config = ConfigDict(extra="ignore")

    quantity: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    specification: str = ""
    route: str | None = None
    borough_id: str | None = None
    price_weight: str | None = None
    quality_weight: str | None = None
    submission_deadline: str | None = None

    def as_request(self) -> CallOffCreate:
        """The API model, or FormErrors naming each field (shown beside it)."""
        data: dict[str, Any] = self.model_dump(exclude_none=True)
        data["submission_deadline"] = london_local(self.submission_deadline)
        return parse_form(CallOffCreate, {k: v for k, v in data.items() if v is not None})


def _boroughs(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(Organisation).where(Organisation.kind == OrgKind.BOROUGH)
                        .order_by(col(Organisation.name))).all()
    return [(o.id or 0, o.name) for o in rows]


@router.get("/frameworks", response_class=HTMLResponse)
def frameworks_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Every framework you may see."""
    return render(request, "frameworks/pages/list.html",
                  {"frameworks": service.list_frameworks(session, user)})


def _framework_page(request: Request, session: Session, user: User, framework_id: int) -> Response:
    record = service.framework_read(session, user, framework_id)
    return render(request, "frameworks/pages/framework.html", {
        "framework": record, "can_call_off": policy.can_call_off(user),
        "can_withdraw": is_officer(user), "errors": {}, "form": {}})


@router.get("/frameworks/{framework_id}", response_class=HTMLResponse)
def framework_page(request: Request, session: SessionDep, user: WebUser,
                   framework_id: Id) -> Response:
    """The framework: its lots' members by rank, their prices and scores, its call-offs."""
    return _framework_page(request, session, user, framework_id)


def _lot(record: FrameworkRead, lot_id: int) -> Any:
    lot = next((lot for lot in record.lots if lot.id == lot_id), None)
    if lot is None:
        raise NotFound("This framework has no such lot.")
    return lot


def _call_off_page(request: Request, session: Session, user: User, framework_id: int,
                   lot_id: int, errors: dict[str, str], form: dict[str, str]) -> Response:
    record = service.framework_read(session, user, framework_id)
    lot = _lot(record, lot_id)
    first = next((m for m in lot.members if m.status == "active"), None)
    return render(request, "frameworks/pages/call_off.html", {
        "framework": record, "lot": lot, "first": first, "errors": errors, "form": form,
        "labels": LABELS, "routes": ROUTES, "is_officer": is_officer(user),
        "boroughs": _boroughs(session) if is_officer(user) else [],
    }, status_code=422 if errors else 200)


@router.get("/frameworks/{framework_id}/lots/{lot_id}/call-off", response_class=HTMLResponse)
def call_off_form(request: Request, session: SessionDep, user: WebUser, framework_id: Id,
                  lot_id: Id) -> Response:
    """The call-off form, naming the supplier the cascade will ask first and its price."""
    require(policy.can_call_off(user), "Only borough managers and officers call off.")
    form = {k: v for k, v in request.query_params.items() if k in LABELS}
    return _call_off_page(request, session, user, framework_id, lot_id, {}, form)


@router.post("/frameworks/{framework_id}/lots/{lot_id}/call-off", response_class=HTMLResponse)
async def call_off(request: Request, session: SessionDep, settings: SettingsDep, user: WebUser,
                   framework_id: Id, lot_id: Id) -> Response:
    return await form_action(request, session, FormAction(
        model=CallOffForm,
        run=lambda data: service.request_call_off(session, user, framework_id, lot_id,
                                                  data.as_request(), settings),
        page=lambda errors, form: _call_off_page(request, session, user, framework_id, lot_id,
                                                 errors, form),
        done=lambda req: f"/framework-call-offs/{req.id}",
        message=lambda req: (
            "Your call-off has been offered to the top-ranked supplier."
            if req.route == "direct_award" else
            "Your further competition is open to the lot's suppliers."),
    ))


def _request_page(request: Request, session: Session, user: User, request_id: int,
                  errors: dict[str, str] | None = None, form: dict[str, str] | None = None
                  ) -> Response:
    read = service.request_read(session, user, request_id)
    row = service.get_request(session, user, request_id)
    bids = competition.bids_read(session, user, request_id) \
        if read.route == "further_competition" else []
    return render(request, "frameworks/pages/request.html", {
        "call_off": read, "framework": service.framework_read(session, user, read.framework_id),
        "bids": bids, "manages": policy.can_manage_request(user, row),
        "is_member": is_provider(user) and competition.is_member(session, user, row),
        "closed": competition.is_closed(row), "errors": errors or {}, "form": form or {},
        "labels": LABELS,
    }, status_code=422 if errors else 200)


@router.get("/framework-call-offs/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, session: SessionDep, user: WebUser,
                 request_id: Id) -> Response:
    """A call-off's progress: each step of the cascade, or the competition's bids."""
    return _request_page(request, session, user, request_id)


@router.post("/framework-call-offs/{request_id}/bids", response_class=HTMLResponse)
async def submit_bid(request: Request, session: SessionDep, user: WebUser,
                     request_id: Id) -> Response:
    return await form_action(request, session, FormAction(
        model=CompetitionBidIn,
        run=lambda data: competition.submit_bid(session, user, request_id, data),
        page=lambda errors, form: _request_page(request, session, user, request_id, errors, form),
        done=lambda _bid: f"/framework-call-offs/{request_id}",
        message=lambda bid: f"Your bid was received at {bid.submitted_at:%H:%M} and stays "
        "sealed until the deadline.",
    ))


@router.post("/framework-call-offs/{request_id}/scores", response_class=HTMLResponse)
async def score_bid(request: Request, session: SessionDep, user: WebUser,
                    request_id: Id) -> Response:
    return await form_action(request, session, FormAction(
        model=CompetitionScoreIn,
        run=lambda data: competition.score(session, user, request_id, data.bid_id,
                                           data.quality_score),
        page=lambda errors, form: _request_page(request, session, user, request_id, errors, form),
        done=lambda _bid: f"/framework-call-offs/{request_id}#bids",
        message=lambda _bid: "The score is saved.",
    ))


@router.post("/framework-call-offs/{request_id}/award", response_class=HTMLResponse)
async def award(request: Request, session: SessionDep, user: WebUser,
                request_id: Id) -> Response:
    return await form_action(request, session, FormAction(
        model=CompetitionAwardIn,
        run=lambda data: competition.award(session, user, request_id, data.bid_id, data.reason),
        page=lambda errors, form: _request_page(request, session, user, request_id, errors, form),
        done=lambda _req: f"/framework-call-offs/{request_id}",
        message=lambda _req: "The competition is awarded and the call-off contract issued.",
    ))


@router.get("/call-off-offers", response_class=HTMLResponse)
def offers_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Call-offs offered to your organisation under frameworks."""
    return render(request, "frameworks/pages/offers.html",
                  {"offers": service.offers_for(session, user)})


def _offer_page(request: Request, session: Session, user: User, offer_id: str,
                errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                confirm: bool = False) -> Response:
    offer = cascade.get_offer(session, user, offer_id)
    return render(request, "frameworks/pages/offer.html", {
        "offer": service.offer_read(session, offer), "can_answer": policy.can_answer(user, offer),
        "confirm": confirm, "errors": errors or {}, "form": form or {}, "labels": LABELS,
    }, status_code=422 if errors else 200)


@router.get("/call-off-offers/{offer_id}", response_class=HTMLResponse)
def offer_page(request: Request, session: SessionDep, user: WebUser, offer_id: Line) -> Response:
    """The offer: what, for whom, at what price, and until when to answer."""
    return _offer_page(request, session, user, offer_id)


@router.get("/call-off-offers/{offer_id}/accept", response_class=HTMLResponse)
def confirm_accept(request: Request, session: SessionDep, user: WebUser,
                   offer_id: Line) -> Response:
    """The confirmation step before accepting."""
    return _offer_page(request, session, user, offer_id, confirm=True)


@router.post("/call-off-offers/{offer_id}/accept", response_class=HTMLResponse)
async def accept(request: Request, session: SessionDep, user: WebUser,
                 offer_id: Line) -> Response:
    return await form_action(request, session, FormAction(
        model=NoFields,
        run=lambda _data: cascade.accept(session, user, offer_id),
        page=lambda errors, form: _offer_page(request, session, user, offer_id, errors, form),
        done=lambda _offer: f"/call-off-offers/{offer_id}",
        message=lambda _offer: "You have accepted the call-off: its contract is issued and "
        "waiting for both parties' acceptance under Contracts.",
    ))


@router.post("/call-off-offers/{offer_id}/decline", response_class=HTMLResponse)
async def decline(request: Request, session: SessionDep, settings: SettingsDep, user: WebUser,
                  offer_id: Line) -> Response:
    return await form_action(request, session, FormAction(
        model=DeclineIn,
        run=lambda data: cascade.decline(session, user, offer_id, data.reason, settings),
        page=lambda errors, form: _offer_page(request, session, user, offer_id, errors, form),
        done=lambda _offer: f"/call-off-offers/{offer_id}",
        message=lambda _offer: "You have declined: the call-off goes to the next supplier.",
    ))

