"""Running a tender: edit, publish, amend, close. Cancelling, bids, questions and awards live
in their own modules; all of them share the loading and state helpers here."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock, format_london
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, InvalidFields, NotFound
from lap_market.frameworks import terms as framework_terms
from lap_market.modeling import conditional_update, pk
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
from lap_market.tenders.policy import (
    can_amend,
    can_edit,
    can_see_tender,
    oversees_bids,
    require_officer,
    visible_tenders,
)
from lap_market.tenders.read import effective_status, effective_status_column, tender_reads
from lap_market.tenders.schemas import AmendmentCreate, TenderRead, TenderUpdate

SETTLED_LOT_STATUSES = frozenset({LotStatus.AWARDED, LotStatus.UNSUCCESSFUL, LotStatus.CONTRACTED})
DEADLINES = ("clarification_deadline", "submission_deadline")


# --- shared helpers ----------------------------------------------------------------------


def required_text(value: str | None, *, field: str, message: str) -> str:
    """``value`` without surrounding blanks, refused with ``message`` beside ``field`` if that
    leaves nothing (a reason, a question, an answer, a quality statement)."""
    text = (value or "").strip()
    if not text:
        raise Invalid(message, field=field)
    return text


def record_tender_event(
    session: Session, actor: User | None, tender: Tender, action: str, **details: Any
) -> None:
    """Audit ``action`` on ``tender``, its reference first among the details."""
    audit.record(
        session,
        actor,
        action=action,
        object_type="tender",
        object_id=tender.id,
        details={"reference": tender.reference, **details},
    )


def record_lot_event(
    session: Session, actor: User, lot: Lot, action: str, **details: Any
) -> None:
    """Audit ``action`` on ``lot``, its tender's id first among the details."""
    audit.record(
        session,
        actor,
        action=action,
        object_type="lot",
        object_id=lot.id,
        details={"tender_id": lot.tender_id, **details},
    )


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


def get_officer_lot(
    session: Session, actor: User, tender_id: int, lot_id: int
) -> tuple[Tender, Lot]:
    """The tender and one of its lots, for an officer's action on the lot."""
    tender = get_tender_for_officer(session, actor, tender_id)
    return tender, get_lot(session, tender, lot_id)


def tender_lots(session: Session, tender: Tender) -> list[Lot]:
    """The tender's lots in number order, read afresh (services change lots by UPDATE)."""
    return list(
        session.exec(select(Lot).where(Lot.tender_id == tender.id).order_by(col(Lot.number))).all()
    )


def move_open_lot(session: Session, lot: Lot, status: LotStatus, **values: Any) -> bool:
    """Move an open lot to ``status`` (setting ``values``) in one conditional statement, so
    of two officers acting on it at once exactly one wins; False if it was no longer open.
    The lot is refreshed when it moved."""
    moved = conditional_update(
        session,
        update(Lot)
        .where(col(Lot.id) == lot.id, col(Lot.status) == LotStatus.OPEN)
        .values(status=status, **values),
    )
    if moved:
        session.refresh(lot)
    return bool(moved)


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
        record_tender_event(
            session, None, tender, "tender.closed", submission_deadline=tender.submission_deadline
        )


def bid_counts_by_lot(session: Session, tender_ids: list[int]) -> dict[int, int]:
    """Active bids per lot of these tenders: the only thing about bids anyone sees before the
    deadline."""
    if not tender_ids:
        return {}
    rows = session.exec(
        select(Bid.lot_id, func.count())
        .where(col(Bid.tender_id).in_(tender_ids), Bid.status == BidStatus.ACTIVE)
        .group_by(col(Bid.lot_id))
    ).all()
    return {lot_id: int(count) for lot_id, count in rows}


def bid_counts(session: Session, tender: Tender) -> dict[int, int]:
    """Active bids per lot of one tender."""
    return bid_counts_by_lot(session, [pk(tender)])


def _settled_status(tender: Tender, lots: list[Lot]) -> str:
    """The status the live lots imply: cancelled when none is left, awarded when each is
    settled, closed again when an award was revoked; otherwise the tender's own."""
    if not lots:
        return TenderStatus.CANCELLED
    if all(lot.status in SETTLED_LOT_STATUSES for lot in lots):
        if tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED):
            return TenderStatus.AWARDED
        return tender.status
    if tender.status == TenderStatus.AWARDED:
        return TenderStatus.CLOSED
    return tender.status


def settle_tender(session: Session, tender: Tender) -> None:
    """A tender is awarded once every live lot is awarded or unsuccessful; an award revoked
    sends it back to closed; a tender whose every lot is cancelled is cancelled."""
    lots = [lot for lot in tender_lots(session, tender) if lot.status != LotStatus.CANCELLED]
    status = _settled_status(tender, lots)
    if status == tender.status:
        return
    now = clock.now()
    tender.status = status
    if status == TenderStatus.CANCELLED:
        tender.cancelled_at = now
        tender.cancel_reason = tender.cancel_reason or "Every lot was cancelled."
        record_tender_event(session, None, tender, "tender.cancelled", reason=tender.cancel_reason)
    elif status == TenderStatus.AWARDED:
        record_tender_event(session, None, tender, "tender.awarded")
    else:
        record_tender_event(session, None, tender, "tender.reopened", status=TenderStatus.CLOSED)
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
    if oversees_bids(actor):
        counts = bid_counts_by_lot(session, [pk(t) for t in tenders])
        for read in reads:
            for lot in read.lots:
                lot.bid_count = counts.get(lot.id, 0)
    return reads


