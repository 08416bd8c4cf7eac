"""Running a tender: edit, publish, amend, close. Cancelling, bids, questions and awards live
in their own modules; all of them share the loading and visibility helpers here."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.frameworks import terms as framework_terms
from lap_market.notifications import events
from lap_market.paging import paginate
from lap_market.tenders.models import (
    Amendment,
    Bid,
    BidStatus,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.policy import can_see_tender, is_officer, require_officer, visible_tenders
from lap_market.tenders.read import effective_status, effective_status_column, tender_reads
from lap_market.tenders.schemas import AmendmentCreate, TenderRead, TenderUpdate

SETTLED_LOT_STATUSES = frozenset({LotStatus.AWARDED, LotStatus.UNSUCCESSFUL, LotStatus.CONTRACTED})


# --- shared helpers ----------------------------------------------------------------------


def conditional_update(session: Session, statement: Any) -> int:
    """Run an ``UPDATE … WHERE <expected state>`` and return how many rows it changed."""
    statement = statement.execution_options(synchronize_session=False)
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)


def aware(moment: datetime) -> datetime:
    """A datetime as aware UTC (a naive one is taken to be UTC already)."""
    return as_utc(moment)


def get_tender(session: Session, actor: User, tender_id: int) -> Tender:
    """The tender, if ``actor`` may see it (404 otherwise, so drafts stay invisible)."""
    tender = session.get(Tender, tender_id)
    if tender is None or not can_see_tender(session, actor, tender):
        raise NotFound("No such tender.")
    return tender


def get_tender_for_officer(session: Session, actor: User, tender_id: int) -> Tender:
    """The tender for an officer's action. Visibility is checked first, so a tender the actor
    may not see (a draft, for a provider) answers 404 on every verb, never 403."""
    tender = get_tender(session, actor, tender_id)
    require_officer(actor)
    return tender


def get_lot(session: Session, tender: Tender, lot_id: int) -> Lot:
    """A lot of this tender (404 for a lot of another tender)."""
    lot = session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        raise NotFound("No such lot in this tender.", field="lot_id")
    return lot


def tender_lots(session: Session, tender: Tender) -> list[Lot]:
    """The tender's lots in number order."""
    return list(
        session.exec(select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number))).all()
    )


def persist_closed(session: Session, tender: Tender) -> None:
    """Store ``closed`` once the deadline has passed (reads already derive it from the clock)."""
    now = clock.now()
    if effective_status(tender, now) != TenderStatus.CLOSED or tender.status == TenderStatus.CLOSED:
        return
    changed = conditional_update(
        session,
        update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status) == TenderStatus.PUBLISHED,
            col(Tender.submission_deadline) <= now,
        )
        .values(status=TenderStatus.CLOSED, updated_at=now),
    )
    session.refresh(tender)
    if changed:
        audit.record(
            session,
            None,
            action="tender.closed",
            object_type="tender",
            object_id=tender.id,
            details={
                "reference": tender.reference,
                "submission_deadline": tender.submission_deadline,
            },
        )


def bid_counts(session: Session, tender: Tender) -> dict[int, int]:
    """Active bids per lot: the only thing about bids anyone sees before the deadline."""
    rows = session.exec(
        select(Bid.lot_id, func.count())
        .where(Bid.tender_id == tender.id, Bid.status == BidStatus.ACTIVE)
        .group_by(col(Bid.lot_id))
    ).all()
    return {lot_id: int(count) for lot_id, count in rows}


def settle_tender(session: Session, tender: Tender) -> None:
    """A tender is awarded once every live lot is awarded or unsuccessful; an award revoked
    sends it back to closed; a tender whose every lot is cancelled is cancelled."""
    lots = [lot for lot in tender_lots(session, tender) if lot.status != LotStatus.CANCELLED]
    now = clock.now()
    if not lots:
        if tender.status == TenderStatus.CANCELLED:
            return
        tender.status = TenderStatus.CANCELLED
        tender.cancelled_at = now
        tender.cancel_reason = tender.cancel_reason or "Every lot was cancelled."
        audit.record(
            session,
            None,
            action="tender.cancelled",
            object_type="tender",
            object_id=tender.id,
            details={"reference": tender.reference, "reason": tender.cancel_reason},
        )
    elif all(lot.status in SETTLED_LOT_STATUSES for lot in lots):
        if tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED):
            tender.status = TenderStatus.AWARDED
            audit.record(
                session,
                None,
                action="tender.awarded",
                object_type="tender",
                object_id=tender.id,
                details={"reference": tender.reference},
            )
    elif tender.status == TenderStatus.AWARDED:
        tender.status = TenderStatus.CLOSED
        audit.record(
            session,
            None,
            action="tender.reopened",
            object_type="tender",
            object_id=tender.id,
            details={"reference": tender.reference, "status": TenderStatus.CLOSED},
        )
    else:
        return
    tender.updated_at = now
    session.add(tender)


# --- reading -------------------------------------------------------------------------------


