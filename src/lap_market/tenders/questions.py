"""Clarification questions: asked by providers, answered for every provider to read."""

from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock
from lap_market.errors import Conflict, NotFound
from lap_market.modeling import pk
from lap_market.notifications import events
from lap_market.tenders.models import Question, Tender, TenderStatus, eager
from lap_market.tenders.policy import (
    asked_by,
    can_answer,
    can_ask,
    reads_every_question,
    require_provider,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import AnswerCreate, QuestionCreate, QuestionRead
from lap_market.tenders.service import get_tender, get_tender_for_officer, required_text


def _record(session: Session, actor: User, question: Question, event: str) -> None:
    audit.record(
        session,
        actor,
        action=f"question.{event}",
        object_type="question",
        object_id=question.id,
        details={"tender_id": question.tender_id},
    )


def ask_question(
    session: Session, actor: User, tender_id: int, *, data: QuestionCreate
) -> Question:
    """A provider's question on a published tender, before the clarification deadline."""
    require_provider(actor)
    tender = get_tender(session, actor, tender_id)
    now = clock.now()
    if not can_ask(actor, tender, now):
        if effective_status(tender, now) != TenderStatus.PUBLISHED:
            raise Conflict("Questions can only be asked while the tender is open.")
        raise Conflict(
            "The clarification deadline has passed: no more questions can be asked.",
            field="question",
        )
    question = Question(
        tender_id=pk(tender),
        asked_by_org_id=actor.organisation_id,
        asked_by_id=pk(actor),
        question=required_text(data.question, field="question", message="Enter your question."),
        asked_at=now,
    )
    session.add(question)
    session.flush()
    _record(session, actor, question, "asked")
    events.question_asked(session, tender, question)
    return question


def answer_question(
    session: Session, actor: User, tender_id: int, question_id: int, *, data: AnswerCreate
) -> Question:
    """The officer's answer, published to every provider without naming who asked."""
    tender = get_tender_for_officer(session, actor, tender_id)
    question = session.get(Question, question_id)
    if question is None or question.tender_id != tender.id:
        raise NotFound("No such question on this tender.")
    if not can_answer(tender, question):
        raise Conflict(
            "This tender has been cancelled."
            if tender.status == TenderStatus.CANCELLED
            else "This question has already been answered."
        )
    question.answer = required_text(data.answer, field="answer", message="Enter the answer.")
    question.answered_by_id = actor.id
    question.answered_at = clock.now()
    session.add(question)
    _record(session, actor, question, "answered")
    events.question_answered(session, tender, question)
    return question


def list_questions(session: Session, actor: User, tender_id: int) -> list[QuestionRead]:
    """Answered questions for everyone who sees the tender; a provider also sees its own
    unanswered ones; officers see every question and who asked it."""
    tender = get_tender(session, actor, tender_id)
    return question_reads(session, actor, tender)


def question_read(question: Question, *, mine: bool, asked_by: str | None = None) -> QuestionRead:
    """The API view of a question; ``asked_by`` only for those who may know who asked."""
    return QuestionRead(
        id=pk(question),
        tender_id=question.tender_id,
        question=question.question,
        asked_at=as_utc(question.asked_at),
        answer=question.answer,
        answered_at=as_utc(question.answered_at) if question.answered_at else None,
        mine=mine,
        asked_by=asked_by,
    )


def question_reads(session: Session, actor: User, tender: Tender) -> list[QuestionRead]:
    """What ``actor`` may read of ``tender``'s questions (see ``list_questions``)."""
    every = reads_every_question(actor)
    query = select(Question).where(Question.tender_id == tender.id).order_by(col(Question.id))
    if every:
        query = query.options(eager(Question.asked_by_org))
    reads = []
    for q in session.exec(query).all():
        mine = asked_by(actor, q)
        if every:
            reads.append(question_read(q, mine=mine, asked_by=q.asked_by_org.name))
        elif q.answer is not None or mine:
            reads.append(question_read(q, mine=mine))
    return reads
