"""Who hears about what under a framework: one function per event, in-app and by email."""

from collections.abc import Iterable, Sequence

from sqlmodel import Session

from lap_market.accounts.models import Organisation, Role
from lap_market.clock import format_london
from lap_market.frameworks.models import CallOffOffer, CallOffRequest, Framework
from lap_market.notifications import recipients as who
from lap_market.notifications.dispatch import send
from lap_market.notifications.kinds import Kind
from lap_market.notifications.messages import render
from lap_market.tenders.models import Award, Lot, Tender
from lap_market.tenders.notifications import notify


def _tell(session: Session, organisation_ids: Iterable[int], role: Role, *, reference: str,
          headline: str, message: str, link: str, tender_id: int | None = None) -> None:
    ids = set(organisation_ids)
    notify(session, ids, tender_id=tender_id, kind=Kind.FRAMEWORK, message=message)
    send(session, render(Kind.FRAMEWORK, link, reference=reference, headline=headline,
                         message=message), who.people(session, ids, role))


def _name(session: Session, organisation_id: int) -> str:
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation else "a supplier"


def lot_awarded(session: Session, tender: Tender, lot: Lot, awards: Sequence[Award]) -> None:
    """Each member its rank; every other bidder; the boroughs with demand in the lot."""
    assert tender.id is not None and lot.id is not None
    ends = f"The standstill period ends on {awards[0].standstill_ends:%-d %b %Y}."
    for rank, award in enumerate(awards, start=1):
        _tell(session, {award.supplier_id}, Role.PROVIDER, reference=tender.reference,
              headline="framework place", tender_id=tender.id, link=f"/opportunities/{tender.id}",
              message=f"You are to be appointed to lot {lot.number} of framework "
              f"{tender.reference}, ranked {rank} of {len(awards)}. {ends}")
    members = {a.supplier_id for a in awards}
    others = who.bidder_org_ids(session, tender.id, lot.id) - members
    _tell(session, others, Role.PROVIDER, reference=tender.reference, headline="not appointed",
          tender_id=tender.id, link=f"/opportunities/{tender.id}",
          message=f"Your bid for lot {lot.number} of framework {tender.reference} was not "
          f"successful. {ends}")
    names = ", ".join(_name(session, a.supplier_id) for a in awards)
    _tell(session, who.borough_ids_in(session, tender_id=tender.id, lot_id=lot.id),
          Role.BOROUGH_MANAGER, reference=tender.reference, headline="framework lot awarded",
          tender_id=tender.id, link=f"/tenders/{tender.id}",
          message=f"Lot {lot.number} of framework {tender.reference} is to be awarded to "
          f"{names}, in that order. {ends}")


def offer_made(session: Session, framework: Framework, offer: CallOffOffer) -> None:
    _tell(session, {offer.supplier_id}, Role.PROVIDER, reference=framework.reference,
          headline="call-off offered to you", link=f"/call-off-offers/{offer.public_id}",
          message=f"A call-off under framework {framework.reference} is offered to you at "
          f"your framework price. Accept or decline by {format_london(offer.expires_at)}.")


def offer_passed_on(session: Session, framework: Framework, request: CallOffRequest,
                    offer: CallOffOffer) -> None:
    """The borough hears that a member declined or let the offer lapse."""
    what = "declined" if offer.status == "declined" else "did not answer in time"
    _tell(session, {request.borough_id}, Role.BOROUGH_MANAGER, reference=framework.reference,
          headline="call-off passed on", link=f"/framework-call-offs/{request.id}",
          message=f"{_name(session, offer.supplier_id)} {what}: your call-off under "
          f"{framework.reference} goes to the next supplier on the framework.")


def no_supplier(session: Session, framework: Framework, request: CallOffRequest) -> None:
    _tell(session, {request.borough_id}, Role.BOROUGH_MANAGER, reference=framework.reference,
          headline="no supplier", link=f"/framework-call-offs/{request.id}",
          message=f"No supplier on framework {framework.reference} took your call-off: every "
          "member declined, did not answer or did not bid. You may buy another way.")


def called_off(session: Session, framework: Framework, request: CallOffRequest,
               supplier_id: int, contract_reference: str) -> None:
    _tell(session, {request.borough_id}, Role.BOROUGH_MANAGER, reference=framework.reference,
          headline="contract issued", link=f"/framework-call-offs/{request.id}",
          message=f"{_name(session, supplier_id)} takes your call-off under "
          f"{framework.reference}: contract {contract_reference} is issued for acceptance.")


def competition_opened(session: Session, framework: Framework, request: CallOffRequest,
                       member_ids: Iterable[int]) -> None:
    deadline = format_london(request.submission_deadline) if request.submission_deadline else ""
    _tell(session, member_ids, Role.PROVIDER, reference=framework.reference,
          headline="further competition", link=f"/framework-call-offs/{request.id}",
          message=f"A further competition under framework {framework.reference} is open to "
          f"the lot's members: bids are due by {deadline}.")
