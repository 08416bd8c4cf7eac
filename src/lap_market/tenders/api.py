"""JSON routes for tendering: publish, amend, questions, sealed bids, evaluation, award."""

from typing import Annotated

from fastapi import Depends, Path, Request, Response
from fastapi.responses import PlainTextResponse

from lap_market.accounts.deps import CurrentUser, SettingsDep, api_router
from lap_market.accounts.models import User
from lap_market.clock import as_utc
from lap_market.db import SessionDep
from lap_market.modeling import pk
from lap_market.money import from_pence
from lap_market.paging import Paged, PageNumber, PageSize
from lap_market.primitives import Id, Line
from lap_market.tenders import (
    awards,
    bids,
    cancellation,
    declarations,
    drafting,
    evaluation,
    notifications,
    questions,
    service,
)
from lap_market.tenders.models import Award, Notification
from lap_market.tenders.policy import can_read_declarations, require_officer
from lap_market.tenders.read import amendment_read, lot_read
from lap_market.tenders.schemas import (
    AmendmentCreate,
    AmendmentRead,
    AnswerCreate,
    AwardDetail,
    AwardIn,
    AwardRead,
    BidIn,
    BidRead,
    DeclarationIn,
    DeclarationRead,
    EvaluationRow,
    LotRead,
    MitigationIn,
    NotificationRead,
    QuestionCreate,
    QuestionRead,
    ReasonIn,
    ScoreIn,
    TenderBids,
    TenderRead,
    TenderUpdate,
)

router = api_router("tenders")


async def _officer(user: CurrentUser) -> User:
    """Only officers score bids and revoke awards: refused before the body is read."""
    require_officer(user)
    return user


Officer = Annotated[User, Depends(_officer)]
NotificationId = Annotated[
    Line, Path(max_length=32, description="The notification's public id")
]


def _notification_read(n: Notification) -> NotificationRead:
    return NotificationRead(
        id=n.public_id,
        tender_id=n.tender_id,
        kind=n.kind,
        message=n.message,
        created_at=as_utc(n.created_at),
        read_at=as_utc(n.read_at) if n.read_at else None,
    )