def tenders_query(
    actor: User, *, status: str | None = None, not_status: str | None = None
) -> Any:
    """Tenders ``actor`` may see, newest first, optionally of one (effective) status or of
    any status but one."""
    query = visible_tenders(select(Tender), actor)
    if status:
        query = query.where(effective_status_column() == status)
    if not_status:
        query = query.where(effective_status_column() != not_status)
    return query.order_by(col(Tender.id).desc())


def list_tenders(
    session: Session, actor: User, *, status: str | None = None, limit: int | None = None
) -> list[Tender]:
    """Tenders ``actor`` may see, newest first, optionally of one (effective) status."""
    return list(session.exec(tenders_query(actor, status=status).limit(limit)).all())


def page_tenders(
    session: Session,
    actor: User,
    *,
    page: int,
    page_size: int,
    status: str | None = None,
    not_status: str | None = None,
) -> tuple[list[Tender], int]:
    """One page of the tenders ``actor`` may see, and how many there are in all."""
    query = tenders_query(actor, status=status, not_status=not_status)
    return paginate(session, query, page=page, page_size=page_size)


def count_tenders(session: Session, actor: User) -> dict[str, int]:
    """How many tenders ``actor`` may see in each effective status, counted by the database."""
    status = effective_status_column()
    query = visible_tenders(select(status, func.count()).select_from(Tender), actor).group_by(
        status
    )
    return {str(s): int(n) for s, n in session.exec(query).all()}


def view_tender(session: Session, actor: User, tender: Tender, settings: Settings) -> TenderRead:
    """The API view of a tender; officers also get the number of bids per lot."""
    return view_tenders(session, actor, [tender], settings)[0]


def view_tenders(
    session: Session, actor: User, tenders: list[Tender], settings: Settings
) -> list[TenderRead]:
    """API views of many tenders in a fixed number of queries (bid counts for officers)."""
    reads = tender_reads(session, tenders, settings)
    if is_officer(actor) and tenders:
        rows = session.exec(
            select(Bid.lot_id, func.count())
            .where(col(Bid.tender_id).in_([t.id for t in tenders]), Bid.status == BidStatus.ACTIVE)
            .group_by(col(Bid.lot_id))
        ).all()
        counts = {lot_id: int(count) for lot_id, count in rows}
        for read in reads:
            for lot in read.lots:
                lot.bid_count = counts.get(lot.id, 0)
    return reads


# --- draft and publish ----------------------------------------------------------------------


def _check_deadlines(
    clarification: datetime | None, submission: datetime | None, *, changed: set[str]
) -> None:
    now = clock.now()
    for name, value in (
        ("clarification_deadline", clarification),
        ("submission_deadline", submission),
    ):
        if value is not None and name in changed and value <= now:
            raise Invalid(f"The {name.replace('_', ' ')} must be in the future.", field=name)
    if clarification is not None and submission is not None and clarification >= submission:
        raise Invalid(
            "The clarification deadline must be before the submission deadline.",
            field="clarification_deadline",
        )


def update_tender(session: Session, actor: User, tender_id: int, *, data: TenderUpdate) -> Tender:
    """Edit a draft's title, description, weights and deadlines."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if tender.status != TenderStatus.DRAFT:
        raise Conflict("Only a draft tender can be edited; amend a published one instead.")
    given = data.model_dump(exclude_unset=True)
    for name in ("title",):
        if name in given and given[name] is None:
            raise Invalid("The title cannot be empty.", field=name)
    if "title" in given:
        given["title"] = given["title"].strip()
        if not given["title"]:
            raise Invalid("Enter a title.", field="title")
    price = given.get("price_weight", tender.price_weight)
    quality = given.get("quality_weight", tender.quality_weight)
    if price is None or quality is None or price + quality != 100:
        raise Invalid(
            f"The price and quality weights must add up to 100 (they add up to "
            f"{(price or 0) + (quality or 0)}).",
            field="price_weight",
        )
    for name in ("clarification_deadline", "submission_deadline"):
        if name in given and given[name] is not None:
            given[name] = aware(given[name])
    clarification = given.get("clarification_deadline", tender.clarification_deadline)
    submission = given.get("submission_deadline", tender.submission_deadline)
    _check_deadlines(
        aware(clarification) if clarification else None,
        aware(submission) if submission else None,
        changed=set(given),
    )
    changes: dict[str, Any] = framework_terms.apply(tender, data, clock.today())
    for name, value in given.items():
        if name in framework_terms.FIELDS:
            continue
        if getattr(tender, name) != value:
            setattr(tender, name, value)
            changes[name] = value
    if changes:
        tender.updated_at = clock.now()
        session.add(tender)
        audit.record(
            session,
            actor,
            action="tender.updated",
            object_type="tender",
            object_id=tender.id,
            details={"changed": changes},
        )
    return tender


def publish_tender(session: Session, actor: User, tender_id: int) -> Tender:
    """Publish a complete draft: at least one lot, weights adding to 100, future deadlines."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if tender.status != TenderStatus.DRAFT:
        raise Conflict(f"This tender is {effective_status(tender)}, not a draft.")
    lots = [lot for lot in tender_lots(session, tender) if lot.status == LotStatus.OPEN]
    if not lots:
        raise Invalid("A tender needs at least one lot before it can be published.", field="lots")
    if not tender.title.strip():
        raise Invalid("Enter a title.", field="title")
    if tender.price_weight + tender.quality_weight != 100:
        raise Invalid("The price and quality weights must add up to 100.", field="price_weight")
    for name in ("clarification_deadline", "submission_deadline"):
        if getattr(tender, name) is None:
            raise Invalid(f"Set the {name.replace('_', ' ')} before publishing.", field=name)
    assert tender.clarification_deadline and tender.submission_deadline
    _check_deadlines(
        aware(tender.clarification_deadline),
        aware(tender.submission_deadline),
        changed={"clarification_deadline", "submission_deadline"},
    )
    now = clock.now()
    changed = conditional_update(
        session,
        update(Tender)
        .where(col(Tender.id) == tender.id, col(Tender.status) == TenderStatus.DRAFT)
        .values(status=TenderStatus.PUBLISHED, published_at=now, updated_at=now),
    )
    if not changed:
        raise Conflict("This tender has just been published or cancelled by someone else.")
    session.refresh(tender)
    audit.record(
        session,
        actor,
        action="tender.published",
        object_type="tender",
        object_id=tender.id,
        details={
            "reference": tender.reference,
            "lots": len(lots),
            "submission_deadline": tender.submission_deadline,
        },
    )
    events.tender_published(session, tender)
    return tender


