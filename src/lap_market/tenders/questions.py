"""Clarification questions: asked by providers, answered for every provider to read."""

from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, Role, User
from lap_market.accounts.policy import is_provider
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.notifications import events
from lap_market.tenders.models import Question, Tender, TenderStatus
from lap_market.tenders.policy import is_officer, require_provider
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import AnswerCreate, QuestionCreate, QuestionRead
from lap_market.tenders.service import get_tender, get_tender_for_officer


def ask_question(
    session: Session, actor: User, tender_id: int, *, data: QuestionCreate
) -> Question:
    """A provider's question on a published tender, before the clarification deadline."""
    require_provider(actor)
    tender = get_tender(session, actor, tender_id)
    now = clock.now()
    if effective_status(tender, now) != TenderStatus.PUBLISHED:
        raise Conflict("Questions can only be asked while the tender is open.")
    if tender.clarification_deadline is None or as_utc(tender.clarification_deadline) <= now:
        raise Conflict(
            "The clarification deadline has passed: no more questions can be asked.",
            field="question",
        )
    text = data.question.strip()
    if not text:
        raise Invalid("Enter your question.", field="question")
    question = Question(
        tender_id=tender.id,  # type: ignore[arg-type]
        asked_by_org_id=actor.organisation_id,
        asked_by_id=actor.id,  # type: ignore[arg-type]
        question=text,
        asked_at=now,
    )
    session.add(question)
    session.flush()
    audit.record(
        session,
        actor,
        action="question.asked",
        object_type="question",
        object_id=question.id,
        details={"tender_id": tender.id},
    )
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
    if tender.status == TenderStatus.CANCELLED:
        raise Conflict("This tender has been cancelled.")
    if question.answer is not None:
        raise Conflict("This question has already been answered.")
    text = data.answer.strip()
    if not text:
        raise Invalid("Enter the answer.", field="answer")
    question.answer = text
    question.answered_by_id = actor.id
    question.answered_at = clock.now()
    session.add(question)
    audit.record(
        session,
        actor,
        action="question.answered",
        object_type="question",
        object_id=question.id,
        details={"tender_id": tender.id},
    )
    events.question_answered(session, tender, question)
    return question


def list_questions(session: Session, actor: User, tender_id: int) -> list[QuestionRead]:
    """Answered questions for everyone who sees the tender; a provider also sees its own
    unanswered ones; officers see every question and who asked it."""
    tender = get_tender(session, actor, tender_id)
    return question_reads(session, actor, tender)


def question_reads(session: Session, actor: User, tender: Tender) -> list[QuestionRead]:
    """What ``actor`` may read of ``tender``'s questions (see ``list_questions``)."""
    questions = session.exec(
        select(Question).where(Question.tender_id == tender.id).order_by(col(Question.id))
    ).all()
    officer = is_officer(actor) or actor.role == Role.ADMIN
    names: dict[int, str] = {}
    if officer and questions:
        ids = {q.asked_by_org_id for q in questions}
        names = {
            o.id: o.name  # type: ignore[misc]
            for o in session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
        }
    reads = []
    for q in questions:
        mine = is_provider(actor) and q.asked_by_org_id == actor.organisation_id
        if not (officer or q.answer is not None or mine):
            continue
        reads.append(
            QuestionRead(
                id=q.id,  # type: ignore[arg-type]
                tender_id=q.tender_id,
                question=q.question,
                asked_at=as_utc(q.asked_at),
                answer=q.answer,
                answered_at=as_utc(q.answered_at) if q.answered_at else None,
                mine=mine,
                asked_by=names.get(q.asked_by_org_id) if officer else None,
            )
        )
    return reads
