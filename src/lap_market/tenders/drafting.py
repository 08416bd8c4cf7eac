"""Drafting a tender, publishing it, and amending it once published."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import as_utc, clock, format_london
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, InvalidFields
from lap_market.frameworks import terms as framework_terms
from lap_market.modeling import conditional_update, pk
from lap_market.notifications import events
from lap_market.tenders.models import (
    Amendment,
    LotStatus,
    Tender,
    TenderStatus,
)
from lap_market.tenders.policy import (
    can_amend,
    can_edit,
)
from lap_market.tenders.read import effective_status
from lap_market.tenders.schemas import AmendmentCreate, TenderUpdate
from lap_market.tenders.service import (
    DEADLINES,
    get_tender_for_officer,
    record_tender_event,
    required_text,
    tender_lots,
)

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
