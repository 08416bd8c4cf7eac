"""Conflict-of-interest declarations (Procurement Act 2023 s.81–83), kept as data.

After a tender's submission deadline, when its bidders can be named, every officer who will
score or award it declares "no conflict" or a conflict (with details and the bidders it
concerns). A conflict bars that officer until another officer records a mitigation. Scoring
and award ask ``require_clear_to_score`` / ``require_clear_to_award`` first.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select, update

from lap_market.accounts.models import Organisation, User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.modeling import conditional_update, pk
from lap_market.tenders.models import Bid, BidStatus, Declaration, Tender, TenderStatus
from lap_market.tenders.policy import (
    can_mitigate,
    can_read_declarations,
    declaration_clears,
    is_officer,
    may_award,
    may_score,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import (
    DeclarationIn,
    DeclarationRead,
    DeclaredBidder,
    MitigationIn,
)
from lap_market.tenders.service import get_tender, get_tender_for_officer


def _require_open(tender: Tender) -> None:
    """Declarations open once bids are unsealed (the bidders are known) and not cancelled."""
    status = effective_status(tender)
    if status in (TenderStatus.DRAFT, TenderStatus.PUBLISHED):
        raise Conflict("Declarations open after the submission deadline, when the bidders "
                       "are known.")
    if status == TenderStatus.CANCELLED:
        raise Conflict("This tender has been cancelled.")


def bidders(session: Session, tender_id: int) -> list[tuple[int, str]]:
    """The organisations with an active bid in the tender, by name."""
    rows = session.exec(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.id).in_(
            select(Bid.provider_id).where(Bid.tender_id == tender_id,
                                          Bid.status == BidStatus.ACTIVE)
        ))
        .order_by(col(Organisation.name))
    ).all()
    return [(int(i), name) for i, name in rows if i is not None]


def declare(session: Session, actor: User, tender_id: int, *, data: DeclarationIn) -> Declaration:
    """Record the actor's declaration for the tender (once; a second is refused, 409)."""
    tender = get_tender_for_officer(session, actor, tender_id)
    _require_open(tender)
    known = bidders(session, pk(tender))
    known_ids = {i for i, _ in known}
    concerned = sorted(set(data.bidder_ids))
    details = (data.details or "").strip() or None
    if data.conflict and details is None:
        raise Invalid("Describe the conflict of interest.", field="details")
    if data.conflict and not concerned:
        raise Invalid("Choose the bidders the conflict concerns.", field="bidder_ids")
    if not data.conflict and concerned:
        raise Invalid("Name bidders only when declaring a conflict.", field="bidder_ids")
    if set(concerned) - known_ids:
        raise Invalid("Name only organisations that bid in this tender.", field="bidder_ids")
    declaration = Declaration(
        tender_id=pk(tender), officer_id=pk(actor), conflict=data.conflict, details=details,
        bidders=[{"id": i, "name": name} for i, name in known], conflict_bidder_ids=concerned,
        declared_at=clock.now(),
    )
    session.add(declaration)
    try:  # the unique (tender, officer) key decides a double submission
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("You have already declared for this tender.", field="conflict") from exc
    audit.record(
        session, actor, action="declaration.made", object_type="tender", object_id=tender.id,
        details={"declaration_id": declaration.id, "conflict": data.conflict,
                 "bidder_ids": concerned, "details": details},
    )
    return declaration


def get_declaration(session: Session, actor: User, declaration_id: int) -> Declaration:
    """A declaration, for officers and admins (404 for anyone else)."""
    declaration = session.get(Declaration, declaration_id)
    if declaration is None or not can_read_declarations(actor):
        raise NotFound("No such declaration.", field="declaration_id")
    return declaration


def mitigate(
    session: Session, actor: User, declaration_id: int, *, data: MitigationIn
) -> Declaration:
    """Another officer records how a declared conflict is mitigated (once: a conditional
    UPDATE, so of two officers mitigating at once exactly one is recorded)."""
    declaration = session.get(Declaration, declaration_id)
    if declaration is None or not is_officer(actor):
        raise NotFound("No such declaration.", field="declaration_id")
    if not declaration.conflict:
        raise Conflict("This declaration records no conflict: there is nothing to mitigate.")
    if declaration.officer_id == actor.id:
        raise Forbidden("Another officer must record the mitigation of your own conflict.")
    if not can_mitigate(actor, declaration):
        raise Conflict("This conflict has already been mitigated.")
    now = clock.now()
    try:
        won = conditional_update(
            session,
            update(Declaration)
            .where(col(Declaration.id) == declaration.id, col(Declaration.mitigated_at).is_(None))
            .values(mitigation_measure=data.measure.strip(),
                    mitigation_reason=data.reason.strip(), mitigated_by_id=actor.id,
                    mitigated_at=now),
        )
    except OperationalError as exc:  # SQLite: the other writer holds the lock past our timeout
        raise Conflict("Another officer is mitigating this conflict right now.") from exc
    if not won:
        raise Conflict("This conflict has just been mitigated by another officer.")
    session.refresh(declaration)
    audit.record(
        session, actor, action="declaration.mitigated", object_type="tender",
        object_id=declaration.tender_id,
        details={"declaration_id": declaration.id, "officer_id": declaration.officer_id,
                 "measure": declaration.mitigation_measure,
                 "reason": declaration.mitigation_reason},
    )
    return declaration


