"""The one place that says who hears about what: each service calls one function per event,
in its own transaction, and the function writes the in-app notices and the emails.

Nothing sealed is ever put in a message: no bid price, no quality statement, and no bidder
named to anyone else before the submission deadline. A bid receipt goes only to the bidder
and carries no price. Emails whose recipients tell who bid (receipts; amendments, answers
and reminders, sent to bidders or to everyone but them) are sealed to the tender: admins
see them in the outbox only after its submission deadline.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from lap_market.accounts.models import Organisation, Role, User
from lap_market.clock import format_london, london_date
from lap_market.contracts.models import Contract
from lap_market.notifications import recipients as who
from lap_market.notifications.dispatch import send, send_many
from lap_market.notifications.kinds import Kind
from lap_market.notifications.messages import london_time, render
from lap_market.tenders import notifications as in_app
from lap_market.tenders.models import Amendment, Award, Lot, Question, Tender


def _id(row: Tender | Lot | Contract | Question) -> int:
    assert row.id is not None
    return int(row.id)


def tender_published(session: Session, tender: Tender) -> None:
    """Boroughs whose demand it holds, and providers offering any of its categories."""
    tender_id = _id(tender)
    boroughs = who.borough_ids_in(session, tender_id=tender_id)
    deadline = tender.submission_deadline
    due = f": bids are due by {format_london(deadline)}" if deadline else ""
    in_app.notify(session, boroughs, tender_id=tender_id, kind=Kind.TENDER_PUBLISHED,
                  message=f"{tender.reference} “{tender.title}”, which holds your demand, "
                  "has been published.")
    in_app.notify(session, in_app.provider_org_ids(session), tender_id=tender_id,
                  kind=Kind.OPPORTUNITY,
                  message=f"New opportunity {tender.reference} “{tender.title}”{due}.")
    send(session, render(Kind.TENDER_PUBLISHED, f"/tenders/{tender_id}", tender=tender),
         who.people(session, boroughs, Role.BOROUGH_MANAGER))
    offering = who.offering_org_ids(session, who.tender_category_ids(session, tender_id))
    send(session, render(Kind.OPPORTUNITY, f"/opportunities/{tender_id}", tender=tender),
         who.people(session, offering, Role.PROVIDER))


def tender_amended(session: Session, tender: Tender, amendment: Amendment) -> None:
    """Bidders and askers in-app; by email every provider the tender concerns."""
    tender_id = _id(tender)
    in_app.notify(session, who.bidder_org_ids(session, tender_id) | who.asker_org_ids(
        session, tender_id), tender_id=tender_id, kind=Kind.AMENDMENT,
        message=f"Amendment {amendment.number} to {tender.reference}: {amendment.reason}")
    changes = amendment.changes or {}
    message = render(
        Kind.AMENDMENT, f"/opportunities/{tender_id}", tender=tender, amendment=amendment,
        deadline_changed="submission_deadline" in changes,
        clarification_changed="clarification_deadline" in changes,
        description_changed="description" in changes,
    )
    # Bidders are among the recipients, so before the deadline the list itself says who bid.
    send(session, message,
         who.people(session, who.interested_provider_ids(session, tender_id), Role.PROVIDER),
         sealed_tender_id=tender_id)


def question_asked(session: Session, tender: Tender, question: Question) -> None:
    """Officers, who answer it (the asker is not named)."""
    officers = who.officers(session)
    tender_id = _id(tender)
    in_app.notify(session, {u.organisation_id for u in officers}, tender_id=tender_id,
                  kind=Kind.QUESTION_ASKED,
                  message=f"A provider asked a clarification question on {tender.reference}.")
    send(session, render(Kind.QUESTION_ASKED, f"/tenders/{tender_id}#questions", tender=tender,
                         question=question), officers)


def question_answered(session: Session, tender: Tender, question: Question) -> None:
    """Askers and bidders in-app; by email every provider the tender concerns."""
    tender_id = _id(tender)
    in_app.notify(session, who.asker_org_ids(session, tender_id) | who.bidder_org_ids(
        session, tender_id), tender_id=tender_id, kind=Kind.ANSWER,
        message=f"A clarification question on {tender.reference} has been answered.")
    send(session, render(Kind.ANSWER, f"/opportunities/{tender_id}#questions", tender=tender,
                         question=question),
         who.people(session, who.interested_provider_ids(session, tender_id), Role.PROVIDER),
         sealed_tender_id=tender_id)  # bidders among them: sealed as for amendments


def bid_received(session: Session, tender: Tender, lot: Lot, *, provider_id: int,
                 received_at: datetime, replaced: bool) -> None:
    """A receipt to the bidder alone: when, which lot; never the price or statement."""
    tender_id = _id(tender)
    in_app.notify(session, {provider_id}, tender_id=tender_id, kind=Kind.BID_RECEIPT,
                  message=f"Your bid for lot {lot.number} of {tender.reference} was received "
                  f"at {london_time(received_at)}.")
    send(session, render(Kind.BID_RECEIPT, f"/opportunities/{tender_id}", tender=tender, lot=lot,
                         received_at=received_at, replaced=replaced),
         who.people(session, {provider_id}, Role.PROVIDER), sealed_tender_id=tender_id)


def lot_awarded(session: Session, tender: Tender, lot: Lot, award: Award,
                bidder_ids: Iterable[int]) -> None:
    """The winner, every other bidder, and every borough with demand in the lot."""
    tender_id, lot_id = _id(tender), _id(lot)
    # A standstill of 0 working days ends on the award's own day: there is none.
    no_standstill = award.standstill_ends <= london_date(award.awarded_at)
    ends = ("There is no standstill period." if no_standstill
            else f"The standstill period ends on {award.standstill_ends:%-d %b %Y}.")
    losers = set(bidder_ids) - {award.supplier_id}
    boroughs = who.borough_ids_in(session, tender_id=tender_id, lot_id=lot_id)
    supplier = session.get(Organisation, award.supplier_id)
    supplier_name = supplier.name if supplier else "the chosen supplier"
    in_app.notify(session, {award.supplier_id}, tender_id=tender_id, kind=Kind.AWARD,
                  message=f"Lot {lot.number} of {tender.reference} is to be awarded to you. "
                  f"{ends}")
    in_app.notify(session, losers, tender_id=tender_id, kind=Kind.AWARD,
                  message=f"Your bid for lot {lot.number} of {tender.reference} was not "
                  f"successful. {ends}")
    in_app.notify(session, boroughs, tender_id=tender_id, kind=Kind.AWARD,
                  message=f"Lot {lot.number} of {tender.reference}, which holds your demand, "
                  f"is to be awarded to {supplier_name}. {ends}")
    common: dict[str, Any] = {"tender": tender, "lot": lot, "no_standstill": no_standstill,
                              "standstill_ends": award.standstill_ends}
    link = f"/opportunities/{tender_id}"
    send(session, render(Kind.AWARD, link, headline="awarded to you",
                         sentence="Your bid has been chosen: the lot is to be awarded to you.",
                         **common), who.people(session, {award.supplier_id}, Role.PROVIDER))
    send(session, render(Kind.AWARD, link, headline="your bid was not successful",
                         sentence="Your bid was not successful: the lot is to be awarded to "
                         "another provider.", **common),
         who.people(session, losers, Role.PROVIDER))
    send(session, render(Kind.AWARD, f"/tenders/{tender_id}", headline="awarded",
                         sentence=f"The lot, which holds your demand, is to be awarded to "
                         f"{supplier_name}.", **common),
         who.people(session, boroughs, Role.BOROUGH_MANAGER))


def lot_unsuccessful(session: Session, tender: Tender, lot: Lot, reason: str) -> None:
    """Boroughs with demand in a lot closed as unsuccessful (it drew no bids)."""
    tender_id = _id(tender)
    boroughs = who.borough_ids_in(session, tender_id=tender_id, lot_id=_id(lot))
    in_app.notify(session, boroughs, tender_id=tender_id, kind=Kind.LOT_UNSUCCESSFUL,
                  message=f"Lot {lot.number} of {tender.reference} was unsuccessful: {reason} "
                  "Your needs in it are back with you as submitted, free to be tendered again.")
    send(session, render(Kind.LOT_UNSUCCESSFUL, f"/tenders/{tender_id}", tender=tender, lot=lot,
                         reason=reason),
         who.people(session, boroughs, Role.BOROUGH_MANAGER))


def demand_returned(
    session: Session, tender: Tender, borough_ids: set[int], *, kind: str, message: str
) -> None:
    """Boroughs whose needs were in a cancelled tender or lot: the needs are back with them
    as submitted, free to be tendered again."""
    in_app.notify(session, borough_ids, tender_id=_id(tender), kind=kind, message=message)


def standstill_ended(session: Session, tender: Tender, lot: Lot, award: Award) -> None:
    """Officers: the lot's call-offs may now be issued."""
    officers = who.officers(session)
    tender_id = _id(tender)
    in_app.notify(session, {u.organisation_id for u in officers}, tender_id=tender_id,
                  kind=Kind.STANDSTILL_ENDED,
                  message=f"The standstill for lot {lot.number} of {tender.reference} has ended: "
                  "its call-offs can be issued.")
    send(session, render(Kind.STANDSTILL_ENDED, f"/tenders/{tender_id}/lots/{_id(lot)}/call-offs",
                         tender=tender, lot=lot, standstill_ends=award.standstill_ends),
         officers, key=f"standstill:{award.id}")


