"""The confirmation pages an officer passes before an irreversible step (publish, award,
revoke, cancel a lot or the tender), and the receipts shown after. Each page says what will
happen and to whom, asks for what the step needs (a reason), and posts to the step's route;
they work without JavaScript."""

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from lap_market.accounts.models import Organisation, User
from lap_market.clock import format_london
from lap_market.config import Settings
from lap_market.money import format_gbp, from_pence
from lap_market.templating import render
from lap_market.tenders import awards, evaluation, service
from lap_market.tenders.models import Award, Lot, LotStatus, Tender
from lap_market.tenders.policy import can_cancel, can_edit, can_revoke
from lap_market.tenders.read import effective_status
from lap_market.tenders.web_forms import lot_label
from lap_market.web.actions import Errors, Form
from lap_market.web.deps import WebCall


@dataclass
class Confirmation:
    """What a confirmation page shows: the facts, the consequences, and the one button."""

    tender: Tender
    heading: str
    action: str
    button: str
    facts: list[tuple[str, str]]
    consequences: list[str]
    reason_label: str | None = None
    reason_hint: str | None = None
    hidden: dict[str, str] = field(default_factory=dict)
    warning: bool = False


def _show(
    request: Request, page: Confirmation, errors: Errors | None, form: Form | None
) -> Response:
    return render(request, "tenders/pages/confirm.html", {
        "page": page,
        "tender": page.tender,
        "errors": errors or {},
        "form": form or {},
        "labels": {"reason": "Reason", "bid_id": "Bid"},
    })


def _back(tender: Tender, anchor: str = "") -> Response:
    return RedirectResponse(f"/tenders/{tender.id}{anchor}", status_code=303)


def _gone(errors: Errors | None) -> bool:
    """Whether a step no longer applies and the page should send the officer back; a refused
    post is shown here with its error even so (it says why: "already cancelled")."""
    return errors is None


def lot_of(session: Session, user: User, tender_id: int, lot_id: int) -> Lot:
    """A lot of a tender ``user`` may see (404 otherwise)."""
    return service.get_lot(session, service.get_tender(session, user, tender_id), lot_id)


def _org_name(session: Session, organisation_id: int) -> str:
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation else "the supplier"


def _lots_line(lots: list[Lot]) -> str:
    live = [lot for lot in lots if lot.status != LotStatus.CANCELLED]
    return "; ".join(lot_label(lot) for lot in live) or "none"


# --- publish --------------------------------------------------------------------------------


def publish_page(call: WebCall, tender_id: int) -> Response:
    """Publishing: who is told, until when they may bid, and that edits become amendments."""
    request, session, user = call.request, call.session, call.user
    tender = service.get_tender_for_officer(session, user, tender_id)
    if not can_edit(tender):
        return _back(tender)
    lots = service.tender_lots(session, tender)
    submission = format_london(tender.submission_deadline) if tender.submission_deadline else "—"
    clarification = (
        format_london(tender.clarification_deadline) if tender.clarification_deadline else "—"
    )
    return _show(request, Confirmation(
        tender=tender,
        heading=f"Publish {tender.reference}?",
        action=f"/tenders/{tender.id}/publish",
        button=f"Yes, publish {tender.reference}",
        facts=[
            ("Title", tender.title),
            ("Lots", _lots_line(lots)),
            ("Weights", f"Price {tender.price_weight}%, quality {tender.quality_weight}%"),
            ("Questions by", clarification),
            ("Bids due by", submission),
        ],
        consequences=[
            "Every provider is told about the tender and may bid until " + submission + ".",
            "Providers may ask questions until " + clarification + "; your answers are "
            "published to all of them.",
            "The details can no longer be edited: any later change is an amendment, which "
            "every provider is told about.",
            "Bids stay sealed until the submission deadline.",
        ],
    ), None, None)


# --- award and revoke -----------------------------------------------------------------------