# --- draft and publish ----------------------------------------------------------------------

DRAFT_FIELDS = (
    "title", "description", "price_weight", "quality_weight",
    "clarification_deadline", "submission_deadline",
)
DEADLINE_NAMES = {
    "clarification_deadline": "clarification deadline",
    "submission_deadline": "submission deadline",
}


def detail_problems(fields: dict[str, Any], *, changed: set[str]) -> dict[str, str]:
    """What is wrong with a draft's details (title, weights, deadlines), every field at once.
    Deadlines not ``changed`` may already be past: only what was typed is judged."""
    problems: dict[str, str] = {}
    if not (fields.get("title") or "").strip():
        problems["title"] = "Enter a title."
    price, quality = fields.get("price_weight"), fields.get("quality_weight")
    if price is None or quality is None or price + quality != 100:
        problems["price_weight"] = (
            f"The price and quality weights must add up to 100 (they add up to "
            f"{(price or 0) + (quality or 0)})."
        )
    now = clock.now()
    for name, label in DEADLINE_NAMES.items():
        value = fields.get(name)
        if value is not None and name in changed and as_utc(value) <= now:
            problems[name] = f"The {label} must be in the future."
    clarification, submission = fields.get("clarification_deadline"), fields.get(
        "submission_deadline"
    )
    if clarification and submission and as_utc(clarification) >= as_utc(submission):
        problems.setdefault(
            "clarification_deadline",
            "The clarification deadline must be before the submission deadline.",
        )
    return problems


def publication_problems(
    fields: dict[str, Any], *, lot_count: int, min_days: int
) -> dict[str, str]:
    """Everything that stops a draft with these details being published now, by field."""
    problems: dict[str, str] = {}
    if not lot_count:
        problems["lots"] = "A tender needs at least one lot before it can be published."
    problems.update(detail_problems(fields, changed=set(DEADLINE_NAMES)))
    for name, label in DEADLINE_NAMES.items():
        if fields.get(name) is None:
            problems.setdefault(name, f"Set the {label} before publishing.")
    submission = fields.get("submission_deadline")
    earliest = clock.now() + timedelta(days=min_days)
    if submission is not None and "submission_deadline" not in problems and (
        as_utc(submission) < earliest
    ):
        problems["submission_deadline"] = (
            f"The submission deadline must be at least {min_days} days after publication, so "
            f"providers have time to bid: {format_london(earliest)} or later."
        )
    return problems


def save_draft(
    session: Session,
    actor: User,
    tender_id: int,
    *,
    data: TenderUpdate,
    publishing: bool = False,
    settings: Settings,
) -> Tender:
    """Save a draft's details from the workspace form, refusing every problem at once; when
    ``publishing``, also everything that would stop it being published (it is not published
    here: the officer confirms that next)."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if tender.status != TenderStatus.DRAFT:
        raise Conflict("Only a draft tender can be edited; amend a published one instead.")
    given = data.model_dump(exclude_unset=True)
    fields = {name: getattr(tender, name) for name in DRAFT_FIELDS} | given
    if publishing:
        lots = [lot for lot in tender_lots(session, tender) if lot.status == LotStatus.OPEN]
        problems = publication_problems(
            fields, lot_count=len(lots), min_days=settings.min_tender_days
        )
    else:
        problems = detail_problems(fields, changed=set(given))
    if problems:
        raise InvalidFields(problems)
    return update_tender(session, actor, tender_id, data=data)


def _check_deadlines(
    clarification: datetime | None, submission: datetime | None, *, changed: set[str]
) -> None:
    now = clock.now()
    for name, value in zip(DEADLINES, (clarification, submission), strict=True):
        if value is not None and name in changed and value <= now:
            raise Invalid(f"The {name.replace('_', ' ')} must be in the future.", field=name)
    if clarification is not None and submission is not None and clarification >= submission:
        raise Invalid(
            "The clarification deadline must be before the submission deadline.",
            field="clarification_deadline",
        )


def _check_weights(price: int | None, quality: int | None) -> None:
    if price is None or quality is None or price + quality != 100:
        raise Invalid(
            f"The price and quality weights must add up to 100 (they add up to "
            f"{(price or 0) + (quality or 0)}).",
            field="price_weight",
        )


def _draft_edits(tender: Tender, data: TenderUpdate) -> dict[str, Any]:
    """The fields ``data`` sets, checked against the draft's other values."""
    given = data.model_dump(exclude_unset=True)
    if "title" in given:
        if given["title"] is None:
            raise Invalid("The title cannot be empty.", field="title")
        given["title"] = required_text(given["title"], field="title", message="Enter a title.")
    _check_weights(
        given.get("price_weight", tender.price_weight),
        given.get("quality_weight", tender.quality_weight),
    )
    for name in DEADLINES:
        if given.get(name) is not None:
            given[name] = as_utc(given[name])
    clarification = given.get("clarification_deadline", tender.clarification_deadline)
    submission = given.get("submission_deadline", tender.submission_deadline)
    _check_deadlines(
        as_utc(clarification) if clarification else None,
        as_utc(submission) if submission else None,
        changed=set(given),
    )
    return given