def call_offs_issued(session: Session, contracts: list[Contract]) -> None:
    """Both parties: each borough about its call-off, the supplier once about them all (a
    lot may hold hundreds), with recipients and choices loaded in a fixed number of queries."""
    if not contracts:
        return
    buyers = who.people_by_org(session, {c.buyer_id for c in contracts}, Role.BOROUGH_MANAGER)
    for contract in contracts:
        in_app.notify(session, {contract.buyer_id}, tender_id=contract.tender_id,
                      kind=Kind.CONTRACT_ISSUED, message=f"Contract {contract.reference} has "
                      "been issued: please read and accept it.")
    sends = [(render(Kind.CONTRACT_ISSUED, f"/contracts/{_id(c)}", contract=c),
              buyers.get(c.buyer_id, []), f"contract_issued:{_id(c)}") for c in contracts]
    send_many(session, sends)
    first = contracts[0]
    supplier_ids = {c.supplier_id for c in contracts}
    assert len(supplier_ids) == 1, "one lot's call-offs have one supplier"
    in_app.notify(session, supplier_ids, tender_id=first.tender_id, kind=Kind.CONTRACT_ISSUED,
                  message=f"{len(contracts)} contract(s) issued to you, {first.reference} "
                  "onwards: please read and accept them.")
    send(session, render(Kind.CONTRACT_ISSUED, "/contracts?status=issued",
                         template="contracts_issued_supplier", contracts=contracts),
         who.people(session, supplier_ids, Role.PROVIDER),
         key=f"contracts_issued:{'-'.join(str(_id(c)) for c in contracts[:5])}")


