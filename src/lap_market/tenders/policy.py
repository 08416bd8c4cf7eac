"""Who may see and do what with tenders, lots, bids, questions and awards: the one place these
rules live. Services enforce them (``require(can_x(...), message)`` or a Conflict naming the
state); routes and templates read them (``can_cancel`` is a template global)."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.accounts.policy import acts_for, is_admin, is_borough_manager, require
from lap_market.accounts.policy import is_officer as is_officer  # re-exported for tenders
from lap_market.accounts.policy import is_provider as is_provider
from lap_market.clock import as_utc, clock
from lap_market.demand.models import Demand
from lap_market.tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Declaration,
    Lot,
    LotStatus,
    Question,
    Tender,
    TenderStatus,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.workdays import standstill_over

# A tender can be cancelled (whole, or a lot of it) until it is awarded.
CANCELLABLE = frozenset({TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED})


# --- who the actor is -----------------------------------------------------------------------


def reads_every_tender(actor: User) -> bool:
    """Admins read tenders as officers do, but only officers act on them."""
    return is_officer(actor) or is_admin(actor)


def reads_every_question(actor: User) -> bool:
    """Officers and admins see every question and who asked it."""
    return reads_every_tender(actor)


def oversees_bids(actor: User) -> bool:
    """Officers see how many bids each lot has before the deadline (never whose), and every
    bid after it; a provider sees only its own."""
    return is_officer(actor)


def require_officer(actor: User) -> None:
    """Only procurement officers run tenders."""
    require(is_officer(actor), "Only procurement officers may do this.")


def require_provider(actor: User) -> None:
    """Only providers ask questions and bid."""
    require(is_provider(actor), "Only providers may do this.")


# --- seeing ---------------------------------------------------------------------------------


def visible_tenders(query: Any, actor: User) -> Any:
    """Filter a ``select(Tender)`` to what ``actor`` may see.

    Officers see every tender; providers every tender ever published (never drafts);
    borough managers the published tenders that hold their demand.
    """
    if reads_every_tender(actor):
        return query
    if is_provider(actor):
        return query.where(col(Tender.published_at).is_not(None))
    if is_borough_manager(actor):
        holding = select(Demand.tender_id).where(
            Demand.borough_id == actor.organisation_id, col(Demand.tender_id).is_not(None)
        )
        return query.where(col(Tender.published_at).is_not(None), col(Tender.id).in_(holding))
    return query.where(col(Tender.id).is_(None))


def can_see_tender(session: Session, actor: User, tender: Tender) -> bool:
    """Whether ``actor`` may see ``tender`` at all."""
    query = visible_tenders(select(Tender.id).where(Tender.id == tender.id), actor)
    return session.exec(query).first() is not None


# --- running a tender -----------------------------------------------------------------------


def can_edit(tender: Tender) -> bool:
    """Only a draft is edited (or published); a published tender is amended instead."""
    return tender.status == TenderStatus.DRAFT


def can_amend(tender: Tender, now: datetime | None = None) -> bool:
    """A tender is amended while it is published and before its submission deadline."""
    return effective_status(tender, now) == TenderStatus.PUBLISHED


def can_cancel(tender: Tender) -> bool:
    """A tender (or a lot of it) is cancelled before it is awarded."""
    return tender.status in CANCELLABLE


# --- questions and bids ---------------------------------------------------------------------


def can_ask(actor: User, tender: Tender, now: datetime | None = None) -> bool:
    """A provider asks while the tender is open and before its clarification deadline."""
    now = now or clock.now()
    return (
        is_provider(actor)
        and effective_status(tender, now) == TenderStatus.PUBLISHED
        and tender.clarification_deadline is not None
        and as_utc(tender.clarification_deadline) > now
    )


def can_answer(tender: Tender, question: Question) -> bool:
    """A question is answered once, on a tender that is not cancelled."""
    return tender.status != TenderStatus.CANCELLED and question.answer is None


def asked_by(actor: User, question: Question) -> bool:
    """Whether ``actor``'s organisation (a provider) asked ``question``."""
    return is_provider(actor) and acts_for(actor, question.asked_by_org_id)


def can_bid(actor: User, tender: Tender, now: datetime | None = None) -> bool:
    """A provider bids (or withdraws) while the tender is published, before the deadline."""
    return is_provider(actor) and effective_status(tender, now) == TenderStatus.PUBLISHED


def lot_takes_bids(lot: Lot) -> bool:
    return lot.status == LotStatus.OPEN


def bids_sealed(tender: Tender) -> bool:
    """Nothing about a bid is shown to others until the submission deadline."""
    return effective_status(tender) in (TenderStatus.DRAFT, TenderStatus.PUBLISHED)


# --- evaluation and award -------------------------------------------------------------------


def can_evaluate(tender: Tender) -> bool:
    """Bids are scored and ranked once the deadline has passed, unless the tender is
    cancelled."""
    return not bids_sealed(tender) and effective_status(tender) != TenderStatus.CANCELLED


def can_score(bid: Bid, lot: Lot) -> bool:
    """An active bid in a lot still open (an awarded lot's scores are final)."""
    return bid.status == BidStatus.ACTIVE and lot.status == LotStatus.OPEN


def can_award(lot: Lot) -> bool:
    """Only an open lot is awarded (or marked unsuccessful)."""
    return lot.status == LotStatus.OPEN


def can_revoke(award: Award, now: datetime | None = None) -> bool:
    """An award is revoked only during its standstill."""
    return award.status == AwardStatus.STANDSTILL and not standstill_over(
        award.standstill_ends, now or clock.now(), awarded_at=award.awarded_at
    )


def lot_display_status(tender: Tender, lot_status: str) -> str:
    """A lot's status as people should read it: the lots of a draft are drafts too (stored
    as ``open``, ready for bids once the tender is published)."""
    if can_edit(tender) and lot_status == LotStatus.OPEN:
        return "draft"
    return lot_status


# --- a borough that sells (issue 17) --------------------------------------------------------


def pools_own_demand(session: Session, actor: User, lot_id: int) -> bool:
    """Whether the lot pools demand of ``actor``'s own organisation (a borough that sells
    may not bid for what it is itself buying)."""
    own = select(Demand.id).where(
        Demand.lot_id == lot_id, Demand.borough_id == actor.organisation_id
    )
    return session.exec(own.limit(1)).first() is not None


# --- conflicts of interest (Procurement Act 2023 s.81–83) -----------------------------------


def declaration_clears(declaration: Declaration | None) -> bool:
    """Declared, and either no conflict or a conflict another officer has mitigated."""
    if declaration is None:
        return False
    return not declaration.conflict or declaration.mitigated_at is not None


def may_score(officer: User, declaration: Declaration | None) -> bool:
    """An officer scores a tender's bids only once their own declaration clears them."""
    return is_officer(officer) and declaration_clears(declaration)


def may_award(officer: User, declaration: Declaration | None) -> bool:
    """The awarding officer, like every scorer, must be cleared by their declaration."""
    return may_score(officer, declaration)


def can_read_declarations(actor: User) -> bool:
    """Officers and admins read a tender's declarations (part of its record)."""
    return reads_every_tender(actor)


def can_mitigate(officer: User, declaration: Declaration) -> bool:
    """Another officer (never the one conflicted) records how a conflict is managed, once."""
    return (
        is_officer(officer)
        and declaration.conflict
        and declaration.mitigated_at is None
        and declaration.officer_id != officer.id
    )