def _standstill_line(settings: Settings) -> str:
    days = settings.standstill_working_days
    if not days:
        return ("There is no standstill period: call-off contracts can be issued at once, and "
                "the award cannot be revoked.")
    ends = awards.standstill_end_if_awarded_today(settings)
    return (f"The standstill period ends on {ends:%-d %B %Y} ({days} working day"
            f"{'s' if days != 1 else ''}, weekends and England and Wales bank holidays "
            "excluded); until then the award may be revoked.")


def award_page(
    call: WebCall, tender_id: int, lot_id: int, *, form: Form, errors: Errors | None = None
) -> Response:
    """Awarding: to whom, at what price, its rank, the standstill; a reason when not first."""
    request, session, user = call.request, call.session, call.user
    tender = service.get_tender_for_officer(session, user, tender_id)
    lot = service.get_lot(session, tender, lot_id)
    rows = evaluation.evaluate_lot(session, user, tender_id, lot_id)
    chosen = next((r for r in rows if r.bid_id == form.get("bid_id")), None)
    if (chosen is None or lot.status != LotStatus.OPEN) and _gone(errors):
        return _back(tender, f"#lot-{lot_id}")
    if chosen is None:
        return _show(request, Confirmation(
            tender=tender, heading=f"Award lot {lot.number}", facts=[("Lot", lot_label(lot))],
            action=f"/tenders/{tender.id}/lots/{lot.id}/award", button=f"Award lot {lot.number}",
            consequences=["Choose the bid to award on the tender's page."],
        ), errors, form)
    first = next((r for r in rows if r.rank == 1), None)
    not_first = chosen.rank != 1
    total = "not scored" if chosen.total_score is None else f"total score {chosen.total_score}"
    page = Confirmation(
        tender=tender,
        heading=f"Award lot {lot.number} to {chosen.provider}?",
        action=f"/tenders/{tender.id}/lots/{lot.id}/award",
        button=f"Yes, award lot {lot.number} to {chosen.provider}",
        facts=[
            ("Lot", lot_label(lot)),
            ("Supplier", chosen.provider),
            ("Unit price", f"{format_gbp(chosen.unit_price)} per unit, ex VAT"),
            ("Rank", f"{chosen.rank or 'unranked'} of {len(rows)} ({total})"),
        ],
        consequences=[
            f"{chosen.provider} is told it is to be awarded lot {lot.number}; the other "
            "bidders are told they were not successful.",
            _standstill_line(call.settings),
        ],
        hidden={"bid_id": chosen.bid_id},
        warning=not_first,
    )
    if not_first:
        page.reason_label = (
            f"Why award to {chosen.provider} rather than "
            f"{first.provider if first else 'the top-ranked bid'}?"
        )
        page.reason_hint = ("This bid is not ranked first, so a reason is required. It is "
                            "kept in the audit log.")
    return _show(request, page, errors, form)


def award_receipt(session: Session, award: Award) -> str:
    """What the officer reads once the award is made."""
    lot = session.get(Lot, award.lot_id)
    assert lot is not None
    return (
        f"{lot_label(lot)} was awarded to {_org_name(session, award.supplier_id)} at "
        f"{format_gbp(from_pence(award.unit_price_pence))} per unit, at "
        f"{format_london(award.awarded_at)}. Standstill ends on "
        f"{award.standstill_ends:%-d %B %Y}. The bidders have been told."
    )


