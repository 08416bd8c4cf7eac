"""Demo tenders in several states, built through the services with the clock moved back so
that deadlines can pass legitimately: one awarded and in standstill, one open with bids,
questions and an amendment, one just published, one draft."""

from dataclasses import dataclass
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
from lap_market.modeling import pk
from lap_market.tenders import awards, bids, declarations, drafting, evaluation, questions, service
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


@dataclass(frozen=True)
class Cast:
    """Who takes part in the demo tenders."""

    officer: User
    lma: User
    thames: User
    bankside: User
    capital: User

    @classmethod
    def of(cls, ctx: DemoContext) -> "Cast":
        users = ctx.users
        return cls(
            officer=users["officer@lap.example"],
            lma=users["lma@lap.example"],
            thames=users["thames@lap.example"],
            bankside=users["bankside@lap.example"],
            capital=users["capital@lap.example"],
        )


def _noon(moment: datetime) -> datetime:
    return moment.replace(hour=12, minute=0, second=0, microsecond=0)


# Each demo tender: its title, and its clarification and submission deadlines in days from
# the real now (before the clock is moved back to build it).
PLANS = {
    "storage": ("Joint archive storage 2027–2029", -14, -8),
    "conservation": ("Conservation framework 2027", 7, 14),
    "digitisation": ("Digitisation of parish registers", 10, 24),
    "training": ("Archive skills training 2027", 20, 40),
}


def _tender(session: Session, officer: User, category: str, real: datetime) -> Tender | None:
    """A draft pooled from the category's submitted demand, as ``PLANS`` says (None if there
    is no such demand)."""
    title, clarification_days, submission_days = PLANS[category]
    try:
        tender = aggregate_demand(
            session, officer, filters=AggregateRequest(category=category, title=title)
        )
    except DomainError:
        return None
    drafting.update_tender(
        session,
        officer,
        pk(tender),
        data=TenderUpdate.model_validate(
            {
                "description": f"Joint procurement of {category} for the boroughs listed in "
                "each lot.",
                "price_weight": 60,
                "quality_weight": 40,
                "clarification_deadline": _noon(real + timedelta(days=clarification_days)),
                "submission_deadline": _noon(real + timedelta(days=submission_days)),
            }
        ),
    )
    return tender


def _bid(session: Session, user: User, tender: Tender, price: str, statement: str) -> None:
    """The same bid for every lot of the tender."""
    for lot in service.tender_lots(session, tender):
        bids.submit_bid(
            session,
            user,
            pk(tender),
            pk(lot),
            data=BidIn(unit_price=Decimal(price), quality_statement=statement),
        )


def _ask(
    session: Session, cast: Cast, asker: User, tender: Tender, question: str, answer: str | None
) -> None:
    """A provider's question, answered by the officer unless ``answer`` is None."""
    asked = questions.ask_question(
        session, asker, pk(tender), data=QuestionCreate(question=question)
    )
    if answer is not None:
        questions.answer_question(
            session, cast.officer, pk(tender), pk(asked), data=AnswerCreate(answer=answer)
        )


def _award_every_lot(session: Session, cast: Cast, tender: Tender, settings: Settings) -> None:
    """Declare (no conflict), score each bid (LMA's 85, others 70) and award each lot to its
    top-ranked bid."""
    declarations.declare(session, cast.officer, pk(tender), data=DeclarationIn(conflict=False))
    for lot in service.tender_lots(session, tender):
        for row in evaluation.evaluation_rows(session, tender, lot):
            score = Decimal("85") if "Metropolitan" in row.provider else Decimal("70")
            evaluation.score_bid(session, cast.officer, row.bid_id, quality_score=score)
        top = evaluation.evaluation_rows(session, tender, lot)[0]
        awards.award_lot(
            session,
            cast.officer,
            pk(tender),
            pk(lot),
            data=AwardIn(bid_id=top.bid_id),
            settings=settings,
        )


def _published(
    session: Session, cast: Cast, category: str, real: datetime, settings: Settings,
    *, ago: timedelta,
) -> Tender | None:
    """The category's tender (see ``_tender``), published ``ago`` before ``real`` now."""
    clock.set(real - ago)
    tender = _tender(session, cast.officer, category, real)
    if tender is not None:
        drafting.publish_tender(session, cast.officer, pk(tender), settings=settings)
    return tender


def _awarded_storage(session: Session, cast: Cast, real: datetime, settings: Settings) -> None:
    """Storage: published 20 days ago, closed 8 days ago, awarded 3 days ago."""
    storage = _published(session, cast, "storage", real, settings, ago=timedelta(days=20))
    if storage is None:
        return
    clock.set(real - timedelta(days=18))
    _ask(session, cast, cast.thames, storage, "Is mobile racking acceptable?",
         "Yes, if BS EN 16893 conditions are met.")
    _bid(session, cast.lma, storage, "11.50", "Purpose-built strongrooms at Clerkenwell.")
    _bid(session, cast.thames, storage, "9.80", "Climate-controlled store in Dartford.")
    clock.set(real - timedelta(days=3))
    _award_every_lot(session, cast, storage, settings)


def _open_conservation(session: Session, cast: Cast, real: datetime, settings: Settings) -> None:
    """Conservation: open, with questions, bids and an amendment."""
    conservation = _published(session, cast, "conservation", real, settings, ago=timedelta(days=2))
    if conservation is None:
        return
    _ask(session, cast, cast.bankside, conservation, "Are bound volumes included?",
         "Yes: see the specification.")
    _ask(session, cast, cast.capital, conservation, "May we subcontract?", None)
    _bid(session, cast.bankside, conservation, "48.00", "Accredited conservators (Icon).")
    _bid(session, cast.lma, conservation, "52.00", "In-house studio with 12 conservators.")
    clock.set(real - timedelta(days=1))
    drafting.amend_tender(
        session,
        cast.officer,
        pk(conservation),
        data=AmendmentCreate.model_validate(
            {
                "reason": "More time for site visits.",
                "submission_deadline": _noon(real + timedelta(days=21)),
            }
        ),
    )


def _new_and_draft(session: Session, cast: Cast, real: datetime, settings: Settings) -> None:
    """Digitisation: just published. Training: a draft."""
    _published(session, cast, "digitisation", real, settings, ago=timedelta(hours=2))
    _tender(session, cast.officer, "training", real)


def seed(session: Session, ctx: DemoContext) -> None:
    """Tenders in several states (skipped if any tender exists)."""
    if session.exec(select(func.count()).select_from(Tender)).one():
        return
    cast = Cast.of(ctx)
    real = clock.now()
    try:
        _awarded_storage(session, cast, real, ctx.settings)
        _open_conservation(session, cast, real, ctx.settings)
        _new_and_draft(session, cast, real, ctx.settings)
    finally:
        clock.reset()
    session.flush()