@router.get("/tenders", response_model=Paged[TenderRead])
def list_tenders(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    status: Line | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Paged[TenderRead]:
    """Tenders the caller may see: officers all, providers published ones, boroughs theirs;
    newest first, a page at a time."""
    tenders, total = service.page_tenders(
        session, user, status=status, page=page, page_size=page_size
    )
    return Paged[TenderRead](
        items=service.view_tenders(session, user, tenders, settings),
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/tenders/{tender_id}", response_model=TenderRead)
def get_tender(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, tender_id: Id
) -> TenderRead:
    """One tender with its lots, deadlines, status, amendment history and declarations."""
    read = service.view_tender(
        session, user, service.get_tender(session, user, tender_id), settings
    )
    if can_read_declarations(user):
        read.declarations = declarations.declaration_reads(session, tender_id)
    return read


@router.patch("/tenders/{tender_id}", response_model=TenderRead)
def update_tender(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    tender_id: Id,
    data: TenderUpdate,
) -> TenderRead:
    """Edit a draft: title, description, weights (sum 100), deadlines (future, in order)."""
    tender = drafting.update_tender(session, user, tender_id, data=data)
    return service.view_tender(session, user, tender, settings)


@router.post("/tenders/{tender_id}/publish", response_model=TenderRead)
def publish_tender(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, tender_id: Id
) -> TenderRead:
    """Publish a complete draft."""
    tender = drafting.publish_tender(session, user, tender_id, settings=settings)
    return service.view_tender(session, user, tender, settings)


@router.post("/tenders/{tender_id}/amendments", response_model=AmendmentRead, status_code=201)
def amend_tender(
    session: SessionDep, user: CurrentUser, tender_id: Id, data: AmendmentCreate
) -> AmendmentRead:
    """Extend deadlines or change the description before the submission deadline."""
    return amendment_read(drafting.amend_tender(session, user, tender_id, data=data))


@router.post("/tenders/{tender_id}/cancel", response_model=TenderRead)
def cancel_tender(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, tender_id: Id, data: ReasonIn
) -> TenderRead:
    """Cancel the whole tender before award; its demand returns to submitted."""
    tender = cancellation.cancel_tender(session, user, tender_id, reason=data.reason)
    return service.view_tender(session, user, tender, settings)


@router.post("/tenders/{tender_id}/lots/{lot_id}/cancel", response_model=LotRead)
def cancel_lot(
    session: SessionDep, user: CurrentUser, tender_id: Id, lot_id: Id, data: ReasonIn
) -> LotRead:
    """Cancel one lot before its award; its demand returns to submitted."""
    return lot_read(
        session, cancellation.cancel_lot(session, user, tender_id, lot_id, reason=data.reason)
    )


@router.get("/tenders/{tender_id}/questions", response_model=list[QuestionRead])
def list_questions(session: SessionDep, user: CurrentUser, tender_id: Id) -> list[QuestionRead]:
    """Answered questions (askers unnamed), plus a provider's own unanswered ones."""
    return questions.list_questions(session, user, tender_id)


@router.post("/tenders/{tender_id}/questions", response_model=QuestionRead, status_code=201)
def ask_question(
    session: SessionDep, user: CurrentUser, tender_id: Id, data: QuestionCreate
) -> QuestionRead:
    """A provider's clarification question, before the clarification deadline."""
    return questions.question_read(
        questions.ask_question(session, user, tender_id, data=data), mine=True
    )


@router.post("/tenders/{tender_id}/questions/{question_id}/answer", response_model=QuestionRead)
def answer_question(
    session: SessionDep, user: CurrentUser, tender_id: Id, question_id: Id, data: AnswerCreate
) -> QuestionRead:
    """The officer's answer, published to every provider."""
    q = questions.answer_question(session, user, tender_id, question_id, data=data)
    return next(r for r in questions.list_questions(session, user, tender_id) if r.id == q.id)


@router.put("/tenders/{tender_id}/lots/{lot_id}/bid", response_model=BidRead)
def put_bid(
    session: SessionDep,
    user: CurrentUser,
    tender_id: Id,
    lot_id: Id,
    data: BidIn,
    response: Response,
) -> BidRead:
    """Create (201) or replace (200) the caller's sealed bid for a lot, before the deadline."""
    bid, created = bids.submit_bid(session, user, tender_id, lot_id, data=data)
    response.status_code = 201 if created else 200
    return bids.bid_read(bid)


@router.delete("/tenders/{tender_id}/lots/{lot_id}/bid", status_code=204)
def withdraw_bid(session: SessionDep, user: CurrentUser, tender_id: Id, lot_id: Id) -> Response:
    """Withdraw the caller's bid for a lot, before the deadline."""
    bids.withdraw_bid(session, user, tender_id, lot_id)
    return Response(status_code=204)


@router.get("/tenders/{tender_id}/bids", response_model=TenderBids)
def list_bids(session: SessionDep, user: CurrentUser, tender_id: Id) -> TenderBids:
    """A provider sees its own bids; an officer only counts per lot until the deadline."""
    return bids.tender_bids(session, user, tender_id)


@router.post("/bids/{bid_id}/score", response_model=BidRead)
def score_bid(
    session: SessionDep,
    user: Officer,
    bid_id: Annotated[str, Path(max_length=64, description="The bid's public id")],
    data: ScoreIn,
) -> BidRead:
    """Score a bid's quality (0–100) after close."""
    return bids.bid_read(
        evaluation.score_bid(session, user, bid_id, quality_score=data.quality_score)
    )


@router.get(
    "/tenders/{tender_id}/lots/{lot_id}/evaluation",
    response_model=list[EvaluationRow],
    responses={200: {"content": {"text/csv": {}}}},
)
def lot_evaluation(
    request: Request, session: SessionDep, user: CurrentUser, tender_id: Id, lot_id: Id
) -> list[EvaluationRow] | Response:
    """Bids ranked by total score; ``Accept: text/csv`` gives every bid for the record."""
    if "text/csv" in request.headers.get("accept", ""):
        body = evaluation.evaluation_csv(session, user, tender_id, lot_id)
        filename = f"evaluation-{tender_id}-lot-{lot_id}.csv"
        return PlainTextResponse(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return evaluation.evaluate_lot(session, user, tender_id, lot_id)


@router.post("/tenders/{tender_id}/lots/{lot_id}/award", response_model=AwardRead)
def award_lot(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    tender_id: Id,
    lot_id: Id,
    data: AwardIn,
) -> AwardRead:
    """Award a scored lot; a reason is required unless the bid is ranked first."""
    award = awards.award_lot(session, user, tender_id, lot_id, data=data, settings=settings)
    return AwardRead(award_id=pk(award), standstill_ends=award.standstill_ends,
                     award_ids=awards.standing_award_ids(session, award.lot_id))


@router.post("/tenders/{tender_id}/lots/{lot_id}/unsuccessful", response_model=LotRead)
def lot_unsuccessful(
    session: SessionDep, user: CurrentUser, tender_id: Id, lot_id: Id, data: ReasonIn
) -> LotRead:
    """Mark a lot that drew no bids unsuccessful."""
    return lot_read(
        session, awards.mark_unsuccessful(session, user, tender_id, lot_id, reason=data.reason)
    )


def _award_detail(award: Award) -> AwardDetail:
    return AwardDetail(
        id=pk(award),
        tender_id=award.tender_id,
        lot_id=award.lot_id,
        bid_id=award.bid.public_id,
        supplier=award.supplier.name,
        unit_price=from_pence(award.unit_price_pence),
        reason=award.reason,
        status=award.status,
        awarded_at=as_utc(award.awarded_at),
        standstill_ends=award.standstill_ends,
        revoked_at=as_utc(award.revoked_at) if award.revoked_at else None,
        revoke_reason=award.revoke_reason,
    )


@router.get("/awards/{award_id}", response_model=AwardDetail)
def get_award(session: SessionDep, user: CurrentUser, award_id: Id) -> AwardDetail:
    """An award (anyone who may see the tender; awards are public once made)."""
    return _award_detail(awards.get_award(session, user, award_id))


@router.post("/awards/{award_id}/revoke", response_model=AwardDetail)
def revoke_award(session: SessionDep, user: Officer, award_id: Id, data: ReasonIn) -> AwardDetail:
    """Revoke an award during standstill; the lot's evaluation reopens."""
    return _award_detail(awards.revoke_award(session, user, award_id, reason=data.reason))


@router.get("/notifications", response_model=list[NotificationRead])
def list_notifications(session: SessionDep, user: CurrentUser) -> list[NotificationRead]:
    """The caller's organisation's notifications, newest first."""
    return [_notification_read(n) for n in notifications.list_notifications(session, user)]


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def read_notification(
    session: SessionDep, user: CurrentUser, notification_id: NotificationId
) -> NotificationRead:
    """Mark a notification read."""
    return _notification_read(notifications.mark_read(session, user, notification_id))


# --- conflict-of-interest declarations ------------------------------------------------------


@router.post(
    "/tenders/{tender_id}/declarations", response_model=DeclarationRead, status_code=201
)
def declare(
    session: SessionDep, officer: Officer, tender_id: Id, data: DeclarationIn
) -> DeclarationRead:
    """Declare, after the deadline, no conflict or a conflict with the named bidders."""
    row = declarations.declare(session, officer, tender_id, data=data)
    return declarations.read_one(session, row)


@router.get("/tenders/{tender_id}/declarations", response_model=list[DeclarationRead])
def list_declarations(
    session: SessionDep, user: CurrentUser, tender_id: Id
) -> list[DeclarationRead]:
    """The tender's declarations and mitigations (officers and admins)."""
    return declarations.list_for_tender(session, user, tender_id)


@router.post("/declarations/{declaration_id}/mitigation", response_model=DeclarationRead)
def mitigate(
    session: SessionDep, user: CurrentUser, declaration_id: Id, data: MitigationIn
) -> DeclarationRead:
    """Another officer records how a declared conflict is mitigated ({measure, reason})."""
    return declarations.read_one(
        session, declarations.mitigate(session, user, declaration_id, data=data)
    )