def acceptance_outstanding(session: Session, contract: Contract, side: str) -> None:
    """The party (``buyer`` or ``supplier``) that has not accepted after 5 working days."""
    org_id = contract.buyer_id if side == "buyer" else contract.supplier_id
    role = Role.BOROUGH_MANAGER if side == "buyer" else Role.PROVIDER
    in_app.notify(session, {org_id}, tender_id=contract.tender_id,
                  kind=Kind.ACCEPTANCE_OUTSTANDING,
                  message=f"Contract {contract.reference} is waiting for your acceptance.")
    send(session, render(Kind.ACCEPTANCE_OUTSTANDING, f"/contracts/{_id(contract)}",
                         contract=contract), who.people(session, {org_id}, role),
         key=f"acceptance:{contract.id}:{side}")


def account_changed(session: Session, user: User, changes: dict[str, object]) -> None:
    """The person whose role or access an admin changed (account security: always sent,
    even to a deactivated account, so its owner learns of it)."""
    lines = []
    if "role" in changes:
        lines.append(f"Your role is now {str(changes['role']).replace('_', ' ')}.")
    if "is_active" in changes:
        lines.append("Your account has been reactivated." if changes["is_active"]
                     else "Your account has been deactivated: you can no longer sign in.")
    if lines:
        send(session, render(Kind.ACCOUNT_SECURITY, "/account/notifications", user=user,
                             changes=lines), [user], now_only=True)