# --- amend ----------------------------------------------------------------------------------


def amend_tender(
    session: Session, actor: User, tender_id: int, *, data: AmendmentCreate
) -> Amendment:
    """Extend deadlines or change the description of a published tender before its deadline."""
    tender = get_tender_for_officer(session, actor, tender_id)
    status = effective_status(tender)
    if status != TenderStatus.PUBLISHED:
        raise Conflict(
            f"Only a published tender can be amended before its deadline; it is {status}."
        )
    reason = data.reason.strip()
    if not reason:
        raise Invalid("Give the reason for the amendment.", field="reason")
    assert tender.clarification_deadline and tender.submission_deadline
    old_clarification = aware(tender.clarification_deadline)
    old_submission = aware(tender.submission_deadline)
    changes: dict[str, Any] = {}
    new_submission = aware(data.submission_deadline) if data.submission_deadline else None
    new_clarification = aware(data.clarification_deadline) if data.clarification_deadline else None
    if new_submission is not None and new_submission != old_submission:
        if new_submission < old_submission:
            raise Invalid(
                "A deadline can only be extended, not brought forward.", field="submission_deadline"
            )
        changes["submission_deadline"] = {
            "from": old_submission.isoformat(),
            "to": new_submission.isoformat(),
        }
    if new_clarification is not None and new_clarification != old_clarification:
        if new_clarification < old_clarification:
            raise Invalid(
                "A deadline can only be extended, not brought forward.",
                field="clarification_deadline",
            )
        changes["clarification_deadline"] = {
            "from": old_clarification.isoformat(),
            "to": new_clarification.isoformat(),
        }
    if data.description is not None and data.description != tender.description:
        changes["description"] = {"from": tender.description, "to": data.description}
    if not changes:
        raise Invalid(
            "An amendment must extend a deadline or change the description.", field="reason"
        )
    _check_deadlines(
        new_clarification or old_clarification,
        new_submission or old_submission,
        changed={k for k in changes if k.endswith("deadline")},
    )
    now = clock.now()
    number = (
        int(
            session.exec(
                select(func.coalesce(func.max(Amendment.number), 0)).where(
                    Amendment.tender_id == tender.id
                )
            ).one()
        )
        + 1
    )
    amendment = Amendment(
        tender_id=tender.id,  # type: ignore[arg-type]
        number=number,
        reason=reason,
        changes=changes,
        created_by_id=actor.id,  # type: ignore[arg-type]
        created_at=now,
    )
    # The deadline check and the update are one statement, so an amendment cannot land after
    # the deadline passed between reading the tender and writing.
    values: dict[str, Any] = {"updated_at": now}
    if "submission_deadline" in changes:
        values["submission_deadline"] = new_submission
    if "clarification_deadline" in changes:
        values["clarification_deadline"] = new_clarification
    if "description" in changes:
        values["description"] = data.description
    if not conditional_update(
        session,
        update(Tender)
        .where(
            col(Tender.id) == tender.id,
            col(Tender.status) == TenderStatus.PUBLISHED,
            col(Tender.submission_deadline) > now,
        )
        .values(**values),
    ):
        raise Conflict("The tender closed before the amendment could be made.")
    session.add(amendment)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("Another amendment was made at the same time; please try again.") from exc
    session.refresh(tender)
    audit.record(
        session,
        actor,
        action="tender.amended",
        object_type="tender",
        object_id=tender.id,
        details={"number": number, "reason": reason, "changes": changes},
    )
    events.tender_amended(session, tender, amendment)
    return amendment