def update_tender(session: Session, actor: User, tender_id: int, *, data: TenderUpdate) -> Tender:
    """Edit a draft's title, description, weights and deadlines."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if not can_edit(tender):
        raise Conflict("Only a draft tender can be edited; amend a published one instead.")
    changes: dict[str, Any] = framework_terms.apply(tender, data, clock.today())
    for name, value in _draft_edits(tender, data).items():
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


def publish_tender(
    session: Session, actor: User, tender_id: int, *, settings: Settings
) -> Tender:
    """Publish a complete draft: at least one lot, weights adding to 100, future deadlines and
    a submission deadline at least ``LAP_MIN_TENDER_DAYS`` away; every problem at once."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if not can_edit(tender):
        raise Conflict(f"This tender is {effective_status(tender)}, not a draft.")
    lots = [lot for lot in tender_lots(session, tender) if lot.status == LotStatus.OPEN]
    fields = {name: getattr(tender, name) for name in DRAFT_FIELDS}
    problems = publication_problems(
        fields, lot_count=len(lots), min_days=settings.min_tender_days
    )
    if problems:
        raise InvalidFields(problems)
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
    record_tender_event(
        session,
        actor,
        tender,
        "tender.published",
        lots=len(lots),
        submission_deadline=tender.submission_deadline,
    )
    events.tender_published(session, tender)
    return tender


# --- amend ----------------------------------------------------------------------------------


def _new_deadline(tender: Tender, data: AmendmentCreate, name: str) -> datetime:
    """A deadline after the amendment: the one it gives, else the tender's own."""
    value = getattr(data, name) or getattr(tender, name)
    assert value is not None, "a published tender has both deadlines"
    return as_utc(value)


def _amendment_changes(tender: Tender, data: AmendmentCreate) -> dict[str, dict[str, Any]]:
    """What the amendment changes, as ``{field: {"from", "to"}}``: deadlines (only ever
    extended) and the description. Refused if it changes nothing."""
    changes: dict[str, dict[str, Any]] = {}
    for name in ("submission_deadline", "clarification_deadline"):
        old, new = as_utc(getattr(tender, name)), _new_deadline(tender, data, name)
        if new != old:
            if new < old:
                raise Invalid("A deadline can only be extended, not brought forward.", field=name)
            changes[name] = {"from": old.isoformat(), "to": new.isoformat()}
    if data.description is not None and data.description != tender.description:
        changes["description"] = {"from": tender.description, "to": data.description}
    if not changes:
        raise Invalid(
            "An amendment must extend a deadline or change the description.", field="reason"
        )
    _check_deadlines(
        _new_deadline(tender, data, "clarification_deadline"),
        _new_deadline(tender, data, "submission_deadline"),
        changed={name for name in changes if name in DEADLINES},
    )
    return changes


def _next_amendment_number(session: Session, tender: Tender) -> int:
    latest = session.exec(
        select(func.coalesce(func.max(Amendment.number), 0)).where(
            Amendment.tender_id == tender.id
        )
    ).one()
    return int(latest) + 1


def _apply_amendment(
    session: Session, tender: Tender, data: AmendmentCreate, changes: dict[str, Any], now: datetime
) -> None:
    """Write the amended fields. The deadline check and the update are one statement, so an
    amendment cannot land after the deadline passed between reading the tender and writing."""
    values: dict[str, Any] = {"updated_at": now}
    for name in changes:
        values[name] = (
            data.description if name == "description" else _new_deadline(tender, data, name)
        )
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


def amend_tender(
    session: Session, actor: User, tender_id: int, *, data: AmendmentCreate
) -> Amendment:
    """Extend deadlines or change the description of a published tender before its deadline."""
    tender = get_tender_for_officer(session, actor, tender_id)
    if not can_amend(tender):
        raise Conflict(
            "Only a published tender can be amended before its deadline; "
            f"it is {effective_status(tender)}."
        )
    reason = required_text(
        data.reason, field="reason", message="Give the reason for the amendment."
    )
    changes = _amendment_changes(tender, data)
    now = clock.now()
    amendment = Amendment(
        tender_id=pk(tender),
        number=_next_amendment_number(session, tender),
        reason=reason,
        changes=changes,
        created_by_id=pk(actor),
        created_at=now,
    )
    _apply_amendment(session, tender, data, changes, now)
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
        details={"number": amendment.number, "reason": reason, "changes": changes},
    )
    events.tender_amended(session, tender, amendment)
    return amendment