def for_tender(session: Session, tender_id: int) -> dict[int, Declaration]:
    """The tender's declarations by officer id."""
    rows = session.exec(select(Declaration).where(Declaration.tender_id == tender_id)).all()
    return {d.officer_id: d for d in rows}


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.name).where(col(User.id).in_(ids))).all()
    return {int(i): name for i, name in rows if i is not None}


def require_clear_to_score(session: Session, actor: User, tender: Tender) -> None:
    """409 unless the actor's declaration for the tender clears them to score."""
    declaration = for_tender(session, pk(tender)).get(pk(actor))
    if may_score(actor, declaration):
        return
    if declaration is None:
        raise Conflict(f"Declare your interests for {tender.reference} before scoring its bids.")
    raise Conflict(f"Your declared conflict of interest in {tender.reference} has not been "
                   "mitigated by another officer: you cannot score or award it.")


def require_clear_to_award(session: Session, actor: User, tender: Tender) -> None:
    """409 naming who has not declared, or whose conflict is unmitigated, among the awarding
    officer and every officer who scored the tender's bids."""
    declared = for_tender(session, pk(tender))
    scorers = set(session.exec(
        select(Bid.scored_by_id).where(Bid.tender_id == tender.id,
                                       col(Bid.scored_by_id).is_not(None))
    ).all())
    involved = {i for i in scorers if i is not None} | {pk(actor)}
    names = _names(session, involved)
    missing = sorted(names[i] for i in involved if i not in declared)
    if missing:
        raise Conflict(f"Award blocked: not yet declared for {tender.reference}: "
                       + ", ".join(missing) + ".")
    blocked = sorted(names[i] for i in involved if not declaration_clears(declared[i]))
    if blocked or not may_award(actor, declared[pk(actor)]):
        raise Conflict("Award blocked: a declared conflict is not yet mitigated: "
                       + ", ".join(blocked) + ".")


def list_for_tender(session: Session, actor: User, tender_id: int) -> list[DeclarationRead]:
    """The tender's declarations, for its record (officers and admins)."""
    tender = get_tender(session, actor, tender_id)
    if not can_read_declarations(actor):
        raise Forbidden("Only officers and admins read a tender's declarations.")
    return declaration_reads(session, pk(tender))


def declaration_reads(session: Session, tender_id: int) -> list[DeclarationRead]:
    """Every declaration of the tender, oldest first, with names."""
    rows = sorted(for_tender(session, tender_id).values(), key=lambda d: d.declared_at)
    names = _names(session, {d.officer_id for d in rows}
                   | {d.mitigated_by_id for d in rows if d.mitigated_by_id is not None})
    return [declaration_read(d, names) for d in rows]


def read_one(session: Session, declaration: Declaration) -> DeclarationRead:
    """One declaration with its names."""
    ids = {declaration.officer_id, declaration.mitigated_by_id}
    return declaration_read(declaration, _names(session, {i for i in ids if i is not None}))


def declaration_read(d: Declaration, names: dict[int, str]) -> DeclarationRead:
    concerned = set(d.conflict_bidder_ids)
    return DeclarationRead(
        id=pk(d), tender_id=d.tender_id, officer_id=d.officer_id,
        officer_name=names.get(d.officer_id, ""), conflict=d.conflict, details=d.details,
        bidders=[DeclaredBidder(id=b["id"], name=b["name"], conflict=b["id"] in concerned)
                 for b in d.bidders],
        declared_at=d.declared_at, mitigated=d.mitigated_at is not None,
        mitigation_measure=d.mitigation_measure, mitigation_reason=d.mitigation_reason,
        mitigated_by_id=d.mitigated_by_id,
        mitigated_by_name=names.get(d.mitigated_by_id) if d.mitigated_by_id else None,
        mitigated_at=d.mitigated_at, clear=declaration_clears(d),
    )


def workspace_context(session: Session, actor: User, tender: Tender) -> dict[str, Any]:
    """What the workspace's declarations section shows the actor (officers and admins)."""
    if not can_read_declarations(actor):
        return {"declarations": None}
    status = effective_status(tender)
    reads = declaration_reads(session, pk(tender))
    rows = for_tender(session, pk(tender))
    return {
        "declarations": reads,
        "declaration_open": status not in (
            TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CANCELLED),
        "my_declaration": next((d for d in reads if d.officer_id == actor.id), None),
        "may_declare": is_officer(actor) and actor.id not in rows,
        "tender_bidders": bidders(session, pk(tender)),
        "may_mitigate": {d.id: can_mitigate(actor, rows[d.officer_id]) for d in reads},
    }