def revoke_page(
    call: WebCall, award_id: int, errors: Errors | None = None, form: Form | None = None
) -> Response:
    """Revoking: the lot reopens for evaluation, scores kept, bidders told."""
    request, session, user = call.request, call.session, call.user
    award = awards.get_award(session, user, award_id)
    tender = service.get_tender_for_officer(session, user, award.tender_id)
    lot = service.get_lot(session, tender, award.lot_id)
    if not can_revoke(award) and _gone(errors):
        return _back(tender, f"#lot-{lot.id}")
    supplier = _org_name(session, award.supplier_id)
    return _show(request, Confirmation(
        tender=tender,
        heading=f"Revoke the award of lot {lot.number}?",
        action=f"/awards/{award.id}/revoke",
        button=f"Yes, revoke the award of lot {lot.number}",
        facts=[
            ("Lot", lot_label(lot)),
            ("Awarded to", supplier),
            ("Unit price", f"{format_gbp(from_pence(award.unit_price_pence))} per unit"),
            ("Standstill ends", f"{award.standstill_ends:%-d %B %Y}"),
        ],
        consequences=[
            f"The award to {supplier} is withdrawn and lot {lot.number} is open for "
            "evaluation again; the scores are kept.",
            "Every bidder for the lot is told, with your reason.",
        ],
        reason_label="Why is the award being revoked?",
        warning=True,
    ), errors, form)


def revoke_receipt(session: Session, award: Award) -> str:
    lot = session.get(Lot, award.lot_id)
    assert lot is not None and award.revoked_at is not None
    return (
        f"The award of {lot_label(lot)} to {_org_name(session, award.supplier_id)} was revoked "
        f"at {format_london(award.revoked_at)}. Lot {lot.number} is open for evaluation again; "
        "the bidders have been told."
    )


# --- cancel -----------------------------------------------------------------------------------


def cancel_lot_page(
    call: WebCall, tender_id: int, lot_id: int,
    errors: Errors | None = None, form: Form | None = None,
) -> Response:
    """Cancelling one lot: bidders told, its needs back with the boroughs."""
    request, session, user = call.request, call.session, call.user
    tender = service.get_tender_for_officer(session, user, tender_id)
    lot = service.get_lot(session, tender, lot_id)
    if _gone(errors) and (lot.status != LotStatus.OPEN or not can_cancel(tender)):
        return _back(tender, "#lots")
    return _show(request, Confirmation(
        tender=tender,
        heading=f"Cancel lot {lot.number}?",
        action=f"/tenders/{tender.id}/lots/{lot.id}/cancel",
        button=f"Yes, cancel lot {lot.number}",
        facts=[("Tender", f"{tender.reference} {tender.title}"), ("Lot", lot_label(lot))],
        consequences=[
            f"Lot {lot.number} takes no more bids, and any bidders for it are told, with your "
            "reason.",
            "The boroughs' needs in it go back to them as submitted, free to be tendered "
            "again; they are told.",
            "This cannot be undone.",
        ],
        reason_label=f"Why is lot {lot.number} being cancelled?",
        warning=True,
    ), errors, form)


def cancel_tender_page(
    call: WebCall, tender_id: int, errors: Errors | None = None, form: Form | None = None
) -> Response:
    """Cancelling the whole tender: everyone told, every need back with its borough."""
    request, session, user = call.request, call.session, call.user
    tender = service.get_tender_for_officer(session, user, tender_id)
    awarded = bool(awards.lot_awards(session, tender))
    if (not can_cancel(tender) or awarded) and _gone(errors):
        return _back(tender)
    facts: list[tuple[str, Any]] = [
        ("Tender", f"{tender.reference} {tender.title}"),
        ("Lots", _lots_line(service.tender_lots(session, tender))),
        ("Status", effective_status(tender)),
    ]
    return _show(request, Confirmation(
        tender=tender,
        heading=f"Cancel {tender.reference}?",
        action=f"/tenders/{tender.id}/cancel",
        button=f"Yes, cancel {tender.reference}",
        facts=facts,
        consequences=[
            "Every lot is cancelled and no more bids are taken.",
            "Providers who bid or asked a question are told, with your reason.",
            "The boroughs' needs go back to them as submitted, free to be tendered again; "
            "they are told.",
            "This cannot be undone.",
        ],
        reason_label="Why is the tender being cancelled?",
        warning=True,
    ), errors, form)
