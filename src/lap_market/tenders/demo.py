"""Demo tenders in several states, built through the services with the clock moved back so
that deadlines can pass legitimately: one awarded and in standstill, one open with bids,
questions and an amendment, one just published, one draft."""

from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from lap_market.accounts.models import User
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.aggregation.service import aggregate_demand
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.demo import DemoContext
from lap_market.errors import DomainError
from lap_market.tenders import bids, declarations, evaluation, questions, service
from lap_market.tenders.models import Tender
from lap_market.tenders.schemas import (
    AmendmentCreate,
    AnswerCreate,
    AwardIn,
    BidIn,
    DeclarationIn,
    QuestionCreate,
    TenderUpdate,
)


def _noon(moment: datetime) -> datetime:
    return moment.replace(hour=12, minute=0, second=0, microsecond=0)


def _tender(
    session: Session, officer: User, category: str, title: str, *, clar: datetime, sub: datetime
) -> Tender | None:
    try:
        tender = aggregate_demand(
            session, officer, filters=AggregateRequest(category=category, title=title)
        )
    except DomainError:
        return None  # no submitted demand in this category
    service.update_tender(
        session,
        officer,
        tender.id,  # type: ignore[arg-type]
        data=TenderUpdate(  # type: ignore[arg-type]
            description=f"Joint procurement of {category} for the boroughs listed in each lot.",
            price_weight=60,
            quality_weight=40,
            clarification_deadline=_noon(clar),
            submission_deadline=_noon(sub),
        ),
    )
    return tender


def _bid(session: Session, user: User, tender: Tender, price: str, statement: str) -> None:
    for lot in service.tender_lots(session, tender):
        bids.submit_bid(
            session,
            user,
            tender.id,  # type: ignore[arg-type]
            lot.id,  # type: ignore[arg-type]
            data=BidIn(unit_price=Decimal(price), quality_statement=statement),
        )


def seed(session: Session, ctx: DemoContext) -> None:
    """Tenders in several states (skipped if any tender exists)."""
    if session.exec(select(func.count()).select_from(Tender)).one():
        return
    officer = ctx.users["officer@lap.example"]
    lma, thames = ctx.users["lma@lap.example"], ctx.users["thames@lap.example"]
    bankside, capital = ctx.users["bankside@lap.example"], ctx.users["capital@lap.example"]
    # Only the standstill length is read from these settings (LAP_ variables still apply).
    settings = Settings(secret_key="demo-seed-only", database_url="sqlite://")  # noqa: S106
    real = clock.now()
    try:
        # 1. Storage: published 20 days ago, closed 8 days ago, awarded 3 days ago.
        clock.set(real - timedelta(days=20))
        storage = _tender(
            session,
            officer,
            "storage",
            "Joint archive storage 2027–2029",
            clar=real - timedelta(days=14),
            sub=real - timedelta(days=8),
        )
        if storage is not None:
            service.publish_tender(session, officer, storage.id)  # type: ignore[arg-type]
            clock.set(real - timedelta(days=18))
            q = questions.ask_question(
                session,
                thames,
                storage.id,  # type: ignore[arg-type]
                data=QuestionCreate(question="Is mobile racking acceptable?"),
            )
            questions.answer_question(
                session,
                officer,
                storage.id,  # type: ignore[arg-type]
                q.id,  # type: ignore[arg-type]
                data=AnswerCreate(answer="Yes, if BS EN 16893 conditions are met."),
            )
            _bid(session, lma, storage, "11.50", "Purpose-built strongrooms at Clerkenwell.")
            _bid(session, thames, storage, "9.80", "Climate-controlled store in Dartford.")
            clock.set(real - timedelta(days=3))
            # Bids are open: the officer declares (no conflict) before scoring and awarding.
            declarations.declare(session, officer, storage.id,  # type: ignore[arg-type]
                                 data=DeclarationIn(conflict=False))
            for lot in service.tender_lots(session, storage):
                for row in evaluation.evaluation_rows(session, storage, lot):
                    evaluation.score_bid(
                        session,
                        officer,
                        row.bid_id,
                        quality_score=Decimal("85")
                        if "Metropolitan" in row.provider
                        else Decimal("70"),
                    )
                top = evaluation.evaluation_rows(session, storage, lot)[0]
                evaluation.award_lot(
                    session,
                    officer,
                    storage.id,  # type: ignore[arg-type]
                    lot.id,  # type: ignore[arg-type]
                    data=AwardIn(bid_id=top.bid_id),
                    settings=settings,
                )
        # 2. Conservation: open, with questions, bids and an amendment.
        clock.set(real - timedelta(days=2))
        conservation = _tender(
            session,
            officer,
            "conservation",
            "Conservation framework 2027",
            clar=real + timedelta(days=7),
            sub=real + timedelta(days=14),
        )
        if conservation is not None:
            service.publish_tender(session, officer, conservation.id)  # type: ignore[arg-type]
            q = questions.ask_question(
                session,
                bankside,
                conservation.id,  # type: ignore[arg-type]
                data=QuestionCreate(question="Are bound volumes included?"),
            )
            questions.answer_question(
                session,
                officer,
                conservation.id,  # type: ignore[arg-type]
                q.id,  # type: ignore[arg-type]
                data=AnswerCreate(answer="Yes: see the specification."),
            )
            questions.ask_question(
                session,
                capital,
                conservation.id,  # type: ignore[arg-type]
                data=QuestionCreate(question="May we subcontract?"),
            )
            _bid(session, bankside, conservation, "48.00", "Accredited conservators (Icon).")
            _bid(session, lma, conservation, "52.00", "In-house studio with 12 conservators.")
            clock.set(real - timedelta(days=1))
            service.amend_tender(
                session,
                officer,
                conservation.id,  # type: ignore[arg-type]
                data=AmendmentCreate(  # type: ignore[arg-type]
                    reason="More time for site visits.",
                    submission_deadline=_noon(real + timedelta(days=21)),
                ),
            )
        # 3. Digitisation: just published. 4. Training: a draft.
        clock.set(real - timedelta(hours=2))
        digitisation = _tender(
            session,
            officer,
            "digitisation",
            "Digitisation of parish registers",
            clar=real + timedelta(days=10),
            sub=real + timedelta(days=24),
        )
        if digitisation is not None:
            service.publish_tender(session, officer, digitisation.id)  # type: ignore[arg-type]
        _tender(
            session,
            officer,
            "training",
            "Archive skills training 2027",
            clar=real + timedelta(days=20),
            sub=real + timedelta(days=40),
        )
    finally:
        clock.reset()
    session.flush()
